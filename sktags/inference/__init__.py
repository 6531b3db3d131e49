"""Catalogue-scale inference: stream many audio files through a fitted pipeline.

Decoding and log-mel run in joblib workers (so a Dask or Ray joblib backend
spreads them), the network runs in this process in batches, and results come
back one file at a time, in input order, with bounded memory.
:class:`TagOutput` writes them (resumable, locked), :func:`embed_to_file`
writes embeddings. The helpers that read and append streamed files back
(``sktags.inference._stream``) are private: :class:`TagOutput` is their
public face.
"""

from ..utils import lazy_exports

_EXPORTS = {
    "TagResult": "._catalogue",
    "iter_spectrograms": "._catalogue",
    "move_to_device": "._stages",
    "tag_files": "._catalogue",
    "tag_features": "._catalogue",
    "TagOutput": "._tag_output",
    "OUTPUT_FORMATS": "._tag_output",
    "RESERVED_COLUMNS": "._rows",
    "check_tag_names": "._rows",
    "display_name": "._rows",
    "embed_to_file": "._embed",
    "streaming_stages": "._stages",
    "load_tagging_model": "._model_file",
    "save_tagging_model": "._model_file",
    "load_embeddings": "._embed",
}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
