"""Expected-positive regularisation (EPR) and online label estimation (ROLE), Cole et al. (2021)."""

import math
from numbers import Real

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval

from ._base import MissingLabelLoss, PerSampleLoss

__all__ = ["ExpectedPositiveRegularizer", "ROLE"]

_REFERENCE = """E. Cole, O. Mac Aodha, T. Lorieul, P. Perona, D. Morris and N. Jojic,
    "Multi-label learning from single positive labels", CVPR 2021."""

_PRIOR_DOC = """expected_positives : float > 0 or None, default=None
        K, the expected number of positives per sample. None estimates it
        from the training labels: the mean number of observed positives per
        sample of ``y_train`` given to :meth:`setup`, or, without a call to
        ``setup``, the running mean over the training batches seen so far
        (kept in the ``prior`` buffer). With hidden positives the observed
        mean underestimates the true K; set it where the truth is known."""


class _Prior(MissingLabelLoss):
    """The expected number of positives per sample K, fixed or estimated."""

    def _register_prior(self):
        # [sum of observed positives, number of rows, 1 if fixed by setup]
        self.register_buffer("prior", torch.zeros(3, dtype=torch.float32))

    def _setup_prior(self, y_train):
        if y_train is not None:
            y = np.asarray(y_train, dtype=np.float64)
            self.prior.copy_(torch.tensor([y.sum(), y.shape[0], 1.0]))

    def _expected(self, y, training):
        if self.expected_positives is not None:
            return float(self.expected_positives)
        if training and self.prior[2] == 0:
            self.prior[0] += float((y == 1).sum())
            self.prior[1] += y.shape[0]
        if self.prior[1] == 0:  # validation before any training batch
            return float((y == 1).sum()) / max(y.shape[0], 1)
        return float(self.prior[0] / self.prior[1])

    @staticmethod
    def regularizer(p, expected):
        """``(mean_i sum_c p_ic - K)^2 / n_labels^2``, Cole et al.'s squared-error penalty."""
        return (p.sum(1).mean() - expected) ** 2 / p.shape[1] ** 2


class ExpectedPositiveRegularizer(_Prior):
    __doc__ = f"""Expected positive regularisation (EPR): positives plus a count penalty.

    With ``p = sigmoid(logits)`` and K the expected number of positives
    per sample::

        mean_ic [ y (-log p) ] + (mean_i sum_c p_ic - K)^2 / n_labels^2

    The unobserved entries get no per-entry loss; the penalty keeps the
    predicted number of positives per sample near K. ``weight`` multiplies
    the per-entry part only.

    Parameters
    ----------
    {_PRIOR_DOC}

    References
    ----------
    {_REFERENCE}

    Examples
    --------
    >>> import torch
    >>> from sktags.losses import ExpectedPositiveRegularizer
    >>> z, y = torch.zeros(1, 2), torch.tensor([[1.0, 0.0]])
    >>> loss = ExpectedPositiveRegularizer(expected_positives=1.0)
    >>> round(loss(z, y).item(), 6)  # log 2 / 2 + (0.5 + 0.5 - 1)^2 / 4
    0.346574
    """

    _parameter_constraints: dict = {
        "expected_positives": [Interval(Real, 0, None, closed="neither"), None]}

    def __init__(self, *, expected_positives=None):
        super().__init__()
        self.expected_positives = expected_positives
        self._register_prior()

    def setup(self, n_samples, n_labels, y_train=None):
        """Estimate K from the observed training labels ``y_train``; returns self."""
        self._setup_prior(y_train)
        return self

    def forward(self, logits, y, weight=None):
        """The EPR loss of ``logits`` against ``y``, a scalar tensor."""
        self._validate_params()
        y, weight = self._check(logits, y, weight)
        expected = self._expected(y, self.training and torch.is_grad_enabled())
        positive = y * -F.logsigmoid(logits)
        return self._reduce(positive, weight) + self.regularizer(torch.sigmoid(logits), expected)


