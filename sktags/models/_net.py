"""Former home of the skorch net, kept so that pickles made before the rename load."""

from ._skorch_net import FixedSplit, TaggerNeuralNet

TaggerNet = TaggerNeuralNet

__all__ = ["FixedSplit", "TaggerNet"]
