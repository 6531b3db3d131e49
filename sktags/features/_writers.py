"""Feature files on disk: reserved space, ragged streaming, stale temporary files.

Both layouts are written under a temporary name next to the target, named
``.<target name>.<pid>.tmp-XXXX.npy`` so that a later run can recognise (and
remove) what a killed run left behind: :func:`sweep_stale` deletes the
temporary files of the same target whose process no longer exists.

* Fixed-length features go to a memory map. Its whole size is reserved
  first (:func:`os.posix_fallocate`, or a free-space check where that is not
  supported), so a full disk is a one-line :class:`OSError` before any work,
  never a SIGBUS in the middle of it.
* Whole tracks go to the ragged layout, streamed with plain writes (a full
  disk is a one-line :class:`OSError` too): ``<name>.npy`` holds the frames
  ``(total_frames, n_mels)`` of all clips, time-major, and
  ``<name>.offsets.npy`` the ``n_clips + 1`` int64 offsets.
"""

import errno
import os
import shutil
import struct

import numpy as np

_HEADER_BYTES = 128  # a .npy v1.0 header with room for any 2-D shape


def temp_prefix(target):
    """Prefix of this process's temporary files for ``target``."""
    return f".{os.path.basename(os.fspath(target))}.{os.getpid()}.tmp-"


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def sweep_stale(target):
    """Remove temporary files of ``target`` left by processes that no longer run.

    Returns
    -------
    removed : list of str
    """
    target = os.path.abspath(os.fspath(target))
    directory, base = os.path.split(target)
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        if not name.startswith(f".{base}."):
            continue
        pid, sep, _ = name[len(base) + 2 :].partition(".tmp-")
        if not sep or not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        try:
            os.unlink(os.path.join(directory, name))
            removed.append(os.path.join(directory, name))
        except OSError:
            pass
    return removed


def no_space(target, needed, directory=None):
    """The one-line :class:`OSError` (ENOSPC) of a full disk."""
    directory = directory or os.path.dirname(os.path.abspath(os.fspath(target)))
    try:
        free = f"{shutil.disk_usage(directory).free:,} bytes free"
    except OSError:
        free = "free space unknown"
    return OSError(
        errno.ENOSPC,
        f"not enough disk space to write {os.fspath(target)}: {int(needed):,} bytes needed, {free}",
    )


def reserve(path, size, target):
    """Allocate ``size`` bytes of file ``path`` on disk, or raise :func:`no_space`.

    Uses :func:`os.posix_fallocate`; where the platform or file system does
    not support it, compares ``size`` with the free space instead.
    """
    fallocate = getattr(os, "posix_fallocate", None)
    if fallocate is not None:
        fd = os.open(path, os.O_RDWR)
        try:
            fallocate(fd, 0, int(size))
            return
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
                raise no_space(target, size) from None
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                raise
        finally:
            os.close(fd)
    allocated = getattr(os.stat(path), "st_blocks", 0) * 512
    if int(size) - allocated > shutil.disk_usage(os.path.dirname(os.path.abspath(path))).free:
        raise no_space(target, size)
    if os.path.getsize(path) < size:
        os.truncate(path, int(size))


class MemmapSink:
    """Fixed-length features into a ``.npy`` memory map, its space reserved first."""

    def __init__(self, path, dtype, target):
        self.path, self.dtype, self.target, self.out = path, np.dtype(dtype), target, None

    def __call__(self, config, n):  # make_sink
        # the header, then every block of the file allocated, then the map
        shape = (n, 1, *config.shape)
        header = _npy_header(self.dtype, shape)
        with open(self.path, "wb") as f:
            f.write(header)
        reserve(self.path, len(header) + int(np.prod(shape)) * self.dtype.itemsize, self.target)
        self.out = np.memmap(self.path, dtype=self.dtype, mode="r+", offset=len(header), shape=shape)
        return self.emit

    def emit(self, i, feature):
        self.out[i, 0] = 0 if feature is None else feature

    def close(self, flush=True):
        if self.out is not None:
            if flush:
                self.out.flush()
            self.out = None


def _npy_header(dtype, shape):
    text = repr({"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False,
                 "shape": tuple(int(s) for s in shape)})
    body = text.ljust(_HEADER_BYTES - 10 - 1) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(body)) + body.encode("latin1")


class RaggedSink:
    """Whole-track features streamed to the ragged layout (frames + offsets)."""

    def __init__(self, path, offsets_path, dtype, target):
        self.path, self.offsets_path = path, offsets_path
        self.dtype, self.target = np.dtype(dtype), target
        self.file, self.offsets, self.n_mels, self.next = None, None, None, 0

    def __call__(self, config, n):  # make_sink
        self.n_mels = config.n_mels
        self.offsets = np.zeros(n + 1, dtype=np.int64)
        self.file = open(self.path, "r+b")
        self._write(_npy_header(self.dtype, (0, self.n_mels)))
        return self.emit

    def _write(self, data):
        try:
            self.file.write(data)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
                raise no_space(self.target, self.file.tell() + len(data)) from None
            raise

    def emit(self, i, feature):
        if i != self.next:
            raise RuntimeError(f"ragged features must come in order: got {i}, expected {self.next}")
        n_frames = 0
        if feature is not None:
            n_frames = feature.shape[1]
            self._write(np.ascontiguousarray(feature.T, dtype=self.dtype).tobytes())
        self.offsets[i + 1] = self.offsets[i] + n_frames
        self.next += 1

    def finish(self):
        """Write the final header and the offsets file (both still temporary)."""
        self.file.seek(0)
        self._write(_npy_header(self.dtype, (int(self.offsets[-1]), self.n_mels)))
        try:
            self.file.flush()
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
                raise no_space(self.target, os.path.getsize(self.path)) from None
            raise
        self.close()
        np.save(self.offsets_path, self.offsets, allow_pickle=False)

    def close(self):
        if self.file is not None:
            self.file.close()
            self.file = None
