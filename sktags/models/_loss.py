"""Sample-level weighted binary cross-entropy (equation 2 of the paper)."""

import torch.nn.functional as F
from torch import nn

__all__ = ["WeightedBCEWithLogitsLoss", "weighted_bce_with_logits"]


def weighted_bce_with_logits(logits, y, weight=None):
    """Mean over batch x labels of ``weight * BCE(sigmoid(logits), y)``.

    Each entry contributes ``-w_ij * [y_ij log p_ij + (1 - y_ij) log(1 - p_ij)]``
    with ``p = sigmoid(logits)``, computed in the numerically stable logits form
    (the authors clipped p to [1e-7, 1 - 1e-7] instead). The mean runs over all
    batch x label entries, zero-weight entries included, as in the authors' code.

    Parameters
    ----------
    logits : Tensor of shape (batch, n_labels)
    y : Tensor of shape (batch, n_labels)
        Binary targets (any float dtype).
    weight : Tensor of shape (batch, n_labels) or None, default=None
        Per-entry weights: the positive weight where y = 1 and the negative
        weight where y = 0. None means all ones.

    Returns
    -------
    loss : scalar Tensor

    Examples
    --------
    >>> import torch
    >>> from sktags.models import weighted_bce_with_logits
    >>> z = torch.tensor([[0.0, 0.0]])
    >>> y = torch.tensor([[1.0, 0.0]])
    >>> w = torch.tensor([[1.0, 0.0]])
    >>> round(weighted_bce_with_logits(z, y, w).item(), 6)  # (log 2 + 0) / 2
    0.346574
    """
    if logits.shape != y.shape:
        raise ValueError(f"logits have shape {tuple(logits.shape)} but y has {tuple(y.shape)}.")
    y = y.to(logits.dtype)
    if weight is not None:
        if weight.shape != y.shape:
            raise ValueError(
                f"weight has shape {tuple(weight.shape)} but y has {tuple(y.shape)}."
            )
        weight = weight.to(logits.dtype)
    return F.binary_cross_entropy_with_logits(logits, y, weight=weight, reduction="mean")


class WeightedBCEWithLogitsLoss(nn.Module):
    """Module form of :func:`weighted_bce_with_logits`.

    ``forward(logits, y, weight=None)``; ``y`` may also be a pair
    ``(y, weight)``, the form in which :class:`~sktags.CNNTagger`
    passes targets through skorch.

    Examples
    --------
    >>> import torch
    >>> from sktags.models import WeightedBCEWithLogitsLoss
    >>> loss = WeightedBCEWithLogitsLoss()
    >>> z, y = torch.zeros(4, 3), torch.ones(4, 3)
    >>> round(loss(z, (y, torch.full((4, 3), 2.0))).item(), 6)  # 2 log 2
    1.386294
    """

    def forward(self, logits, y, weight=None):
        """The weighted loss of ``logits`` against ``y`` (or ``(y, weight)``), a scalar tensor."""
        if isinstance(y, (tuple, list)):
            if weight is not None:
                raise ValueError("Pass the weight either inside y or as weight, not both.")
            y, weight = y
        return weighted_bce_with_logits(logits, y, weight)
