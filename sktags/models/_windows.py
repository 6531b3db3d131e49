"""Crops and windows of CNNTagger: random training crops, window-averaged prediction.

With ``crop_frames`` set, CNNTagger never feeds a whole clip to its network:

- training reads one random crop of ``crop_frames`` frames per clip and
  epoch; the offset is a function of ``(seed, epoch, clip)`` only, so it is
  reproducible, different each epoch, independent of the batch order and
  identical after resuming from a checkpoint;
- validation and prediction read the windows of :func:`window_starts`, and a
  clip's probability (or embedding) is the mean over its windows.

Clips may be a 4-D array (``np.memmap`` welcome), a list or 1-D object array
of (1, n_mels, n_frames_i) arrays, or any sequence with ``len()``, ``[i]``
and optionally ``read(i, start, stop)`` (``RaggedSpectrograms``). Only the
frames of a crop or window are read.
"""

import numpy as np
import torch

from .._mmap import picklable, unwrap
from ._data import BatchDataset, release_pages


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
    >>> from sktags.models._windows import window_starts
    >>> window_starts(10, 4, 3).tolist()
    [0, 3, 6]
    >>> window_starts(11, 4, 3).tolist()
    [0, 3, 6, 7]
    >>> window_starts(3, 4, 2).tolist()
    [0]
    """
    n, c, hop = int(n_frames), int(crop_frames), int(hop)
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


class Clips:
    """Uniform read access to fixed- or variable-length spectrograms.

    ``lengths`` (n,) int64, ``n_mels``, ``len()`` and ``read(i, start, stop)``
    -> float32 (n_mels, stop - start), zero-padded past the clip's end.
    """

    def __init__(self, X):
        # a memmap pickles as its file, path and offset (DataLoader workers)
        self._X = picklable(X) if isinstance(X, np.ndarray) and X.dtype.kind != "O" else X
        if isinstance(X, np.ndarray) and X.dtype.kind != "O":
            self.fixed = True
            self.n_mels = int(X.shape[-2])
            self.lengths = np.full(X.shape[0], X.shape[-1], dtype=np.int64)
        else:
            self.fixed = False
            lengths = getattr(X, "lengths", None)
            if lengths is None:
                lengths = [np.shape(X[i])[-1] for i in range(len(X))]
            self.lengths = np.asarray(lengths, dtype=np.int64)
            n_mels = getattr(X, "n_mels", None)
            self.n_mels = int(n_mels if n_mels is not None else np.shape(X[0])[-2])

    @property
    def X(self):
        """The spectrograms (a fixed-length array is reopened in a worker)."""
        return unwrap(self._X)

    def __len__(self):
        return len(self.lengths)

    def read(self, i, start, stop):
        n = int(self.lengths[i])
        out = np.zeros((self.n_mels, stop - start), dtype=np.float32)
        end = min(stop, n)
        if end <= start:
            return out
        if self.fixed:
            out[:, :end - start] = self.X[i, ..., start:end].reshape(self.n_mels, end - start)
            release_pages(self.X)
        elif hasattr(self.X, "read"):
            out[:, :end - start] = np.asarray(self.X.read(i, start, end)).reshape(
                self.n_mels, end - start)
        else:
            clip = self.X[i]
            out[:, :end - start] = np.asarray(clip)[..., start:end].reshape(
                self.n_mels, end - start)
        return out


class CropDataset(BatchDataset):
    """One random crop per clip and epoch, with its targets and weights (training).

    Items are encoded as ``epoch * len(self) + position`` by
    :meth:`batch_sampler` (so that DataLoader workers, which hold a copy of
    the dataset, know the epoch); ``__getitems__`` returns
    ``(x, (y, w))`` with x of shape (batch, 1, n_mels, crop_frames).
    """

    def __init__(self, clips, indices, crop_frames, seed, Y, W):
        self.clips = clips
        self.indices = np.asarray(indices, dtype=np.intp)
        self.crop_frames = int(crop_frames)
        self.seed = int(seed)
        self.Y = Y
        self.W = W

    def __len__(self):
        return len(self.indices)

    def batch_sampler(self, sampler, epoch_source):
        """Wrap a batch sampler of positions so that each item carries the epoch."""
        return _EpochTagged(sampler, len(self), epoch_source)

    def __getitems__(self, items):
        items = np.asarray(items, dtype=np.int64)
        epochs, positions = np.divmod(items, max(len(self), 1))
        rows = self.indices[positions]
        c = self.crop_frames
        xb = np.empty((len(rows), 1, self.clips.n_mels, c), dtype=np.float32)
        for k, (row, epoch) in enumerate(zip(rows, epochs)):
            start = crop_offset(self.clips.lengths[row], c, self.seed, epoch, row)
            xb[k, 0] = self.clips.read(row, start, start + c)
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

    def __init__(self, clips, indices, crop_frames, hop, Y=None, W=None):
        self.clips = clips
        self.indices = np.asarray(indices, dtype=np.intp)
        self.crop_frames = int(crop_frames)
        per_clip = [window_starts(clips.lengths[r], crop_frames, hop) for r in self.indices]
        self.counts = np.array([len(s) for s in per_clip], dtype=np.intp)
        self.starts = (np.concatenate(per_clip) if per_clip
                       else np.zeros(0, dtype=np.int64))
        self.clip_of = np.repeat(np.arange(len(self.indices)), self.counts)
        self.Y = Y
        self.W = W

    def __len__(self):
        return len(self.starts)

    def __getitems__(self, positions):
        positions = np.asarray(positions, dtype=np.intp)
        rows = self.indices[self.clip_of[positions]]
        c = self.crop_frames
        xb = np.empty((len(rows), 1, self.clips.n_mels, c), dtype=np.float32)
        for k, (row, start) in enumerate(zip(rows, self.starts[positions])):
            xb[k, 0] = self.clips.read(row, int(start), int(start) + c)
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


def check_clips(X, *, name="X"):
    """Validate variable-length spectrograms (list, object array or ragged sequence).

    Each clip must be a real (1, n_mels, n_i) or (n_mels, n_i) array with
    n_i >= 1, the same n_mels for all, and finite values. Returns
    ``(Clips(X), n_mels)``; the clips are read one at a time, never stacked.
    """
    if isinstance(X, np.ndarray) and X.dtype.kind == "O" and X.ndim != 1:
        raise ValueError(f"{name} must be a 1-D object array of clips, got shape {X.shape}.")
    try:
        n = len(X)
    except TypeError:
        raise ValueError(f"{name} must be a sequence of spectrograms, got {type(X).__name__}.")
    if n == 0:
        raise ValueError(f"{name} is empty.")
    is_ragged = hasattr(X, "lengths") and hasattr(X, "n_mels")
    n_mels = None
    for i in range(n):
        clip = X[i]
        if isinstance(clip, torch.Tensor):
            clip = clip.detach().cpu().numpy()
        shape = np.shape(clip)
        if len(shape) not in (2, 3) or (len(shape) == 3 and shape[0] != 1):
            raise ValueError(
                f"{name}[{i}] must have shape (1, n_mels, n_frames), got {shape}.")
        if n_mels is None:
            n_mels = shape[-2]
        if shape[-2] != n_mels:
            raise ValueError(f"{name}[{i}] has {shape[-2]} mel bands, {name}[0] has {n_mels}.")
        if shape[-1] == 0 or shape[-2] == 0:
            raise ValueError(f"{name}[{i}] is empty (shape {shape}).")
        arr = np.asarray(clip)
        if arr.dtype.kind not in "fiu":
            raise ValueError(f"{name}[{i}] must hold real numbers, got dtype {arr.dtype}.")
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or inf in sample {i}.")
    if not is_ragged and not (isinstance(X, np.ndarray) or hasattr(X, "read")):
        X = [np.asarray(c.detach().cpu().numpy() if isinstance(c, torch.Tensor) else c)
             for c in X]
    return Clips(X), int(n_mels)
