"""sktags: context auto-tagging of music audio, the scikit-learn way.

The package implements Ibrahim et al., "Audio-based auto-tagging with
contextual tags for music" (ICASSP 2020): the dataset procedure, a log-mel
front end, the sample-level confidence weights for missing labels, a CNN
tagger trained with the weighted cross-entropy, and the paper's evaluation.

The public estimators are imported lazily (PEP 562), so that ``import sktags``
and the command line start fast and do not load torch until it is needed.
"""

import importlib

from ._contexts import CONTEXTS
from ._version import __version__

_LAZY = {
    "MelSpectrogramTransformer": "sktags.features",
    "ContextWeightEstimator": "sktags.weighting",
    "CNNTagger": "sktags.models",
    "EmbeddingTagger": "sktags.models",
}

_SUBMODULES = [
    "cli",
    "datasets",
    "features",
    "metrics",
    "model_selection",
    "losses",
    "models",
    "plotting",
    "pretrained",
    "utils",
    "weighting",
]

__all__ = ["CONTEXTS", "__version__", *_LAZY, *_SUBMODULES]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"sktags.{name}")
    raise AttributeError(f"module 'sktags' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
