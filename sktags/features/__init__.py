"""Audio to log-mel features.

The names are imported lazily (PEP 562), so that joblib workers which only
need the decoding and spectrogram code do not import scikit-learn.
"""

import importlib

_EXPORTS = {
    "MelSpectrogramTransformer": "._mel",
    "RaggedSpectrograms": "._ragged",
    "extract_to_file": "._extract",
    "ExtractionResult": "._report",
    "AudioDecodeWarning": "._report",
    "FRONT_END_KEYS": "._feature_file",
    "check_front_end": "._feature_file",
    "features_index_path": "._feature_file",
    "load_features": "._feature_file",
    "write_features": "._feature_file",
}

__all__ = list(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
