"""Large-loss rejection and correction (LL-R, LL-Ct), Kim et al. (2022)."""

import math
from numbers import Real

import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval

from ._base import EpochLoss

__all__ = ["LargeLossCorrection", "LargeLossRejection"]

_DOC = """

    Per entry, the BCE against the observed ``y``, except for the ``k``
    unobserved entries (``y == 0``) of the batch with the largest BCE, which
    are likely missing positives. With ``B x m`` the batch shape::

        k = min(ceil(B m min(epoch delta_rel, 1)), number of unobserved entries)

    (computed as if exactly, not with float round-off) where ``epoch`` counts completed epochs (:meth:`set_epoch`), so nothing is
    modified in the first epoch and the modified share grows by
    ``delta_rel`` per epoch, as in the official code's ``clean_rate``. The
    ranking uses the unweighted BCE and picks exactly k entries (the
    official code takes every entry tied with the k-th largest, and with a k
    larger than the unobserved entries it would touch observed positives too).

    Parameters
    ----------
    delta_rel : float in [0, 1], default=0.002
        Growth of the modified share per epoch.

    References
    ----------
    Y. Kim, J. M. Kim, Z. Akata and J. Lee, "Large loss matters in weakly
    supervised multi-label classification", CVPR 2022.
"""


class _LargeLoss(EpochLoss):
    _parameter_constraints: dict = {"delta_rel": [Interval(Real, 0, 1, closed="both")]}

    def __init__(self, *, delta_rel=0.002):
        super().__init__()
        self.delta_rel = delta_rel

    def n_modified(self, batch_size, n_labels, n_unobserved):
        """k for a (batch_size, n_labels) batch with n_unobserved unobserved entries."""
        share = min(self.current_epoch * float(self.delta_rel), 1.0)
        # rounded first, so that e.g. 40 * (3 * 0.1) = 12.000000000000002 gives 12, not 13
        return min(math.ceil(round(batch_size * n_labels * share, 9)), int(n_unobserved))

    def large_loss_mask(self, logits, y):
        """Boolean (batch, n_labels) mask of the k unobserved entries with the largest BCE."""
        with torch.no_grad():
            bce = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
            unobserved = y == 0
            k = self.n_modified(*logits.shape, int(unobserved.sum()))
            mask = torch.zeros_like(unobserved)
            if k > 0:
                ranked = torch.where(unobserved, bce, torch.full_like(bce, -math.inf))
                top = torch.topk(ranked.flatten(), k).indices
                mask.view(-1)[top] = True
        return mask


class LargeLossRejection(_LargeLoss):
    __doc__ = """Large-loss rejection (LL-R): the k largest unobserved losses count 0.""" + _DOC + """
    Examples
    --------
    >>> import torch
    >>> from sktags.losses import LargeLossRejection
    >>> loss = LargeLossRejection(delta_rel=0.5)
    >>> z, y = torch.tensor([[3.0, 0.0]]), torch.zeros(1, 2)
    >>> loss.set_epoch(1)  # k = ceil(1 * 2 * 0.5) = 1: the entry at z = 3 is dropped
    >>> round(loss(z, y).item(), 6)  # (0 + log 2) / 2
    0.346574
    """

    def _per_entry(self, logits, y):
        bce = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
        return torch.where(self.large_loss_mask(logits, y), torch.zeros_like(bce), bce)


class LargeLossCorrection(_LargeLoss):
    __doc__ = """Large-loss correction, temporary (LL-Ct): the k largest count as positives.""" + _DOC + """
    Examples
    --------
    >>> import torch
    >>> from sktags.losses import LargeLossCorrection
    >>> loss = LargeLossCorrection(delta_rel=0.5)
    >>> z, y = torch.tensor([[3.0, 0.0]]), torch.zeros(1, 2)
    >>> loss.set_epoch(1)  # the entry at z = 3 is scored against target 1
    >>> round(loss(z, y).item(), 6)  # (log(1 + e^-3) + log 2) / 2
    0.370867
    """

    def _per_entry(self, logits, y):
        bce = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
        corrected = F.softplus(-logits)  # BCE against target 1
        return torch.where(self.large_loss_mask(logits, y), corrected, bce)
