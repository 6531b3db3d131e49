"""Whole-track log-mels of different lengths, stored as one block of frames.

The layout written by :func:`~sktags.features.extract_to_file` for
``duration=None``: ``<name>.npy`` holds the frames of all clips, time-major,
shape (total_frames, n_mels); ``<name>.offsets.npy`` holds ``n_clips + 1``
int64 offsets, so that clip i is ``frames[offsets[i]:offsets[i + 1]]``.
"""

import os

import numpy as np

from .._mmap import picklable, unwrap

__all__ = ["RaggedSpectrograms", "offsets_path"]


def offsets_path(path):
    """``<name>.offsets.npy`` for the frames file ``<name>.npy``."""
    path = os.fspath(path)
    stem = path[:-4] if path.endswith(".npy") else path
    return stem + ".offsets.npy"


def _check_offsets(offsets, total, where):
    offsets = np.asarray(offsets)
    if offsets.ndim != 1 or offsets.size == 0 or offsets.dtype.kind not in "iu":
        raise ValueError(f"{where}: offsets must be a 1-D integer array of n_clips + 1 entries, "
                         f"got shape {offsets.shape} and dtype {offsets.dtype}.")
    offsets = offsets.astype(np.int64)
    if offsets[0] != 0 or offsets[-1] != total:
        raise ValueError(f"{where}: offsets must start at 0 and end at the number of frames "
                         f"({total}), got {offsets[0]} and {offsets[-1]}.")
    bad = np.flatnonzero(np.diff(offsets) < 0)
    if bad.size:
        raise ValueError(f"{where}: offsets decrease at clip {bad[0]}.")
    return offsets


