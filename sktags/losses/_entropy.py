"""Entropy maximisation (EM) for the unobserved labels, Zhou et al. (2022)."""

from numbers import Real

import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval

from ._base import MissingLabelLoss

__all__ = ["EntropyMaximization"]


class EntropyMaximization(MissingLabelLoss):
    """Positives by cross-entropy, unobserved labels pushed towards uncertainty.

    Per entry, with ``p = sigmoid(logits)`` and the binary entropy
    ``H(p) = -p log p - (1 - p) log(1 - p)``::

        y (-log p) - alpha (1 - y) H(p)

    Minimising ``-alpha H(p)`` maximises the entropy of the unobserved
    entries: the model is not told they are negatives, only discouraged from
    being certain about them. The loss can be negative (down to
    ``-alpha log 2`` per unobserved entry).

    Parameters
    ----------
    alpha : float >= 0, default=0.1

    References
    ----------
    D. Zhou, P. Chen, Q. Wang, G. Chen and P.-A. Heng, "Acknowledging the
    unknown for multi-label learning with single positive labels", ECCV 2022.

    Examples
    --------
    >>> import torch
    >>> from sktags.losses import EntropyMaximization
    >>> z, y = torch.zeros(1, 2), torch.tensor([[1.0, 0.0]])
    >>> round(EntropyMaximization()(z, y).item(), 6)  # (log 2 - 0.1 log 2) / 2
    0.311916
    """

    _parameter_constraints: dict = {"alpha": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, *, alpha=0.1):
        super().__init__()
        self.alpha = alpha

    def _per_entry(self, logits, y):
        log_p = F.logsigmoid(logits)
        log_q = F.logsigmoid(-logits)
        p = torch.sigmoid(logits)
        entropy = -(p * log_p + (1 - p) * log_q)
        return y * (-log_p) - float(self.alpha) * (1 - y) * entropy
