"""Cross-entropy losses that treat unobserved labels as (weak or soft) negatives."""

from numbers import Real

import torch.nn.functional as F
from sklearn.utils._param_validation import Interval

from ._base import MissingLabelLoss

__all__ = ["LabelSmoothing", "WeakAssumeNegative", "WeightedBCE"]


class WeightedBCE(MissingLabelLoss):
    """The paper's weighted binary cross-entropy: "assume negative" (AN).

    Per entry, with ``p = sigmoid(logits)``:
    ``-[y log p + (1 - y) log(1 - p)]``, every unobserved label scored as a
    negative. With the paper's confidence weights (``weight=``) it is
    equation 2 of Ibrahim et al. (2020), computed in the numerically stable
    logits form (the authors clipped p to [1e-7, 1 - 1e-7] instead). The mean
    runs over all batch x label entries, zero-weight entries included, as in
    the authors' code. It is the taggers' default loss (``loss="bce"``).

    Examples
    --------
    >>> import torch
    >>> from sktags.losses import WeightedBCE
    >>> z, y = torch.zeros(1, 2), torch.tensor([[1.0, 0.0]])
    >>> round(WeightedBCE()(z, y).item(), 6)  # log 2 per entry
    0.693147
    """

    def __init__(self):
        super().__init__()

    def forward(self, logits, y, weight=None):
        """The mean weighted BCE of ``logits`` against ``y``, a scalar tensor."""
        y, weight = self._check(logits, y, weight)
        return F.binary_cross_entropy_with_logits(logits, y, weight=weight, reduction="mean")

    def _per_entry(self, logits, y):
        return F.binary_cross_entropy_with_logits(logits, y, reduction="none")


class WeakAssumeNegative(MissingLabelLoss):
    """Weak assume negative (WAN, Cole et al. 2021): down-weighted negatives.

    Per entry: ``-[y log p + gamma (1 - y) log(1 - p)]``.

    Parameters
    ----------
    gamma : float in [0, 1] or None, default=None
        Weight of the unobserved (assumed negative) entries. None means
        ``1 / (n_labels - 1)``, Cole et al.'s choice (the expected number of
        positives being 1 of the n_labels in their single-positive setting),
        taken from the width of ``logits`` at each call.

    References
    ----------
    E. Cole, O. Mac Aodha, T. Lorieul, P. Perona, D. Morris and N. Jojic,
    "Multi-label learning from single positive labels", CVPR 2021.

    Examples
    --------
    >>> import torch
    >>> from sktags.losses import WeakAssumeNegative
    >>> z, y = torch.zeros(1, 3), torch.tensor([[1.0, 0.0, 0.0]])
    >>> round(WeakAssumeNegative()(z, y).item(), 6)  # (1 + 1/2 + 1/2) log 2 / 3
    0.462098
    """

    _parameter_constraints: dict = {"gamma": [Interval(Real, 0, 1, closed="both"), None]}

    def __init__(self, *, gamma=None):
        super().__init__()
        self.gamma = gamma

    def _per_entry(self, logits, y):
        n_labels = logits.shape[1]
        if self.gamma is None:
            if n_labels < 2:
                raise ValueError("WeakAssumeNegative(gamma=None) needs at least 2 labels "
                                 "(gamma = 1 / (n_labels - 1)); set gamma.")
            gamma = 1.0 / (n_labels - 1)
        else:
            gamma = float(self.gamma)
        return y * F.softplus(-logits) + gamma * (1 - y) * F.softplus(logits)


class LabelSmoothing(MissingLabelLoss):
    """BCE against smoothed targets ``(1 - epsilon) y + epsilon / 2``.

    Per entry, with ``t = (1 - epsilon) y + epsilon / 2``:
    ``-[t log p + (1 - t) log(1 - p)]``. Observed positives aim at
    ``1 - epsilon / 2`` and unobserved entries at ``epsilon / 2`` rather than
    0, which softens the false negatives that "assume negative" creates.
    (Cole et al.'s code smooths to ``1 - epsilon`` and ``epsilon``; this is the
    symmetric form of Szegedy et al. with two classes per label.)

    Parameters
    ----------
    epsilon : float in [0, 1], default=0.1

    References
    ----------
    E. Cole et al., "Multi-label learning from single positive labels", CVPR 2021
    (label smoothing as a baseline); C. Szegedy et al., "Rethinking the
    Inception architecture for computer vision", CVPR 2016.

    Examples
    --------
    >>> import torch
    >>> from sktags.losses import LabelSmoothing
    >>> z, y = torch.zeros(1, 2), torch.tensor([[1.0, 0.0]])
    >>> round(LabelSmoothing()(z, y).item(), 6)  # at p = 1/2 every target costs log 2
    0.693147
    """

    _parameter_constraints: dict = {"epsilon": [Interval(Real, 0, 1, closed="both")]}

    def __init__(self, *, epsilon=0.1):
        super().__init__()
        self.epsilon = epsilon

    def _per_entry(self, logits, y):
        eps = float(self.epsilon)
        target = (1 - eps) * y + eps / 2
        return F.binary_cross_entropy_with_logits(logits, target, reduction="none")
