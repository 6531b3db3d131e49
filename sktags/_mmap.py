"""Arrays backed by memory-mapped files that pickle as a file reference.

Pickling an ``np.memmap`` (or a view of one) copies its whole contents into
the pickle: a DataLoader worker started with "forkserver" or "spawn" would
receive a private copy of the data set. :class:`MappedArray` pickles instead
as (path, offset of the mapping, its length, dtype, shape, strides, offset of
the view) and maps the file again, once per process, on first use.

Only numpy is imported here, so worker processes stay lean.
"""

import mmap
import os

import numpy as np

__all__ = ["MappedArray", "memmap_root"]

# (path, file offset, length) -> uint8 np.memmap, per process (a forked child
# inherits the parent's maps, which stay valid there).
_MAPS = {}


def memmap_root(X):
    """The ``np.memmap`` that owns the mapping under X, or None.

    None when X is not (a view of) a memory-mapped file, or when the map is
    copy-on-write (mode "c"): its private changes are not in the file, so it
    cannot be reopened from there.
    """
    base = X
    while isinstance(base, np.ndarray):
        if isinstance(base, np.memmap) and isinstance(base.base, mmap.mmap):
            if base.mode == "c" or getattr(base, "filename", None) is None:
                return None
            return base
        base = base.base
    return None


def _open_map(path, offset, length):
    key = (path, offset, length)
    mm = _MAPS.get(key)
    if mm is None:
        mm = np.memmap(path, dtype=np.uint8, mode="r", offset=offset, shape=(length,))
        _MAPS[key] = mm
    return mm


class MappedArray:
    """A picklable reference to (a view of) a memory-mapped array.

    Parameters
    ----------
    array : np.memmap or a view of one
        Must be memory-mapped from a file (see :func:`memmap_root`).

    Attributes
    ----------
    path : str
    map_offset, map_length : int
        Byte range of the file that the original ``np.memmap`` maps.
    view_offset : int
        Byte offset of ``array[0, ..., 0]`` inside that range.
    dtype, shape, strides
        Those of ``array``.

    Examples
    --------
    >>> import pickle, tempfile, os
    >>> import numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "x.npy")
    >>> np.save(path, np.arange(12, dtype=np.float16).reshape(3, 4))
    >>> X = np.load(path, mmap_mode="r")[1:]
    >>> ref = MappedArray(X)
    >>> len(pickle.dumps(ref)) < X.nbytes + 300  # no copy of the data
    True
    >>> pickle.loads(pickle.dumps(ref)).array[0].tolist()
    [4.0, 5.0, 6.0, 7.0]
    """

    def __init__(self, array):
        root = memmap_root(array)
        if root is None:
            raise ValueError("MappedArray needs an array memory-mapped from a file.")
        self.path = os.fspath(root.filename)
        self.map_offset = int(root.offset)
        self.map_length = int(root.nbytes)
        delta = array.__array_interface__["data"][0] - root.__array_interface__["data"][0]
        self.view_offset = int(delta)
        self.dtype = array.dtype
        self.shape = tuple(int(s) for s in array.shape)
        self.strides = tuple(int(s) for s in array.strides)
        self._array = array

    @property
    def array(self):
        """The array, mapped again from the file in a new process."""
        if self._array is None:
            mm = _open_map(self.path, self.map_offset, self.map_length)
            self._array = np.ndarray(self.shape, dtype=self.dtype, buffer=mm,
                                     offset=self.view_offset, strides=self.strides)
        return self._array

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_array"] = None
        return state


def picklable(X):
    """X wrapped in a :class:`MappedArray` when it is memory-mapped, else X itself."""
    return MappedArray(X) if memmap_root(X) is not None else X


def unwrap(X):
    """The array behind the result of :func:`picklable`."""
    return X.array if isinstance(X, MappedArray) else X
