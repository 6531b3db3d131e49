"""Per-file feature cache: keys, atomic writes and corrupt-entry recovery.

One entry per (audio file, output-changing parameters). The entry's name is a
SHA-256 of the absolute path and the parameters; its content starts with the
file's size and modification time (``st_mtime_ns``) and a SHA-256 checksum of
the rest, followed by the feature as ``.npy`` bytes::

    b"SKTMEL01" | size (int64) | mtime_ns (int64) | sha256(payload) | payload

An entry is returned only if the magic, size and mtime match the file as it
is now, the checksum matches, and the array has the expected shape and dtype.
Anything else (an edited file, a truncated or corrupted entry, a foreign file)
is a miss: the feature is recomputed and the entry rewritten. Writes go to a
temporary file in the same directory, then :func:`os.replace` it, so readers
never see a partial entry. An edited audio file overwrites its own entry, so
the cache does not grow with edits; entries of deleted files stay until the
cache directory is removed.
"""

import hashlib
import io
import os
import struct
from pathlib import Path

import numpy as np

from ..utils._atomic import atomic_path

_MAGIC = b"SKTMEL01"
_HEADER = struct.Struct("<8sqq32s")
#: Sub-directory of the cache location holding the entries.
SUBDIR = "sktags_features"


def file_stamp(path):
    """``(size, mtime_ns)`` of a file, the part of its cache key that changes with edits."""
    st = os.stat(path)
    return int(st.st_size), int(st.st_mtime_ns)


def _shape_matches(shape, expected):
    """``shape == expected``, where a None in ``expected`` matches any size."""
    return len(shape) == len(expected) and all(e is None or a == e for a, e in zip(shape, expected))


class FeatureCache:
    """Directory of cached per-file features.

    Parameters
    ----------
    location : str or os.PathLike
        Cache root; entries live in ``location/sktags_features/``.
    token : str
        Text identifying every parameter (and library version) that changes
        the feature; entries made with another token are never returned.
    shape : tuple of int or None
        Expected shape of every feature; None matches any size (whole tracks).
    """

    def __init__(self, location, token, shape):
        self.directory = Path(location) / SUBDIR
        self.token = token
        self.shape = tuple(shape)

    def entry_path(self, path):
        """Where the entry of audio file ``path`` is stored."""
        key = hashlib.sha256(f"{os.path.abspath(path)}\0{self.token}".encode()).hexdigest()
        return self.directory / key[:2] / f"{key}.bin"

    def load(self, path, stamp):
        """Cached feature of ``path`` with ``stamp``, or None on any mismatch."""
        try:
            raw = self.entry_path(path).read_bytes()
        except OSError:
            return None
        if len(raw) < _HEADER.size:
            return None
        magic, size, mtime_ns, digest = _HEADER.unpack_from(raw)
        payload = memoryview(raw)[_HEADER.size :]
        if magic != _MAGIC or (size, mtime_ns) != tuple(stamp):
            return None
        if hashlib.sha256(payload).digest() != digest:
            return None
        try:
            arr = np.load(io.BytesIO(payload), allow_pickle=False)
        except (ValueError, OSError, EOFError):
            return None
        if not _shape_matches(arr.shape, self.shape) or arr.dtype != np.float32:
            return None
        return arr

    def store(self, path, stamp, feature):
        """Write the entry of ``path`` atomically (temporary file + os.replace)."""
        buf = io.BytesIO()
        np.save(buf, np.asarray(feature, dtype=np.float32), allow_pickle=False)
        payload = buf.getvalue()
        header = _HEADER.pack(_MAGIC, int(stamp[0]), int(stamp[1]), hashlib.sha256(payload).digest())
        target = self.entry_path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target, suffix=".bin") as tmp:
            with open(tmp, "wb") as f:
                f.write(header)
                f.write(payload)