class ROLE(PerSampleLoss, _Prior):
    __doc__ = f"""Regularised online label estimation (ROLE): a label estimate per sample.

    A matrix of label estimates ``q_ic = sigmoid(u_ic)``, one row per
    training sample (buffer ``estimates``, the logits ``u``), is learnt jointly
    with the classifier: each pulls towards the other. With ``p =
    sigmoid(logits)``, ``CE(t, r) = -t log r - (1 - t) log(1 - r)`` and
    ``R(P) = (mean_i sum_c P_ic - K)^2 / n_labels^2``, the loss of a batch is::

        mean_ic [ (y (-log p) + CE(q, p)) / 2 + (y (-log q) + CE(p, q)) / 2 ]
            + (R(p) + R(q)) / 2

    the classifier's half with ``q`` held fixed and the estimator's half
    with ``p`` held fixed, as in the official code. The classifier's half
    trains the network; the estimator's half updates the estimates inside
    the loss by one step of gradient descent with rate ``estimator_lr`` on
    the per-entry gradient (the mean's gradient times ``batch x n_labels``),
    in closed form::

        u_ic -= estimator_lr * (w_ic (y_ic (q_ic - 1) + q_ic - p_ic) / 2
                                + (mean_i sum_c q_ic - K) q_ic (1 - q_ic) / n_labels)

    (the official code trains them with the network's optimizer at ten times
    its learning rate). So the state lives in buffers and checkpoints restore
    it exactly. Rows start at ``q = 0.995`` for observed positives and
    ``q = 0.5`` elsewhere (the official code draws the latter uniformly in
    [0.4, 0.6]), from ``y_train`` in :meth:`setup` or from a row's first batch.
    ``weight`` multiplies the per-entry terms, not ``R``.

    With ``index=None`` (validation batches) there are no estimates: the loss
    is the EPR part, ``mean_ic[y (-log p)] + R(p)``.

    Parameters
    ----------
    {_PRIOR_DOC}
    estimator_lr : float > 0, default=1.0
        Step size of the label estimates' update.

    References
    ----------
    {_REFERENCE}

    Examples
    --------
    >>> import torch
    >>> from sktags.losses import ROLE
    >>> loss = ROLE(expected_positives=1.0)
    >>> z, y = torch.zeros(1, 2), torch.tensor([[1.0, 0.0]])
    >>> value = loss(z, y, index=torch.tensor([0]))
    >>> loss.estimates.shape
    torch.Size([1, 2])
    """

    _parameter_constraints: dict = {
        "expected_positives": [Interval(Real, 0, None, closed="neither"), None],
        "estimator_lr": [Interval(Real, 0, None, closed="neither")],
    }
    _per_sample_buffers = ("estimates", "initialized")
    _POSITIVE_LOGIT = math.log(0.995 / 0.005)

    def __init__(self, *, expected_positives=None, estimator_lr=1.0):
        super().__init__()
        self.expected_positives = expected_positives
        self.estimator_lr = estimator_lr
        self._register_prior()

    def setup(self, n_samples, n_labels, y_train=None):
        """Size the estimates for ``n_samples`` samples; with ``y_train`` also set K and the rows."""
        super().setup(n_samples, n_labels)
        self._setup_prior(y_train)
        if y_train is not None:
            y = torch.as_tensor(np.asarray(y_train, dtype=np.float32))
            self.estimates.copy_(torch.where(y == 1, self._POSITIVE_LOGIT, 0.0))
            self.initialized.fill_(True)
        return self

    def _new_rows(self, name, n_rows, n_labels):
        if name == "estimates":
            return torch.zeros(n_rows, n_labels, dtype=torch.float32)
        return torch.zeros(n_rows, dtype=torch.bool)

    def forward(self, logits, y, weight=None, index=None):
        """The ROLE loss of a batch, a scalar tensor; updates the rows ``index`` of the estimates."""
        self._validate_params()
        y, weight = self._check(logits, y, weight)
        training = index is not None and self.training and torch.is_grad_enabled()
        expected = self._expected(y, training)
        log_p, log_1mp = F.logsigmoid(logits), F.logsigmoid(-logits)
        p = torch.sigmoid(logits)
        if index is None:
            return self._reduce(-y * log_p, weight) + self.regularizer(p, expected)
        index = self._check_index(index, logits)
        with torch.no_grad():
            fresh = ~self.initialized[index]
            if fresh.any():
                rows = torch.where(y[fresh] == 1, self._POSITIVE_LOGIT, 0.0).float()
                self.estimates[index[fresh]] = rows
                self.initialized[index[fresh]] = True
            u = self.estimates[index].to(logits.dtype)
            q = torch.sigmoid(u)
            log_q, log_1mq = F.logsigmoid(u), F.logsigmoid(-u)
            p_fixed = p.detach()
            estimator_entries = 0.5 * (-y * log_q - p_fixed * log_q - (1 - p_fixed) * log_1mq)
            estimator = self._reduce(estimator_entries, weight) + 0.5 * self.regularizer(q, expected)
        classifier_entries = 0.5 * (-y * log_p - q * log_p - (1 - q) * log_1mp)
        classifier = self._reduce(classifier_entries, weight) + 0.5 * self.regularizer(p, expected)
        if training:
            with torch.no_grad():
                w = torch.ones_like(y) if weight is None else weight
                grad = 0.5 * w * (y * (q - 1) + q - p_fixed)
                grad = grad + (q.sum(1).mean() - expected) * q * (1 - q) / y.shape[1]
                self.estimates.index_add_(0, index, (-float(self.estimator_lr) * grad).float())
        return classifier + estimator
