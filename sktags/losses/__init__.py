"""Losses for learning from incomplete labels: ``loss(logits, y, weight=None)``.

Every loss returns the mean over batch x labels of a per-entry loss of the
logits against the observed labels ``y`` (1 = observed positive, 0 =
unobserved), each entry multiplied by ``weight`` (the paper's confidence
weights) where given. Epoch-dependent losses have ``set_epoch(epoch)``;
losses with ``requires_index = True`` also take ``index=``, the samples'
training-set positions. See :ref:`incomplete_labels`.

The names are imported lazily (PEP 562), like the other subpackages.
"""

from ..utils import lazy_exports

_EXPORTS = {
    "AsymmetricLoss": "._asymmetric",
    "EntropyMaximization": "._entropy",
    "ExpectedPositiveRegularizer": "._positives",
    "HillLoss": "._robust",
    "LOSSES": "._registry",
    "LOSS_NAMES": "._names",
    "RECOMMENDED": "._names",
    "LabelSmoothing": "._bce",
    "LargeLossCorrection": "._large_loss",
    "LargeLossRejection": "._large_loss",
    "MissingLabelLoss": "._base",
    "ROLE": "._positives",
    "SPLCLoss": "._robust",
    "TrackConsistency": "._consistency",
    "WeakAssumeNegative": "._bce",
    "WeightedBCE": "._bce",
    "get_loss": "._registry",
    "parse_loss_param": "._registry",
}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
