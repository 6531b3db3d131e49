"""Hill and SPLC, the robust losses of Zhang et al. (2021) for missing labels."""

from numbers import Integral, Real

import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval

from ._base import EpochLoss, MissingLabelLoss

__all__ = ["HillLoss", "SPLCLoss"]

_REFERENCE = """Y. Zhang, Y. Cheng, X. Huang, F. Wen, R. Feng, Y. Li and Y. Guo, "Simple
    and robust loss design for multi-label learning with missing labels",
    arXiv:2112.07368, 2021."""


def _focal_positive(logits, margin, gamma):
    """``-(1 - q)^gamma log q`` with ``q = sigmoid(logits - margin)``, from logits."""
    shifted = logits - margin
    loss = -F.logsigmoid(shifted)
    if gamma != 0:
        loss = loss * torch.exp(gamma * F.logsigmoid(-shifted))
    return loss


class HillLoss(MissingLabelLoss):
    __doc__ = f"""Hill loss: a focal-margin positive term and a hill-shaped negative term.

    Per entry, with ``p = sigmoid(logits)`` and ``q = sigmoid(logits - margin)``::

        -y (1 - q)^gamma log q + (1 - y) (lamb - p) p^2

    The negative term rises with p and then falls again past
    ``p = 2 lamb / 3`` (1 at the default), so that an unobserved entry the
    model is confident about (a likely missing positive) costs less than a
    hesitant one.

    Parameters
    ----------
    lamb : float > 0, default=1.5
    margin : float >= 0, default=1.0
        Logit margin of the positive term.
    gamma : float >= 0, default=2
        Focusing exponent of the positive term.

    References
    ----------
    {_REFERENCE}

    Examples
    --------
    >>> import torch
    >>> from sktags.losses import HillLoss
    >>> z, y = torch.zeros(1, 1), torch.zeros(1, 1)
    >>> HillLoss()(z, y).item()  # (1.5 - 0.5) * 0.5**2
    0.25
    """

    _parameter_constraints: dict = {
        "lamb": [Interval(Real, 0, None, closed="neither")],
        "margin": [Interval(Real, 0, None, closed="left")],
        "gamma": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, *, lamb=1.5, margin=1.0, gamma=2):
        super().__init__()
        self.lamb = lamb
        self.margin = margin
        self.gamma = gamma

    def _per_entry(self, logits, y):
        positive = _focal_positive(logits, float(self.margin), float(self.gamma))
        p = torch.sigmoid(logits)
        negative = (float(self.lamb) - p) * p * p
        return y * positive + (1 - y) * negative


class SPLCLoss(EpochLoss):
    __doc__ = f"""Self-paced loss correction (SPLC) with the focal margin loss.

    From epoch ``change_epoch`` on (completed epochs, see :meth:`set_epoch`),
    every unobserved entry with ``p = sigmoid(logits) > tau`` is taken as a
    positive for this batch. Per entry, with ``q = sigmoid(logits - margin)``:

    - observed positive: ``-(1 - q)^gamma log q`` (focal loss with the margin);
    - pseudo-positive: ``-(1 - p)^gamma log p`` (no margin);
    - other unobserved: ``-p^gamma log(1 - p)`` (focal loss).

    Parameters
    ----------
    tau : float in [0, 1], default=0.6
    change_epoch : int >= 0, default=1
    margin : float >= 0, default=1.0
    gamma : float >= 0, default=2

    References
    ----------
    {_REFERENCE}

    Examples
    --------
    >>> import torch
    >>> from sktags.losses import SPLCLoss
    >>> loss = SPLCLoss()
    >>> z, y = torch.full((1, 1), 2.0), torch.zeros(1, 1)
    >>> round(loss(z, y).item(), 4)  # epoch 0: a negative, p^2 * -log(1 - p)
    1.6501
    >>> loss.set_epoch(1)
    >>> round(loss(z, y).item(), 4)  # p = 0.88 > tau: a positive, (1 - p)^2 * -log p
    0.0018
    """

    _parameter_constraints: dict = {
        "tau": [Interval(Real, 0, 1, closed="both")],
        "change_epoch": [Interval(Integral, 0, None, closed="left")],
        "margin": [Interval(Real, 0, None, closed="left")],
        "gamma": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, *, tau=0.6, change_epoch=1, margin=1.0, gamma=2):
        super().__init__()
        self.tau = tau
        self.change_epoch = change_epoch
        self.margin = margin
        self.gamma = gamma

    def _per_entry(self, logits, y):
        gamma = float(self.gamma)
        observed = _focal_positive(logits, float(self.margin), gamma)
        pseudo = _focal_positive(logits, 0.0, gamma)
        negative = -F.logsigmoid(-logits)
        if gamma != 0:
            negative = negative * torch.exp(gamma * F.logsigmoid(logits))
        unobserved = negative
        if self.current_epoch >= self.change_epoch:
            is_pseudo = torch.sigmoid(logits) > float(self.tau)
            unobserved = torch.where(is_pseudo, pseudo, negative)
        return y * observed + (1 - y) * unobserved
