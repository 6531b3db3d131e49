"""The paper's CNN, its weighted loss, and the CNNTagger estimator.

The names are imported lazily (PEP 562), so that DataLoader worker processes,
which only unpickle a dataset from :mod:`sktags.models._data`, do not import
scikit-learn and skorch.
"""

import importlib

_EXPORTS = {
    "CNNTagger": "._tagger",
    "Ibrahim2020CNN": "._networks",
    "REAL_MUSIC_RECIPE": "._presets",
    "RECIPES": "._presets",
    "ShortChunkCNN": "._networks",
    "TaggerCNN": "._networks",
    "TaggerNeuralNet": "._skorch_net",
    "WeightedBCEWithLogitsLoss": "._loss",
    "conv_output_shape": "._networks",
    "load_model": "._persistence",
    "save_model": "._persistence",
    "weighted_bce_with_logits": "._loss",
}

__all__ = list(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
