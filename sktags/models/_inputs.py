"""What a tagger is given: X validated once into a :class:`ModelInput`, and the targets.

Every entry point of the taggers (``fit``, ``predict_proba``, ``transform``,
...) turns its X into one :class:`ModelInput` here, with one set of error
messages (empty input in scikit-learn's words). The datasets, the windows and
the checkpoints read that object, never X again.

X may be a large ``np.memmap``: nothing here copies it whole. Validation
scans it chunk by chunk, and a batch is read with one indexing call and
converted to float32 on its own. A :class:`ModelInput` over a memmap pickles
as a reference to its file (:mod:`sktags._mmap`), so DataLoader workers map
the file again instead of receiving a copy. Only numpy and torch are imported
at module level (scikit-learn on demand), to keep the workers lean.
"""

import mmap

import numpy as np
import torch

from .._mmap import memmap_root, picklable, unwrap

_CHUNK_BYTES = 16 * 2**20


def release_pages(X):
    """Unmap the pages of a memmapped X that this process has read so far.

    Pages read through a memory map count in the process' resident memory
    until the kernel reclaims them; ``MADV_DONTNEED`` drops them from this
    process' page tables (the data stays in the page cache and the file). A
    no-op for in-memory arrays, copy-on-write maps and platforms without
    ``madvise``.
    """
    root = memmap_root(X) if isinstance(X, np.ndarray) else None
    if root is None or not hasattr(mmap, "MADV_DONTNEED"):
        return
    try:
        root.base.madvise(mmap.MADV_DONTNEED)
    except (OSError, ValueError, AttributeError):
        pass


class ModelInput:
    """X validated once: a stack of same-shape samples, or variable-length clips.

    Built by :func:`spectrogram_input` or :func:`vector_input`, never by hand.

    Attributes
    ----------
    data : ndarray or sequence
        The validated array (an ``np.memmap`` is kept, not copied) or the clips.
    fixed : bool
        Whether ``data`` is one numeric array (every sample the same shape).
    sample_shape : tuple of int
        ``(1, n_mels, n_frames)`` of a spectrogram (``n_frames`` None for
        clips of several lengths), or ``(n_features,)`` of a vector.
    n_mels : int or None
        Mel bands of a spectrogram input.
    lengths : ndarray of shape (n_samples,) or None
        Frames of each spectrogram.
    """

    def __init__(self, data, sample_shape, lengths=None):
        self.fixed = isinstance(data, np.ndarray) and data.dtype.kind != "O"
        self._data = picklable(data) if self.fixed else data
        self.sample_shape = tuple(sample_shape)
        self.n_mels = self.sample_shape[1] if len(self.sample_shape) == 3 else None
        self._lengths = lengths
        self.n_samples = len(data) if lengths is None else len(lengths)

    @property
    def lengths(self):
        if self._lengths is None and self.n_mels is not None:  # fixed: made on first use
            self._lengths = np.full(self.n_samples, self.sample_shape[2], dtype=np.int64)
        return self._lengths

    def __getstate__(self):
        state = dict(self.__dict__)
        if self.fixed:
            state["_lengths"] = None  # a worker makes its own (pickles stay small)
        return state

    @property
    def data(self):
        """X itself (a memmap is mapped again from its file in a worker process)."""
        return unwrap(self._data)

    def __len__(self):
        return self.n_samples

    def read_rows(self, rows):
        """Float32 tensor (len(rows), \\*sample_shape) of the sorted ``rows`` (fixed input)."""
        # The batch handed to torch must be a fresh, writable array: a view of
        # a read-only memmap would make torch warn, a view of an in-memory X
        # would share the caller's memory. Only the batch is copied, once.
        X, n = self.data, len(rows)
        if n and rows[-1] - rows[0] == n - 1:  # contiguous: a view, copied here
            xb = np.array(X[rows[0]:rows[-1] + 1], dtype=np.float32, order="C")
        else:  # fancy indexing already returns a fresh array
            xb = np.asarray(X[rows], dtype=np.float32, order="C")
        release_pages(X)
        return torch.from_numpy(xb.reshape(n, *self.sample_shape))

    def read(self, i, start, stop):
        """Float32 (n_mels, stop - start) frames of spectrogram ``i``, zero-padded past its end."""
        X, n_mels = self.data, self.n_mels
        out = np.zeros((n_mels, stop - start), dtype=np.float32)
        end = min(stop, int(self.lengths[i]))
        if end <= start:
            return out
        if self.fixed:
            part = X[i, ..., start:end]
            release_pages(X)
        elif hasattr(X, "read"):  # RaggedSpectrograms reads only these frames
            part = X.read(i, start, end)
        else:
            part = np.asarray(X[i])[..., start:end]
        out[:, :end - start] = np.asarray(part).reshape(n_mels, end - start)
        return out


