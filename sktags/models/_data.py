"""The datasets of the taggers: whole inputs, random crops, windows, and their loader.

Every dataset reads a :class:`~sktags.models._inputs.ModelInput` a batch at a
time (``__getitems__``): ``(x, None)`` for prediction, or ``(x, (y, weight))``
float32 tensors for training and validation, plus each sample's row index in
X (``(y, weight, index)``) when the loss asks for it (``requires_index``).

With ``crop_frames``, CNNTagger never feeds a whole clip to its network:

- training reads one random crop of ``crop_frames`` frames per clip and
  epoch; the offset is a function of ``(seed, epoch, clip)`` only, so it is
  reproducible, different each epoch, independent of the batch order and
  identical after resuming from a checkpoint (:func:`crop_offset`);
- validation and prediction read the windows of :func:`window_starts`, and a
  clip's probability (or embedding) is the mean over its windows.

This module imports only numpy and torch, so DataLoader workers stay lean.
"""

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset


def window_starts(n_frames, crop_frames, hop):
    """Start frames of the windows covering a clip of ``n_frames`` frames.

    Windows of ``crop_frames`` frames start at 0, ``hop``, 2·``hop``, ...
    while they fit; a last window ending at the clip's end is added when the
    tail is not covered. A clip shorter than a window has one window at 0
    (zero-padded when read).

    Parameters
    ----------
    n_frames, crop_frames, hop : int

    Returns
    -------
    starts : ndarray of shape (n_windows,), int64

    Examples
    --------
    >>> from sktags.models._data import window_starts
    >>> window_starts(10, 4, 3).tolist()
    [0, 3, 6]
    >>> window_starts(11, 4, 3).tolist()
    [0, 3, 6, 7]
    >>> window_starts(3, 4, 2).tolist()
    [0]
    """
    n, c, hop = int(n_frames), int(crop_frames), int(hop)
    if c < 1 or hop < 1:
        name, value = ("crop_frames", c) if c < 1 else ("crop_hop", hop)
        raise ValueError(f"{name} must be a positive number of frames, got {value}.")
    if n <= c:
        return np.zeros(1, dtype=np.int64)
    starts = np.arange(0, n - c + 1, hop, dtype=np.int64)
    if starts[-1] + c < n:
        starts = np.append(starts, n - c)
    return starts


def crop_offset(n_frames, crop_frames, seed, epoch, clip):
    """Random start of the training crop of clip ``clip`` in epoch ``epoch``.

    Uniform over ``0 .. n_frames - crop_frames`` (0 for a shorter clip),
    drawn from ``np.random.default_rng([seed, epoch, clip])``.
    """
    span = int(n_frames) - int(crop_frames)
    if span <= 0:
        return 0
    return int(np.random.default_rng([int(seed), int(epoch), int(clip)]).integers(0, span + 1))


class BatchDataset(Dataset):
    """Rows ``indices`` of an input, read a batch at a time; one item is a batch of one.

    Parameters
    ----------
    inputs : ModelInput
    indices : array-like of int
        Rows of the input in this dataset.
    Y, W : ndarray of shape (n_samples, n_labels) or None
        Targets and confidence weights of *all* rows (indexed by row).
    with_index : bool, default=False
        Also give each row's index, for losses with ``requires_index``.
    """

    def __init__(self, inputs, indices, Y=None, W=None, *, with_index=False):
        self.inputs = inputs
        self.indices = np.asarray(indices, dtype=np.intp)
        self.Y = Y
        self.W = W
        self.with_index = with_index

    def __len__(self):
        return len(self.indices)

    def targets(self, rows):
        """``(y, weight)`` (and ``index``) tensors of ``rows``, or None without labels."""
        if self.Y is None:
            return None
        out = (torch.from_numpy(np.ascontiguousarray(self.Y[rows], dtype=np.float32)),
               torch.from_numpy(np.ascontiguousarray(self.W[rows], dtype=np.float32)))
        if self.with_index:
            out += (torch.from_numpy(np.asarray(rows, dtype=np.int64)),)
        return out

    def __getitem__(self, position):
        xb, target = self.__getitems__([position])
        return xb[0], None if target is None else tuple(t[0] for t in target)


