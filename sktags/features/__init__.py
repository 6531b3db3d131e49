"""Audio to log-mel features.

The names are imported lazily (PEP 562), so that joblib workers which only
need the decoding and spectrogram code do not import scikit-learn.

``check_window``, ``content_digest`` and ``mp3_structure_problem`` are importable from here for
the other subpackages, but are not public (not in ``__all__``).
"""

from ..utils import lazy_exports

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
    "AUDIO_EXTENSIONS": "._files",
    "audio_files_by_id": "._files",
    "find_audio_files": "._files",
    "select_features": "._select",
}

# Shared with other subpackages, not part of the public API.
_INTERNAL = {"check_window": "._limits", "content_digest": "._cache",
             "mp3_structure_problem": "._integrity"}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, _INTERNAL)