class RaggedSpectrograms:
    """A read-only sequence of log-mel spectrograms of different lengths.

    Clip i is ``frames[offsets[i]:offsets[i + 1]]``, returned as a float32
    array of shape (1, n_mels, n_frames_i). Reading a clip (or part of one)
    reads only its frames, so ``frames`` may be a memory-mapped file of any
    size. Indexing with an array or a slice gives a subset that shares the
    frames (no copy). A memory-mapped instance pickles as a reference to its
    file (path, dtype, shape, offsets), never as the array: DataLoader
    workers map the file again.

    Parameters
    ----------
    frames : ndarray of shape (total_frames, n_mels)
        Frames of all clips, time-major, float16 or float32 (``np.memmap``
        welcome).
    offsets : array-like of int of shape (n_clips + 1,)
        ``offsets[0] == 0``, non-decreasing, ``offsets[-1] == total_frames``.
        A clip with no frames (a failed decode) has equal consecutive offsets.

    Attributes
    ----------
    lengths : ndarray of shape (n_clips,), int64
        Frames per clip.
    n_mels : int
    dtype : numpy dtype
        The dtype of the stored frames (clips are returned as float32).

    Examples
    --------
    >>> import numpy as np
    >>> from sktags.features import RaggedSpectrograms
    >>> frames = np.arange(10, dtype=np.float32).reshape(5, 2)  # 5 frames, 2 mels
    >>> R = RaggedSpectrograms(frames, [0, 2, 5])
    >>> len(R), R.lengths.tolist(), R.n_mels
    (2, [2, 3], 2)
    >>> R[1].shape
    (1, 2, 3)
    >>> R[1][0].tolist()
    [[4.0, 6.0, 8.0], [5.0, 7.0, 9.0]]
    >>> R.read(0, 1, 4)[0].tolist()  # frames 1..3 of clip 0, zero-padded
    [[2.0, 0.0, 0.0], [3.0, 0.0, 0.0]]
    >>> R[[1]].lengths.tolist()
    [3]
    """

    def __init__(self, frames, offsets):
        if not isinstance(frames, np.ndarray):
            frames = np.asarray(frames)
        if frames.ndim != 2 or frames.dtype.kind not in "fiu":
            raise ValueError("frames must be a 2-D (total_frames, n_mels) array of real numbers, "
                             f"got shape {frames.shape} and dtype {frames.dtype}.")
        offsets = _check_offsets(offsets, frames.shape[0], "RaggedSpectrograms")
        self._frames = picklable(frames)
        self._starts = offsets[:-1]
        self._stops = offsets[1:]

    @classmethod
    def load(cls, path, mmap_mode="r"):
        """Open ``<name>.npy`` and its ``<name>.offsets.npy``.

        Parameters
        ----------
        path : str or path
            The frames file.
        mmap_mode : {"r", None, ...}, default="r"
            Passed to :func:`numpy.load` for the frames (None reads them).

        Returns
        -------
        RaggedSpectrograms
        """
        path = os.fspath(path)
        opath = offsets_path(path)
        try:
            frames = np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
            offsets = np.load(opath, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read ragged spectrograms {path}: {exc}") from exc
        if frames.ndim != 2 or frames.dtype.kind not in "fiu":
            raise ValueError(f"{path}: expected a 2-D (total_frames, n_mels) array of real "
                             f"numbers, got shape {frames.shape} and dtype {frames.dtype}.")
        offsets = _check_offsets(offsets, frames.shape[0], opath)
        return cls(frames, offsets)

    @property
    def frames(self):
        """The (total_frames, n_mels) array of all frames (of the full set)."""
        return unwrap(self._frames)

    @property
    def lengths(self):
        return self._stops - self._starts

    @property
    def n_mels(self):
        return int(self.frames.shape[1])

    @property
    def dtype(self):
        return self.frames.dtype

    def __len__(self):
        return len(self._starts)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def _position(self, i):
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"clip {i} out of range for {n} clips.")
        return i % n

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            i = self._position(int(key))
            return self.read(i, 0, int(self._stops[i] - self._starts[i]))
        if isinstance(key, slice):
            sel = np.arange(len(self))[key]
        else:
            sel = np.asarray(key)
            if sel.dtype == bool:
                if sel.shape != (len(self),):
                    raise IndexError(f"boolean index of shape {sel.shape} for {len(self)} clips.")
                sel = np.flatnonzero(sel)
            elif sel.dtype.kind not in "iu" and sel.size:
                raise IndexError(f"clips are indexed by integers, got dtype {sel.dtype}.")
            sel = sel.astype(np.intp).ravel()
            n = len(self)
            if sel.size and (sel.min() < -n or sel.max() >= n):
                raise IndexError(f"clip index out of range for {n} clips.")
            sel = sel % max(n, 1)
        sub = object.__new__(type(self))
        sub._frames = self._frames
        sub._starts = self._starts[sel]
        sub._stops = self._stops[sel]
        return sub

    def read(self, i, start, stop):
        """Frames ``start:stop`` of clip i, zero-padded past its end.

        Parameters
        ----------
        i : int
        start, stop : int
            ``0 <= start <= stop``.

        Returns
        -------
        x : ndarray of shape (1, n_mels, stop - start), float32, C-contiguous
        """
        i = self._position(int(i))
        start, stop = int(start), int(stop)
        if start < 0 or stop < start:
            raise ValueError(f"read needs 0 <= start <= stop, got start={start}, stop={stop}.")
        out = np.zeros((1, self.n_mels, stop - start), dtype=np.float32)
        self.read_into(i, start, out[0])
        return out

    def read_into(self, i, start, out):
        """Write frames ``start:start + out.shape[1]`` of clip i into out (n_mels, width).

        Frames past the end of the clip are left as they are in ``out``.
        Returns the number of frames written.
        """
        first = int(self._starts[i]) + start
        last = min(int(self._stops[i]), first + out.shape[1])
        if last <= first:
            return 0
        out[:, :last - first] = self.frames[first:last].T
        return last - first

    def __repr__(self):
        return f"RaggedSpectrograms(n_clips={len(self)}, n_mels={self.n_mels}, dtype={self.dtype})"