class WholeDataset(BatchDataset):
    """Whole samples: x of shape (batch, \\*sample_shape), read in sorted row order."""

    def __getitems__(self, positions):
        rows = np.sort(self.indices[np.asarray(positions, dtype=np.intp)])
        return self.inputs.read_rows(rows), self.targets(rows)


class CropDataset(BatchDataset):
    """One random crop per clip and epoch, with its targets and weights (training).

    Items are encoded as ``epoch * len(self) + position`` by
    :meth:`batch_sampler` (so that DataLoader workers, which hold a copy of
    the dataset, know the epoch); x has shape (batch, 1, n_mels, crop_frames).
    """

    def __init__(self, inputs, indices, crop_frames, seed, Y, W, *, with_index=False):
        super().__init__(inputs, indices, Y, W, with_index=with_index)
        self.crop_frames = int(crop_frames)
        self.seed = int(seed)

    def batch_sampler(self, sampler, epoch_source):
        """Wrap a batch sampler of positions so that each item carries the epoch."""
        return _EpochTagged(sampler, len(self), epoch_source)

    def __getitems__(self, items):
        epochs, positions = np.divmod(np.asarray(items, dtype=np.int64), max(len(self), 1))
        rows = self.indices[positions]
        c, inputs = self.crop_frames, self.inputs
        xb = np.empty((len(rows), 1, inputs.n_mels, c), dtype=np.float32)
        for k, (row, epoch) in enumerate(zip(rows, epochs)):
            start = crop_offset(inputs.lengths[row], c, self.seed, epoch, row)
            xb[k, 0] = inputs.read(row, start, start + c)
        return torch.from_numpy(xb), self.targets(rows)


class _EpochTagged:
    def __init__(self, sampler, n, epoch_source):
        self.sampler, self.n, self.epoch_source = sampler, int(n), epoch_source

    def __len__(self):
        return len(self.sampler)

    def __iter__(self):
        offset = int(self.epoch_source()) * self.n
        for batch in self.sampler:
            yield [offset + int(p) for p in batch]


class WindowDataset(BatchDataset):
    """All windows of the clips ``indices``, in order (validation and prediction).

    ``clip_of`` (n_windows,) gives each window's position in ``indices`` and
    ``starts`` its start frame. With Y and W, each window carries its clip's
    targets and weights.
    """

    def __init__(self, inputs, indices, crop_frames, hop, Y=None, W=None):
        super().__init__(inputs, indices, Y, W)
        self.crop_frames = int(crop_frames)
        per_clip = [window_starts(inputs.lengths[r], crop_frames, hop) for r in self.indices]
        self.counts = np.array([len(s) for s in per_clip], dtype=np.intp)
        self.starts = np.concatenate(per_clip) if per_clip else np.zeros(0, dtype=np.int64)
        self.clip_of = np.repeat(np.arange(len(self.indices)), self.counts)

    def __len__(self):
        return len(self.starts)

    def __getitems__(self, positions):
        positions = np.asarray(positions, dtype=np.intp)
        rows = self.indices[self.clip_of[positions]]
        c, inputs = self.crop_frames, self.inputs
        xb = np.empty((len(rows), 1, inputs.n_mels, c), dtype=np.float32)
        for k, (row, start) in enumerate(zip(rows, self.starts[positions])):
            xb[k, 0] = inputs.read(row, int(start), int(start) + c)
        return torch.from_numpy(xb), self.targets(rows)

    def clip_means(self, values):
        """Mean of per-window ``values`` (n_windows, d) over each clip -> (n_clips, d)."""
        values = np.asarray(values)
        sums = np.zeros((len(self.indices), values.shape[1]), dtype=np.float64)
        np.add.at(sums, self.clip_of, values)
        return sums / self.counts[:, None]

    def split(self, values):
        """Per-window ``values`` split by clip: a list of (starts, values) pairs."""
        bounds = np.cumsum(self.counts)[:-1]
        return list(zip(np.split(self.starts, bounds), np.split(values, bounds)))


