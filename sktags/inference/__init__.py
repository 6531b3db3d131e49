"""Catalogue-scale inference: stream many audio files through a fitted pipeline.

Decoding and log-mel run in joblib workers (so a Dask or Ray joblib backend
spreads them), the network runs in this process in batches, and results come
back one file at a time, in input order, with bounded memory.
"""

from ._catalogue import TagResult, iter_spectrograms, move_to_device, tag_files
from ._stream import StreamWriter, iter_records, prefix_of_files, read_done

__all__ = [
    "StreamWriter",
    "TagResult",
    "iter_spectrograms",
    "iter_records",
    "move_to_device",
    "prefix_of_files",
    "read_done",
    "tag_files",
]
