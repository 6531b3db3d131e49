"""The asymmetric loss (ASL) of Ridnik et al. (2021)."""

from numbers import Real

import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval

from ._base import MissingLabelLoss

__all__ = ["AsymmetricLoss"]


class AsymmetricLoss(MissingLabelLoss):
    """Asymmetric focusing and probability shifting for the negatives.

    Per entry, with ``p = sigmoid(logits)`` and the shifted probability
    ``p_m = max(p - clip, 0)``::

        -[y (1 - p)^gamma_pos log p + (1 - y) p_m^gamma_neg log(1 - p_m)]

    Easy negatives (small p) are down-weighted by ``p_m^gamma_neg`` and the
    negatives with ``p <= clip`` are discarded outright; very confident
    "negatives" (large p, likely missing positives) keep a bounded loss.
    The gradient flows through the focusing factors (the formula's exact
    derivative; the official code can optionally detach them).

    Parameters
    ----------
    gamma_pos : float >= 0, default=0
    gamma_neg : float >= 0, default=4
    clip : float in [0, 1), default=0.05
        The probability margin ``m``; 0 disables the shift.

    References
    ----------
    T. Ridnik, E. Ben-Baruch, N. Zamir, A. Noy, I. Friedman, M. Protter and
    L. Zelnik-Manor, "Asymmetric loss for multi-label classification",
    ICCV 2021.

    Examples
    --------
    >>> import torch
    >>> from sktags.losses import AsymmetricLoss
    >>> z, y = torch.zeros(1, 2), torch.tensor([[1.0, 0.0]])
    >>> # positive: log 2; negative: p_m = 0.45, 0.45**4 * -log(0.55)
    >>> round(AsymmetricLoss()(z, y).item(), 6)
    0.358831
    """

    _parameter_constraints: dict = {
        "gamma_pos": [Interval(Real, 0, None, closed="left")],
        "gamma_neg": [Interval(Real, 0, None, closed="left")],
        "clip": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(self, *, gamma_pos=0, gamma_neg=4, clip=0.05):
        super().__init__()
        self.gamma_pos = gamma_pos
        self.gamma_neg = gamma_neg
        self.clip = clip

    def _per_entry(self, logits, y):
        clip = float(self.clip)
        log_p = F.logsigmoid(logits)
        positive = -log_p
        if self.gamma_pos != 0:
            positive = positive * torch.exp(float(self.gamma_pos) * F.logsigmoid(-logits))
        if clip > 0:
            one_minus_pm = torch.clamp(torch.sigmoid(-logits) + clip, max=1.0)  # >= clip > 0
            log_one_minus_pm = torch.log(one_minus_pm)
            p_m = 1.0 - one_minus_pm
        else:
            log_one_minus_pm = F.logsigmoid(-logits)
            p_m = torch.sigmoid(logits)
        negative = -log_one_minus_pm
        if self.gamma_neg != 0:
            negative = negative * p_m.pow(float(self.gamma_neg))
        return y * positive + (1 - y) * negative
