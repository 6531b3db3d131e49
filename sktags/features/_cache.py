"""Per-file feature cache: content keys, atomic writes and corrupt-entry recovery.

One entry per (audio file, output-changing parameters). The entry's name is a
SHA-256 of the absolute path and the parameters; its content starts with a
SHA-256 digest of the audio file's bytes and a SHA-256 checksum of the rest,
followed by the feature as ``.npy`` bytes::

    b"SKTMEL02" | sha256(audio file) | sha256(payload) | payload

An entry is returned only if the magic and the digest of the file's content
as it is now match, the checksum matches, and the array has the expected
shape and dtype. The key is the content, not the size and modification time:
a file rewritten with other audio of the same size and an unchanged mtime
(as ``cp -p`` or ``rsync -t`` leave it) is recomputed. Hashing reads the whole
file once; SHA-256, hardware-accelerated on current x86 (SHA-NI) and ARM
CPUs, runs at about 1 GB/s: under a millisecond for a 30 s preview against
tens of milliseconds to decode it (``benchmarks/bench_mel.py`` measures it).

Anything else (an edited file, a truncated or corrupted entry, a foreign
file) is a miss: the feature is recomputed and the entry rewritten, unless
the file changed while its feature was computed (its ``os.stat`` differs
from the one taken before hashing), in which case nothing is stored. Writes
go to a temporary file in the same directory, then :func:`os.replace` it, so
readers never see a partial entry. An edited audio file overwrites its own
entry, so the cache does not grow with edits; entries of deleted files stay
until the cache directory is removed.
"""

import hashlib
import io
import os
import struct
from collections import namedtuple
from pathlib import Path

import numpy as np

from ..utils import atomic_path

_MAGIC = b"SKTMEL02"
_HEADER = struct.Struct("<8s32s32s")
_CHUNK = 1 << 20
#: Sub-directory of the cache location holding the entries.
SUBDIR = "sktags_features"

#: What ``os.stat`` says of a file; any change means its content may have changed.
FileStamp = namedtuple("FileStamp", "size mtime_ns ctime_ns ino dev")


def file_stamp(path):
    """:class:`FileStamp` of a file: ``(size, mtime_ns, ctime_ns, ino, dev)``.

    ``stamp[0]`` is the size. The stamp only tells whether a file changed
    between two moments (see :meth:`FeatureCache.store`); cache entries are
    keyed on the content (:func:`content_digest`).
    """
    st = os.stat(path)
    return FileStamp(
        int(st.st_size), int(st.st_mtime_ns), int(st.st_ctime_ns), int(st.st_ino), int(st.st_dev)
    )


def content_digest(path):
    """SHA-256 of a file's bytes, read in 1 MiB chunks.

    Examples
    --------
    >>> import hashlib, os, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "a.bin")
    ...     with open(p, "wb") as f:
    ...         _ = f.write(b"abc")
    ...     content_digest(p) == hashlib.sha256(b"abc").digest()
    True
    """
    h = hashlib.sha256()
    buf = bytearray(_CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            h.update(view[:n])
    return h.digest()


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
        Expected shape of every feature; a ``None`` dimension accepts any
        size (e.g. ``(n_mels, None)`` for whole tracks of any length).
    """

    def __init__(self, location, token, shape):
        self.directory = Path(location) / SUBDIR
        self.token = token
        self.shape = tuple(shape)
        self._digests = {}  # abspath -> (stamp, digest) hashed by load()

    def entry_path(self, path):
        """Where the entry of audio file ``path`` is stored."""
        key = hashlib.sha256(f"{os.path.abspath(path)}\0{self.token}".encode()).hexdigest()
        return self.directory / key[:2] / f"{key}.bin"

    def _shape_ok(self, shape):
        return len(shape) == len(self.shape) and all(
            want is None or want == got for want, got in zip(self.shape, shape)
        )

    def load(self, path, stamp=None):
        """Cached feature of the content of ``path``, or None on any mismatch.

        Parameters
        ----------
        path : str or os.PathLike
            Audio file.
        stamp : FileStamp, default=None
            :func:`file_stamp` taken before this call (taken here if None);
            :meth:`store` compares it with the file as it is then.

        Returns
        -------
        feature : ndarray of float32, or None
        """
        abspath = os.path.abspath(path)
        try:
            if stamp is None:
                stamp = file_stamp(abspath)
            digest = content_digest(abspath)
        except OSError:
            return None
        arr = self._read(abspath, digest)
        if arr is None:  # a miss: store() will reuse the digest
            self._digests[abspath] = (tuple(stamp), digest)
        return arr

    def _read(self, abspath, digest):
        try:
            raw = self.entry_path(abspath).read_bytes()
        except OSError:
            return None
        if len(raw) < _HEADER.size:
            return None
        magic, entry_digest, checksum = _HEADER.unpack_from(raw)
        payload = memoryview(raw)[_HEADER.size :]
        if magic != _MAGIC or entry_digest != digest:
            return None
        if hashlib.sha256(payload).digest() != checksum:
            return None
        try:
            arr = np.load(io.BytesIO(payload), allow_pickle=False)
        except (ValueError, OSError, EOFError):
            return None
        if not self._shape_ok(arr.shape) or arr.dtype != np.float32:
            return None
        return arr

    def store(self, path, stamp, feature):
        """Write the entry of ``path`` atomically (temporary file + os.replace).

        The content digest is the one :meth:`load` computed for ``path`` with
        the same ``stamp`` (hashed here otherwise). Nothing is stored if the
        file's :func:`file_stamp` is no longer ``stamp``: it changed while its
        feature was computed.

        Returns
        -------
        stored : bool
        """
        abspath = os.path.abspath(path)
        stamp = tuple(stamp)
        try:
            if tuple(file_stamp(abspath)) != stamp:
                return False
        except FileNotFoundError:
            return False
        known = self._digests.pop(abspath, None)
        digest = known[1] if known is not None and known[0] == stamp else content_digest(abspath)
        buf = io.BytesIO()
        np.save(buf, np.asarray(feature, dtype=np.float32), allow_pickle=False)
        payload = buf.getvalue()
        header = _HEADER.pack(_MAGIC, digest, hashlib.sha256(payload).digest())
        target = self.entry_path(abspath)
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target, suffix=".bin") as tmp:
            with open(tmp, "wb") as f:
                f.write(header)
                f.write(payload)
        return True