def _empty(shape, estimator_name, what="sample"):
    return ValueError(f"Found array with 0 {what}(s) (shape={tuple(shape)}) while a minimum "
                      f"of 1 is required by {estimator_name}.")


def _is_clips(X):
    """Whether X is a sequence of separate spectrograms rather than one array."""
    if hasattr(X, "lengths") and hasattr(X, "n_mels"):
        return True
    if isinstance(X, np.ndarray):
        return X.dtype.kind == "O" and X.ndim == 1 and len(X) and np.ndim(X[0]) >= 2
    return (isinstance(X, (list, tuple)) and len(X) > 0
            and isinstance(X[0], (np.ndarray, torch.Tensor)) and X[0].ndim >= 2)


def spectrogram_input(X, *, crop_frames=None, fitted_shape=None, estimator_name="CNNTagger"):
    """Validate spectrograms into a :class:`ModelInput`, without copying a memmap.

    X may be a 4-D (n, 1, n_mels, n_frames) or 3-D (n, n_mels, n_frames)
    array (a 2-D (n, d) one is read as n one-band spectrograms (n, 1, 1, d)),
    or, with ``crop_frames``, clips of several lengths: a list or 1-D object
    array of (1, n_mels, n_i) arrays, or a ``RaggedSpectrograms``. The NaN /
    inf scan is skipped under ``sklearn.config_context(assume_finite=True)``.
    ``fitted_shape`` (prediction) is the ``input_shape_`` that X must match: all
    of it without crops, its ``n_mels`` with them.
    """
    inputs = _spectrogram_input(X, crop_frames, estimator_name)
    if fitted_shape is None:
        return inputs
    if crop_frames is not None:
        if inputs.n_mels != fitted_shape[1]:
            raise ValueError(f"X has {inputs.n_mels} mel bands, but the tagger was "
                             f"fitted on {fitted_shape[1]}.")
    elif inputs.sample_shape != tuple(fitted_shape):
        raise ValueError(
            f"X has {int(np.prod(inputs.sample_shape))} features, but {estimator_name} is "
            f"expecting {int(np.prod(fitted_shape))} features as input: it was fitted on "
            f"spectrograms of shape {tuple(fitted_shape)}, got {inputs.sample_shape}.")
    return inputs