class EpochBatchSampler:
    """Shuffled batches whose order depends only on (seed, epoch).

    The epoch is read from ``epoch_source()`` at the start of each pass, so a
    training resumed from a checkpoint sees exactly the batches that an
    uninterrupted one would.
    """

    def __init__(self, n, batch_size, seed, epoch_source):
        self.n, self.batch_size, self.seed = int(n), int(batch_size), int(seed)
        self.epoch_source = epoch_source

    def __len__(self):
        return -(-self.n // self.batch_size)

    def __iter__(self):
        order = np.random.default_rng([self.seed, int(self.epoch_source())]).permutation(self.n)
        for start in range(0, self.n, self.batch_size):
            yield order[start:start + self.batch_size].tolist()


class SequentialBatchSampler:
    """Consecutive batches in the dataset's order (validation and prediction)."""

    def __init__(self, n, batch_size):
        self.n, self.batch_size = int(n), int(batch_size)

    def __len__(self):
        return -(-self.n // self.batch_size)

    def __iter__(self):
        for start in range(0, self.n, self.batch_size):
            yield list(range(start, min(start + self.batch_size, self.n)))


def _passthrough(batch):
    """collate_fn: batches come ready-made from ``__getitems__``."""
    return batch


def make_loader(dataset, batch_sampler, *, num_workers=0, pin_memory=False, seed=0,
                multiprocessing_context=None, prefetch_factor=None):
    """A DataLoader that fetches whole batches with ``__getitems__``.

    ``num_workers`` worker processes are kept alive across epochs when the
    loader is reused; ``pin_memory`` pins batches for non-blocking copies to
    a CUDA device; ``multiprocessing_context`` is the workers' start method
    (None: Python's default; memory-mapped data is never copied into them);
    ``prefetch_factor`` is torch's (2 when None).
    """
    generator = torch.Generator()
    generator.manual_seed(int(seed))
    extra = {}
    if int(num_workers) > 0:
        extra = dict(persistent_workers=True, multiprocessing_context=multiprocessing_context,
                     prefetch_factor=prefetch_factor)
    return DataLoader(dataset, batch_sampler=batch_sampler, collate_fn=_passthrough,
                      num_workers=int(num_workers), pin_memory=bool(pin_memory),
                      generator=generator, **extra)


class _MuxDataset(Dataset):
    """Several datasets behind one DataLoader; items are ``(dataset, item)`` pairs."""

    def __init__(self, datasets):
        self.datasets = list(datasets)

    def __len__(self):
        return sum(len(d) for d in self.datasets)

    def __getitems__(self, items):
        return self.datasets[items[0][0]].__getitems__([item for _, item in items])


class _MuxSampler:
    """The batches of the active one of several batch samplers, tagged with its number."""

    def __init__(self, samplers):
        self.samplers = list(samplers)
        self.active = 0

    def __len__(self):
        return len(self.samplers[self.active])

    def __iter__(self):
        k = self.active
        for batch in self.samplers[k]:
            yield [(k, item) for item in batch]


class _LoaderView:
    """Iterates one dataset of a :class:`SharedLoader`."""

    def __init__(self, shared, k):
        self.shared, self.k = shared, k

    def __len__(self):
        return len(self.shared.sampler.samplers[self.k])

    def __iter__(self):
        self.shared.sampler.active = self.k  # read when the loader starts a pass
        return iter(self.shared.loader)


class SharedLoader:
    """One DataLoader, and one pool of persistent workers, for several datasets.

    Training and validation passes alternate; with a loader each, the idle
    workers of one would stay alive while the other's run, doubling what the
    workers cost. ``view(k)`` iterates dataset k with batch sampler k; the
    keyword arguments go to :func:`make_loader`.
    """

    def __init__(self, datasets, samplers, **kwargs):
        self.sampler = _MuxSampler(samplers)
        self.loader = make_loader(_MuxDataset(datasets), self.sampler, **kwargs)

    def view(self, k):
        return _LoaderView(self, k)
