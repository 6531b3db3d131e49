"""Input validation and batch streaming for CNNTagger.

Spectrogram arrays may be large ``np.memmap`` files, so nothing here makes a
full in-memory copy: validation runs over chunks of rows, and each batch is
read with one fancy-indexing call (sorted row indices, for locality) and
converted to float32 on its own.

The datasets pickle a memory-mapped X as a reference to its file (see
:mod:`sktags._mmap`), so DataLoader workers started with "forkserver" or
"spawn" map the file again instead of receiving a copy of the data. This
module imports only numpy and torch (scipy on demand), to keep workers lean.
"""

import mmap

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from .._mmap import picklable, unwrap

_CHUNK_BYTES = 16 * 2**20


def _file_mapping(X):
    """The ``mmap`` under X when X is (a view of) a shared ``np.memmap``, else None."""
    base = X
    while base is not None:
        if isinstance(base, np.memmap) and getattr(base, "_mmap", None) is not None:
            # copy-on-write maps ("c") may hold private changes that MADV_DONTNEED would drop
            return None if base.mode == "c" else base._mmap
        base = getattr(base, "base", None)
    return None


def release_pages(X):
    """Unmap the pages of a memmapped X that this process has read so far.

    Pages read through a memory map stay mapped, and count in the process'
    resident memory, until the kernel reclaims them: one pass over a 6 GB
    memmap would show as 6 GB of RSS. ``MADV_DONTNEED`` drops them from this
    process' page tables; the data stays in the page cache (and in the file),
    so nothing is lost and a later read costs a minor page fault. A no-op for
    in-memory arrays, copy-on-write maps, and platforms without ``madvise``.
    """
    mapping = _file_mapping(X)
    if mapping is None or not hasattr(mmap, "MADV_DONTNEED"):
        return
    try:
        mapping.madvise(mmap.MADV_DONTNEED)
    except (OSError, ValueError, AttributeError):
        pass