def _spectrogram_input(X, crop_frames, estimator_name):
    import scipy.sparse as sp
    import sklearn

    check_finite = not sklearn.get_config()["assume_finite"]
    if sp.issparse(X):
        raise ValueError("X must be a dense array of spectrograms, got a sparse matrix.")
    if _is_clips(X):
        clips, n_mels, lengths = _check_clips(X, estimator_name, check_finite)
        if crop_frames is not None:
            return ModelInput(clips, (1, n_mels, None), lengths)
        if hasattr(X, "lengths") or len(set(lengths.tolist())) > 1:
            raise ValueError(f"X holds clips of different lengths ({lengths.min()} to "
                             f"{lengths.max()} frames); set crop_frames to train and predict "
                             "on crops and windows of them.")
        X = np.stack([np.asarray(c).reshape(1, n_mels, -1) for c in clips])
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    elif not isinstance(X, np.ndarray):
        try:
            X = np.asarray(X)
        except Exception as exc:
            raise ValueError(f"X could not be converted to an array: {exc}") from exc
    if X.ndim >= 1 and X.shape[0] == 0:
        raise _empty(X.shape, estimator_name)
    if X.ndim >= 2 and min(X.shape[1:]) == 0:
        raise _empty(X.shape, estimator_name, "feature")
    if X.dtype.kind == "O":  # numbers held as Python objects: convert (an in-memory array)
        X = X.astype(np.float64)
    if X.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: X has dtype {X.dtype}.")
    if X.dtype.kind in "US":  # e.g. a Pipeline with its steps swapped
        raise ValueError(f"X must hold real numbers, got strings (dtype {X.dtype}): "
                         f"{estimator_name} takes spectrograms, not audio files; put a "
                         "MelSpectrogramTransformer before it (first in a Pipeline).")
    if X.dtype.kind not in "fiu":
        raise ValueError(f"X must hold real numbers, got dtype {X.dtype}.")
    if X.ndim == 2:
        X = X.reshape(X.shape[0], 1, 1, X.shape[1])
    if X.ndim == 4 and X.shape[1] != 1:
        raise ValueError("X must have a single channel: expected shape (n_samples, 1, n_mels, "
                         f"n_frames), got {X.shape}.")
    if X.ndim not in (3, 4):
        raise ValueError(
            "X must be a 4-D (n_samples, 1, n_mels, n_frames) or 3-D (n_samples, n_mels, "
            f"n_frames) array of spectrograms, got an array of shape {X.shape}."
            + (" Reshape your data." if X.ndim < 3 else ""))
    if check_finite and X.dtype.kind == "f":
        _scan_finite(X)
    return ModelInput(X, (1, int(X.shape[-2]), int(X.shape[-1])))


