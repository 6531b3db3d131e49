"""The paper's CNN, its weighted loss, and the CNNTagger estimator."""

from ._loss import WeightedBCEWithLogitsLoss, weighted_bce_with_logits
from ._networks import ShortChunkCNN, TaggerCNN, conv_output_shape
from ._tagger import CNNTagger

__all__ = [
    "CNNTagger",
    "ShortChunkCNN",
    "TaggerCNN",
    "WeightedBCEWithLogitsLoss",
    "conv_output_shape",
    "weighted_bce_with_logits",
]
