"""Pretrained backbones: musicnn's released weights in PyTorch.

The names are imported lazily (PEP 562), so that ``import sktags`` does not
load torch.
"""

import importlib

_EXPORTS = {
    "MusicnnEmbedding": "._embedding",
    "MusicnnNet": "._musicnn",
    "MusicnnTagger": "._tagger",
    "MODELS": "._weights",
    "weights_record": "._weights",
    "musicnn_module": "._finetune",
    "musicnn_frontend": "._frontend",
}

__all__ = list(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
