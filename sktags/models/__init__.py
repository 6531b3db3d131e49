"""The paper's CNN, its weighted loss, and the CNNTagger estimator."""

from ._loss import WeightedBCEWithLogitsLoss, weighted_bce_with_logits
from ._networks import TaggerCNN, conv_output_shape
from ._persistence import load_model, save_model
from ._tagger import CNNTagger

__all__ = [
    "CNNTagger",
    "TaggerCNN",
    "WeightedBCEWithLogitsLoss",
    "conv_output_shape",
    "load_model",
    "save_model",
    "weighted_bce_with_logits",
]