def check_spectrograms(X, *, name="X", check_finite=True):
    """Validate a stack of single-channel spectrograms without copying it.

    Parameters
    ----------
    X : array-like of shape (n_samples, 1, n_mels, n_frames) or (n_samples, n_mels, n_frames)
        Real numbers (float32, float16, float64 or integers); ``np.memmap``
        is kept as is.
    name : str, default="X"
    check_finite : bool, default=True
        Scan for NaN and inf, chunk by chunk (about 16 MiB at a time).

    Returns
    -------
    X : ndarray
        The input itself when it is already an ndarray (memmap included).
    input_shape : tuple of int
        ``(1, n_mels, n_frames)``.
    """
    import scipy.sparse as sp

    if sp.issparse(X):
        raise ValueError(f"{name} must be a dense array of spectrograms, got a sparse matrix.")
    if not isinstance(X, np.ndarray):
        if isinstance(X, torch.Tensor):
            X = X.detach().cpu().numpy()
        else:
            try:
                X = np.asarray(X)
            except Exception as exc:
                raise ValueError(f"{name} could not be converted to an array: {exc}") from exc
    if X.dtype.kind == "O":  # numbers held as Python objects: convert (an in-memory array)
        X = X.astype(np.float64)
    if X.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} has dtype {X.dtype}.")
    if X.dtype.kind not in "fiu":
        raise ValueError(f"{name} must hold real numbers, got dtype {X.dtype}.")
    if X.ndim == 4:
        if X.shape[1] != 1:
            raise ValueError(
                f"{name} must have a single channel: expected shape (n_samples, 1, n_mels, "
                f"n_frames), got {X.shape}."
            )
        input_shape = tuple(int(s) for s in X.shape[1:])
    elif X.ndim == 3:
        input_shape = (1, int(X.shape[1]), int(X.shape[2]))
    else:
        hint = " Reshape your data." if X.ndim < 3 else ""
        raise ValueError(
            f"{name} must be a 4-D (n_samples, 1, n_mels, n_frames) or 3-D (n_samples, n_mels, "
            f"n_frames) array of spectrograms, got an array of shape {X.shape}.{hint}"
        )
    if X.shape[0] == 0 or min(input_shape) == 0:
        raise ValueError(f"{name} is empty (shape {X.shape}).")
    if check_finite and X.dtype.kind == "f":
        row_bytes = max(1, X.itemsize * int(np.prod(X.shape[1:])))
        step = max(1, _CHUNK_BYTES // row_bytes)
        for start in range(0, X.shape[0], step):
            chunk = X[start:start + step]
            finite = np.isfinite(chunk).reshape(chunk.shape[0], -1).all(axis=1)
            release_pages(X)
            if not finite.all():
                row = start + int(np.flatnonzero(~finite)[0])
                raise ValueError(f"{name} contains NaN or inf in sample {row}.")
    return X, input_shape


class BatchDataset(Dataset):
    """A dataset read a batch at a time: ``__getitems__(positions)`` is the real read.

    Subclasses implement ``__getitems__`` returning ``(x, None)`` or ``(x,
    (y, weight))`` tensors for a batch, with :meth:`targets` for the labels;
    one item is a batch of one.
    """

    def targets(self, rows):
        """``(y, weight)`` float32 tensors of ``rows``, or None without labels."""
        if self.Y is None:
            return None
        return (torch.from_numpy(np.ascontiguousarray(self.Y[rows], dtype=np.float32)),
                torch.from_numpy(np.ascontiguousarray(self.W[rows], dtype=np.float32)))

    def __getitem__(self, position):
        xb, target = self.__getitems__([position])
        if target is None:
            return xb[0], None
        return xb[0], (target[0][0], target[1][0])


class SpectrogramDataset(BatchDataset):
    """Rows ``indices`` of X, with optional targets and weights, read batch by batch.

    ``__getitems__`` (used by torch's DataLoader) returns a whole batch:
    ``(x, (y, w))`` during training or ``(x, None)`` for prediction, with
    ``x`` a float32 tensor of shape (batch, 1, n_mels, n_frames).
    """

    def __init__(self, X, indices, Y=None, W=None):
        self._X = picklable(X)
        self.indices = np.asarray(indices, dtype=np.intp)
        self.Y = Y
        self.W = W
        self.input_shape = (1, *X.shape[-2:])

    @property
    def X(self):
        """The spectrograms (mapped again from their file in a worker process)."""
        return unwrap(self._X)

    def __len__(self):
        return len(self.indices)

    def _read(self, rows):
        # The batch handed to torch must be a fresh, writable array: a view
        # of a read-only memmap would make torch.from_numpy warn, and a view
        # of an in-memory X would share the caller's memory. Only the batch
        # is ever copied, and only once.
        n = len(rows)
        if n and rows[-1] - rows[0] == n - 1:  # contiguous: a view, copied here
            xb = np.array(self.X[rows[0]:rows[-1] + 1], dtype=np.float32, order="C")
        else:  # fancy indexing already returns a fresh array: convert only if needed
            xb = np.asarray(self.X[rows], dtype=np.float32, order="C")
        xb = xb.reshape(n, *self.input_shape)
        release_pages(self.X)
        return torch.from_numpy(xb)

    def __getitems__(self, positions):
        rows = np.sort(self.indices[np.asarray(positions, dtype=np.intp)])
        return self._read(rows), self.targets(rows)


def _passthrough(batch):
    """collate_fn: batches come ready-made from ``SpectrogramDataset.__getitems__``."""
    return batch


class EpochBatchSampler:
    """Shuffled batches whose order depends only on (seed, epoch).

    The epoch is read from ``epoch_source()`` at the start of each pass, so a
    training resumed from a checkpoint sees exactly the batches that an
    uninterrupted one would.
    """

    def __init__(self, n, batch_size, seed, epoch_source):
        self.n = int(n)
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.epoch_source = epoch_source

    def __len__(self):
        return -(-self.n // self.batch_size)

    def __iter__(self):
        rng = np.random.default_rng([self.seed, int(self.epoch_source())])
        order = rng.permutation(self.n)
        for start in range(0, self.n, self.batch_size):
            yield order[start:start + self.batch_size].tolist()


class SequentialBatchSampler:
    """Consecutive batches in the dataset's order (validation and prediction)."""

    def __init__(self, n, batch_size):
        self.n = int(n)
        self.batch_size = int(batch_size)

    def __len__(self):
        return -(-self.n // self.batch_size)

    def __iter__(self):
        for start in range(0, self.n, self.batch_size):
            yield list(range(start, min(start + self.batch_size, self.n)))


def make_loader(dataset, batch_sampler, *, num_workers=0, pin_memory=False, seed=0,
                multiprocessing_context=None, prefetch_factor=None):
    """A DataLoader that fetches whole batches with ``__getitems__``.

    Parameters
    ----------
    dataset : SpectrogramDataset, or a crop or window dataset of _windows.py
    batch_sampler : iterable of lists of positions
    num_workers : int, default=0
        Worker processes (kept alive across epochs when the loader is reused).
    pin_memory : bool, default=False
        Pin batches (inputs, labels and weights) for non-blocking copies to a
        CUDA device; use it only with CUDA.
    seed : int, default=0
    multiprocessing_context : str or None, default=None
        Start method of the workers ("fork", "forkserver", "spawn"); None
        uses Python's default. Memory-mapped data is never copied into the
        workers, whatever the method.
    prefetch_factor : int or None, default=None
        Batches loaded in advance by each worker (torch's default 2 when None).
    """
    generator = torch.Generator()
    generator.manual_seed(int(seed))
    workers = int(num_workers)
    extra = {}
    if workers > 0:
        extra = dict(persistent_workers=True, multiprocessing_context=multiprocessing_context,
                     prefetch_factor=prefetch_factor)
    return DataLoader(
        dataset,
        batch_sampler=batch_sampler,
        collate_fn=_passthrough,
        num_workers=workers,
        pin_memory=bool(pin_memory),
        generator=generator,
        **extra,
    )