def _scan_finite(X):
    """Raise on the first sample with NaN or inf, reading X about 16 MiB at a time."""
    step = max(1, _CHUNK_BYTES // max(1, X.itemsize * int(np.prod(X.shape[1:]))))
    for start in range(0, X.shape[0], step):
        chunk = X[start:start + step]
        finite = np.isfinite(chunk).reshape(chunk.shape[0], -1).all(axis=1)
        release_pages(X)
        if not finite.all():
            row = start + int(np.flatnonzero(~finite)[0])
            raise ValueError(f"X contains NaN or inf in sample {row}.")


def _check_clips(X, estimator_name, check_finite):
    """(clips, n_mels, lengths) of a sequence of (1, n_mels, n_i) spectrograms, read one by one."""
    if len(X) == 0:
        raise _empty((0,), estimator_name)
    ragged = hasattr(X, "lengths") and hasattr(X, "n_mels")
    n_mels, lengths = None, np.zeros(len(X), dtype=np.int64)
    for i in range(len(X)):
        clip = X[i]
        if isinstance(clip, torch.Tensor):
            clip = clip.detach().cpu().numpy()
        shape = np.shape(clip)
        if len(shape) not in (2, 3) or (len(shape) == 3 and shape[0] != 1):
            raise ValueError(f"X[{i}] must have shape (1, n_mels, n_frames), got {shape}.")
        n_mels = shape[-2] if n_mels is None else n_mels
        if shape[-2] != n_mels:
            raise ValueError(f"X[{i}] has {shape[-2]} mel bands, X[0] has {n_mels}.")
        if shape[-1] == 0 or shape[-2] == 0:
            raise ValueError(f"X[{i}] is empty (shape {shape}); each clip needs at least one "
                             "mel band and one frame.")
        arr = np.asarray(clip)
        if arr.dtype.kind not in "fiu":
            raise ValueError(f"X[{i}] must hold real numbers, got dtype {arr.dtype}.")
        if check_finite and arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise ValueError(f"X contains NaN or inf in sample {i}.")
        lengths[i] = shape[-1]
    if not ragged and not (isinstance(X, np.ndarray) or hasattr(X, "read")):
        X = [np.asarray(c.detach().cpu().numpy() if isinstance(c, torch.Tensor) else c)
             for c in X]
    return X, int(n_mels), lengths


def vector_input(estimator, X, *, reset):
    """Validate fixed-length vectors (n_samples, n_features) into a :class:`ModelInput`.

    scikit-learn's ``validate_data`` (its messages, ``n_features_in_`` and
    ``feature_names_in_``, set when ``reset``, checked otherwise).
    """
    from sklearn.utils.validation import validate_data

    X = validate_data(estimator, X, reset=reset, dtype=(np.float32, np.float64))
    return ModelInput(X, (X.shape[1],))


def check_target(y, estimator_name):
    """Validate y once: (Y as (n, m) uint8 indicators, classes_, outputs_2d).

    A 1-D y holds any two class labels (``classes_ = np.unique(y)``; the
    second is the positive class); a 2-D y holds 0/1 indicators.
    """
    import scipy.sparse as sp
    from sklearn.utils.multiclass import type_of_target

    from ..utils import check_label_matrix

    if y is None:
        raise ValueError(f"{estimator_name} requires y to be passed, but the target y is None.")
    if not sp.issparse(y):
        y = np.asarray(y) if not hasattr(y, "ndim") else y
        if y.ndim in (1, 2) and y.shape[0] == 0:
            raise ValueError(f"Found array with 0 sample(s) (shape={y.shape}) while a "
                             "minimum of 1 is required.")
        if y.ndim == 1:
            return _binary_target(np.asarray(y), estimator_name, type_of_target)
    try:
        Y = check_label_matrix(y, name="y")
    except ValueError as exc:
        try:
            kind = type_of_target(y, input_name="y")
        except ValueError as exc2:  # NaN or inf, in scikit-learn's words, then ours
            raise ValueError(f"{exc2} {exc}") from None
        if kind.startswith("continuous") or kind == "unknown":
            raise ValueError(f"Unknown label type: {kind}. {exc}") from None
        if kind.startswith("multiclass"):
            raise ValueError(
                f"Only binary classification is supported. The type of the target is {kind}; "
                f"a 2-D y holds 0/1 tag indicators. {exc}") from None
        raise
    return Y, [np.array([0, 1]) for _ in range(Y.shape[1])], True


def _binary_target(y, estimator_name, type_of_target):
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError(f"Input y contains NaN or inf (first at row "
                         f"{int(np.flatnonzero(~np.isfinite(y))[0])}).")
    kind = type_of_target(y, input_name="y")
    if kind.startswith("continuous") or kind == "unknown":
        raise ValueError(f"Unknown label type: {kind}. {estimator_name} is a classifier: y "
                         "must hold two class labels (1-D) or 0/1 tag indicators (2-D).")
    classes = np.unique(y)
    if classes.shape[0] == 1:
        raise ValueError(f"y has only one class, {classes[0].tolist()!r}; {estimator_name} "
                         "needs two classes in a 1-D y (or use a 2-D indicator matrix).")
    if classes.shape[0] > 2:
        raise ValueError(
            f"Only binary classification is supported. The type of the target is {kind} "
            f"({classes.shape[0]} classes); for several tags pass a 2-D 0/1 indicator matrix.")
    return (y == classes[1]).astype(np.uint8).reshape(-1, 1), classes, False


def check_side_inputs(playlist_counts, groups, shape):
    """Validated (counts or None, groups or None) for labels of ``shape``."""
    from ..utils import check_nonnegative_counts

    counts = None
    if playlist_counts is not None:
        counts = check_nonnegative_counts(playlist_counts, name="playlist_counts", shape=shape)
    if groups is not None:
        groups = np.asarray(groups)
        if groups.ndim != 1 or groups.shape[0] != shape[0]:
            raise ValueError(f"groups must be 1-D with one entry per sample ({shape[0]}), "
                             f"got shape {groups.shape}.")
    return counts, groups
