"""CNNTagger: the paper's CNN as a multilabel scikit-learn classifier."""

import hashlib
import json
import numbers
import os
import warnings

import numpy as np
import scipy.sparse as sp
import torch
from scipy.special import expit
from sklearn.base import (BaseEstimator, ClassifierMixin, ClassNamePrefixFeaturesOutMixin,
                          MultiOutputMixin, TransformerMixin, clone)
from sklearn.utils import TransformerTags
from sklearn.model_selection import GroupShuffleSplit, ShuffleSplit
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted
from skorch.history import History

from ..utils._atomic import atomic_path
from ..utils import check_label_matrix, check_nonnegative_counts
from ._callbacks import (
    CHECKPOINT_NAME,
    EpochEnd,
    best_epoch_from_history,
    load_checkpoint,
    restore_best_scores,
)
from ._data import SpectrogramDataset, check_spectrograms
from ._optim import resolve_optimizer
from ._recipe import (check_input, check_recipe_params, fingerprint_clips, resolve_module,
                      window_params)
from ._windows import CropDataset, WindowDataset
from ._loss import WeightedBCEWithLogitsLoss
from ._net import FixedSplit, TaggerNet

__all__ = ["CNNTagger"]

# Parameters that do not change what a training computes; a checkpoint written
# under other values of these is resumed (see CNNTagger, "Checkpoints").
_NOT_FINGERPRINTED = frozenset({
    "max_epochs", "patience", "verbose", "checkpoint_dir", "num_workers", "device",
    "threshold", "channels_last",
})


def _describe(value):
    """A stable text description of a parameter value, for fingerprints."""
    if hasattr(value, "get_params") and not isinstance(value, type):
        params = value.get_params(deep=False)
        inner = ",".join(f"{k}={_describe(v)}" for k, v in sorted(params.items()))
        return f"{type(value).__module__}.{type(value).__qualname__}({inner})"
    if isinstance(value, np.random.RandomState):
        return "RandomState"
    if isinstance(value, np.ndarray):
        return f"ndarray{value.shape}{value.dtype}:" + hashlib.sha256(
            np.ascontiguousarray(value).tobytes()).hexdigest()
    if isinstance(value, (list, tuple)):
        return "(" + ",".join(_describe(v) for v in value) + ")"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k!r}:{_describe(v)}" for k, v in sorted(value.items())) + "}"
    if callable(value):
        func = getattr(value, "func", None)  # functools.partial
        if func is not None:
            return (f"partial({_describe(func)},{_describe(list(value.args))},"
                    f"{_describe(dict(value.keywords))})")
        return f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', repr(value))}"
    return repr(value)


def _check_target(y):
    """(n, m) uint8 indicators and the rank of y; errors use sklearn's phrases."""
    ndim = 2 if sp.issparse(y) else np.asarray(y).ndim
    try:
        return check_label_matrix(y, name="y", allow_1d=True), ndim
    except ValueError as exc:
        try:
            with warnings.catch_warnings():  # only used to word the message
                warnings.simplefilter("ignore")
                kind = type_of_target(y, input_name="y")
        except ValueError as exc2:  # NaN or inf, in sklearn's words, then ours
            raise ValueError(f"{exc2} {exc}") from None
        if kind.startswith("continuous") or kind == "unknown":
            raise ValueError(f"Unknown label type: {kind}. {exc}") from None
        if kind.startswith("multiclass"):
            raise ValueError(
                f"Only binary classification is supported. The type of the target is {kind}; "
                f"CNNTagger needs 0/1 tag indicators. {exc}") from None
        raise


class CNNTagger(MultiOutputMixin, ClassifierMixin, ClassNamePrefixFeaturesOutMixin,
                TransformerMixin, BaseEstimator):
    """Multilabel CNN tagger trained with the sample-level weighted loss.

    The model of Ibrahim et al. (ICASSP 2020): log-mel spectrograms in, one
    sigmoid output per tag, trained with the binary cross-entropy in which
    each (track, tag) entry has its own confidence weight (equation 2),
    computed by a :class:`~sktags.ContextWeightEstimator` from the training
    labels. The estimator builds a skorch ``NeuralNet`` and keeps it in
    ``net_``; it is not itself a ``NeuralNet``, so nested parameters such as
    ``weighting__negative`` work with ``set_params`` and ``GridSearchCV``.

    Parameters
    ----------
    module : {"ibrahim2020", "short_chunk"}, callable or None, default=None
        None or "ibrahim2020" builds the paper's network,
        :class:`~sktags.models.TaggerCNN`, with ``filters``, ``hidden_units``
        and ``dropout``. "short_chunk" builds a
        :class:`~sktags.models.ShortChunkCNN` with its default widths (use
        ``functools.partial(ShortChunkCNN, channels=...)`` for others); it
        suits ``crop_frames`` (see :doc:`/real_music`). Otherwise a class
        or function called as ``module(n_mels=..., n_frames=..., n_labels=...)``
        that returns a ``torch.nn.Module`` mapping a (batch, 1, n_mels,
        n_frames) float tensor to (batch, n_labels) logits. Use
        ``functools.partial`` to bind other arguments. (A class rather than an
        instance keeps ``clone`` and refits independent.)
    filters : tuple of int, default=(32, 64, 128, 256)
        Filters of the conv blocks of the default network.
    hidden_units : int, default=256
        Width of the hidden dense layer of the default network.
    dropout : float, default=0.3
        Dropout probability after the hidden dense layer of the default network.
    weighting : estimator or None, default=None
        None gives every entry weight 1 (the plain binary cross-entropy).
        Otherwise an unfitted :class:`~sktags.ContextWeightEstimator` (or any
        estimator with ``fit(Y, playlist_counts=None)`` and
        ``transform(Y, playlist_counts=None)`` returning (n, m) weights). It is
        cloned into ``weighting_`` and fitted on the labels of the training
        part only; the validation part gets its weights from the same fitted
        clone. ``self.weighting`` is never modified.
    lr : float or None, default=None
        Initial Adadelta learning rate, or AdamW's peak rate of the one-cycle
        schedule. None uses 0.1 for Adadelta (the paper's) and 3e-3 for AdamW.
    rho : float, default=0.95
        Adadelta decay rate (TensorFlow's default, used by the authors).
    eps : float, default=1e-8
        Adadelta epsilon (TensorFlow's default).
    lr_decay : float, default=0.95
        Staircase decay factor: ``lr * lr_decay ** floor(step / lr_decay_steps)``
        with ``step`` the number of training batches so far.
    lr_decay_steps : int, default=1000
        Batches per decay step.
    batch_size : int, default=32
        Batch size for training, validation and prediction.
    max_epochs : int, default=100
        Upper bound on the number of epochs. The paper gives none; training
        normally ends earlier through early stopping.
    patience : int or None, default=10
        Stop after this many epochs without a (strict) improvement of the
        weighted validation loss, and restore the weights of the best epoch.
        None trains ``max_epochs`` epochs (still restoring the best weights
        when there is a validation split).
    valid_size : float, int or None, default=0.1
        Fraction (or number) of the training samples held out for the
        validation loss (early stopping) and for ``threshold="f1"``. With
        ``groups`` the split is group-disjoint and ``valid_size`` counts
        groups, as in :class:`~sklearn.model_selection.GroupShuffleSplit`.
        The split is random, not stratified. None disables validation:
        training runs ``max_epochs`` epochs and keeps the final weights.
    threshold : float, array-like of shape (n_labels,) or "f1", default=0.5
        Decision threshold(s) of :meth:`predict` on the probabilities (a
        label is predicted when its probability is >= its threshold). "f1"
        tunes one threshold per label on the internal validation split with
        :func:`sktags.metrics.tune_thresholds`. The thresholds used are stored
        in ``thresholds_`` at fit.
    device : str, default="auto"
        Torch device; "auto" uses CUDA when available. Resolved in ``fit``
        into ``device_``. A model trained on a GPU can be unpickled and used
        on a machine without one (it is then moved to the CPU).
    channels_last : bool, default=True
        Run the convolutions in the channels-last memory format: the same
        numerics, about 1.5x faster training on the CPUs this was measured on.
    precision : {"float32", "bfloat16"}, default="float32"
        "bfloat16" runs the forward pass under bfloat16 autocast (faster on
        CPUs with AVX-512 BF16 and on GPUs, less accurate); the loss is
        always computed in float32.
    num_workers : int, default=0
        DataLoader worker processes. 0 reads batches in the training process,
        which is enough on a CPU; use a few on a GPU.
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, dropout, the validation split and
        the batch order. With an int, fits on the same data and device give
        identical predictions on the CPU. The torch global random state of
        the caller is left unchanged.
    checkpoint_dir : str, path or None, default=None
        Directory for checkpoints; see Notes.
    verbose : int, default=0
        Print skorch's per-epoch table when > 0.
    crop_frames : int or None, default=None
        None feeds whole inputs to the network (the paper). With an int,
        training draws one random crop of ``crop_frames`` frames from every
        clip in every epoch (seeded by ``random_state``, the epoch and the
        clip; a shorter clip is zero-padded), and validation,
        :meth:`predict_proba`, :meth:`predict` and :meth:`transform` average
        over windows of ``crop_frames`` frames starting at 0, ``crop_hop``,
        2·``crop_hop``, ... plus a last window ending at the clip's end when
        the tail is not covered; a clip's probability is the mean of its
        windows' probabilities. X may then hold clips of different lengths.
        Only the frames of a crop or window are read from a memmap.
    crop_hop : int or None, default=None
        Hop between prediction windows; None means ``crop_frames // 2``.
    optimizer : {"adadelta", "adamw"}, default="adadelta"
        "adadelta" is the paper's, with the staircase decay of ``lr_decay``
        and ``lr_decay_steps``. "adamw" uses AdamW with ``weight_decay`` and
        a one-cycle schedule stepped per batch over ``max_epochs`` epochs
        (cosine warm-up from ``lr / 25`` to ``lr`` over 30 % of the batches,
        cosine annealing to ``lr / 25e4``); ``rho``, ``eps``, ``lr_decay``
        and ``lr_decay_steps`` are then unused. As the schedule spans
        ``max_epochs``, a checkpoint of an "adamw" training is only resumed
        with the same ``max_epochs``.
    weight_decay : float, default=0.01
        AdamW's decoupled weight decay (unused by Adadelta).
    mixup : float, default=0.0
        Mixup's alpha: each training batch is replaced by
        ``lam * batch + (1 - lam) * batch[perm]`` with ``lam ~ Beta(alpha,
        alpha)``, for the inputs, the targets and the per-entry confidence
        weights alike (seeded by ``random_state``, the epoch and the batch).
        0 disables it.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained net; ``net_.module_`` is the torch module and
        ``net_.history`` the per-epoch history (train_loss, valid_loss, ...).
    weighting_ : estimator or None
        The fitted clone of ``weighting``.
    classes_ : list of ndarray or ndarray
        ``[array([0, 1])] * n_labels`` for a 2-D ``y``; ``array([0, 1])`` for
        a 1-D ``y``.
    n_labels_ : int
        Number of tags m.
    outputs_2d_ : bool
        Whether ``y`` was 2-D at fit. With a 1-D ``y`` the tagger behaves as a
        binary classifier: ``predict`` gives shape (n,) and ``predict_proba``
        (n, 2).
    input_shape_ : tuple of int
        ``(1, n_mels, n_frames)`` of the network's input: the shape seen at
        fit, which prediction requires, or ``(1, n_mels, crop_frames)`` with
        crops (prediction then requires only the same ``n_mels``).
    window_ : tuple of (int, int) or None
        ``(crop_frames, crop_hop)`` used at fit, or None.
    thresholds_ : ndarray of shape (n_labels,)
        Per-label decision thresholds used by :meth:`predict`.
    device_ : str
        The device used.
    seed_ : int
        Seed derived from ``random_state`` (or read back from a checkpoint).
    valid_indices_ : ndarray of int or None
        Rows of X used for validation (sorted).
    n_epochs_ : int
        Epochs trained in total (including epochs resumed from a checkpoint).
    best_epoch_ : int
        Epoch (1-based) whose weights the model holds.
    checkpoint_path_ : str or None
        The checkpoint file of this fit.

    Notes
    -----
    **Loss.** The mean over batch x labels of ``w_ij * BCE(z_ij, y_ij)`` on the
    logits z, with w the weights of ``weighting_`` (see
    :func:`~sktags.models.weighted_bce_with_logits`). Early stopping monitors
    the same weighted loss on the validation part.

    **Memory.** ``X`` may be an ``np.memmap`` of float16 or float32: it is
    validated chunk by chunk and read one batch at a time (converted to
    float32 per batch), so training never holds a full copy in memory. The
    pages of a shared memmap that were read are unmapped again after each
    batch (``MADV_DONTNEED``; they stay in the page cache), so that they do
    not pile up in the resident memory of the process either.

    **Checkpoints.** With ``checkpoint_dir``, the state at the end of every
    epoch (weights, best weights so far, optimizer, history and random
    generator states) is written atomically to
    ``checkpoint_dir/cnntagger-<fingerprint>/checkpoint.pt``. The fingerprint
    hashes the parameters that change what training computes (all but
    ``max_epochs``, ``patience``, ``verbose``, ``checkpoint_dir``,
    ``num_workers``, ``device``, ``threshold`` and ``channels_last``) and
    the data (shapes, dtypes, labels, counts, groups and a sample of rows of
    X). A fit whose fingerprint matches an existing checkpoint resumes after
    its last completed epoch: a killed training loses at most the epoch in
    progress, and the resumed run is identical to an uninterrupted one on the
    CPU. A checkpoint of a training that had already finished (early stopping
    or ``max_epochs`` reached) is loaded without training again; raising
    ``max_epochs`` or ``patience`` continues it, while lowering them does not
    undo epochs already trained (``n_epochs_`` may then exceed ``max_epochs``). Different parameters or data
    use another sub-directory, so one ``checkpoint_dir`` can serve a whole
    ``GridSearchCV``. With ``random_state=None`` a resumed fit reuses the
    seed stored in the checkpoint.

    **Interrupting.** Ctrl-C (``KeyboardInterrupt``) during ``fit`` is raised
    again, unlike in skorch, which ends training quietly: the estimator is
    not left looking fitted with a half-trained model (a previous fit's
    attributes, if any, stay as they were). With ``checkpoint_dir``, the
    checkpoint of the last completed epoch is on disk, and the same ``fit``
    resumes from it.

    **Speed.** ``channels_last=True`` (the default) and
    ``precision="bfloat16"`` are the in-library levers. Two process-wide
    settings, which a library must not change for its caller, were measured
    to speed up CPU training by another 1.4-1.8x: a memory allocator that
    keeps freed memory, e.g. ``LD_PRELOAD=libjemalloc.so.2
    MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1``, or
    ``GLIBC_TUNABLES=glibc.malloc.hugetlb=1``. ``num_workers`` > 0 reads
    batches in forked worker processes (Linux' default start method), which
    share a memmap without copying it.

    Examples
    --------
    >>> import numpy as np
    >>> from sktags.models import CNNTagger
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 1, 16, 16)).astype(np.float32)
    >>> Y = (rng.random((40, 3)) < 0.5).astype(int)
    >>> tagger = CNNTagger(filters=(4, 4, 4, 4), hidden_units=8, max_epochs=2,
    ...                    random_state=0).fit(X, Y)
    >>> tagger.predict_proba(X).shape
    (40, 3)
    >>> tagger.predict(X[:2]).shape
    (2, 3)
    """

    def __init__(
        self,
        *,
        module=None,
        filters=(32, 64, 128, 256),
        hidden_units=256,
        dropout=0.3,
        weighting=None,
        lr=None,
        rho=0.95,
        eps=1e-8,
        lr_decay=0.95,
        lr_decay_steps=1000,
        batch_size=32,
        max_epochs=100,
        patience=10,
        valid_size=0.1,
        threshold=0.5,
        device="auto",
        channels_last=True,
        precision="float32",
        num_workers=0,
        random_state=None,
        checkpoint_dir=None,
        verbose=0,
        crop_frames=None,
        crop_hop=None,
        optimizer="adadelta",
        weight_decay=0.01,
        mixup=0.0,
    ):
        self.module = module
        self.filters = filters
        self.hidden_units = hidden_units
        self.dropout = dropout
        self.weighting = weighting
        self.lr = lr
        self.rho = rho
        self.eps = eps
        self.lr_decay = lr_decay
        self.lr_decay_steps = lr_decay_steps
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.valid_size = valid_size
        self.threshold = threshold
        self.device = device
        self.channels_last = channels_last
        self.precision = precision
        self.num_workers = num_workers
        self.random_state = random_state
        self.checkpoint_dir = checkpoint_dir
        self.verbose = verbose
        self.crop_frames = crop_frames
        self.crop_hop = crop_hop
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.mixup = mixup

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = True
        tags.classifier_tags.multi_class = False
        tags.classifier_tags.multi_label = True
        tags.classifier_tags.poor_score = True
        # transform gives embeddings (float32 whatever the input dtype)
        tags.transformer_tags = TransformerTags(preserves_dtype=["float32"])
        return tags

    # ------------------------------------------------------------------ checks

    def _check_params(self):
        def positive_int(name, allow_none=False):
            value = getattr(self, name)
            if value is None and allow_none:
                return
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}.")

        def positive_float(name, upper=None):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
                    np.isfinite(value) and value > 0 and (upper is None or value <= upper)):
                bound = f" and at most {upper}" if upper is not None else ""
                raise ValueError(f"{name} must be a number > 0{bound}, got {value!r}.")

        for name in ("hidden_units", "lr_decay_steps", "batch_size", "max_epochs"):
            positive_int(name)
        positive_int("patience", allow_none=True)
        positive_float("eps")
        check_recipe_params(self)
        for name in ("rho", "lr_decay"):
            positive_float(name, upper=1.0)
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, numbers.Real) or \
                not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}.")
        if not isinstance(self.num_workers, numbers.Integral) or self.num_workers < 0:
            raise ValueError(f"num_workers must be an int >= 0, got {self.num_workers!r}.")
        vs = self.valid_size
        if vs is not None:
            ok = (isinstance(vs, numbers.Integral) and not isinstance(vs, bool) and vs >= 1) or (
                isinstance(vs, numbers.Real) and not isinstance(vs, (bool, numbers.Integral))
                and 0 < vs < 1)
            if not ok:
                raise ValueError(
                    f"valid_size must be None, a float in (0, 1) or an int >= 1, got {vs!r}.")
        if self.precision not in ("float32", "bfloat16"):
            raise ValueError(
                f"precision must be 'float32' or 'bfloat16', got {self.precision!r}.")
        if self.weighting is not None and not (hasattr(self.weighting, "fit")
                                               and hasattr(self.weighting, "transform")):
            raise ValueError(
                "weighting must be None or an estimator with fit and transform, "
                f"got {self.weighting!r}.")

    def _resolve_device(self):
        device = self.device
        if device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        try:
            dev = torch.device(device)
        except (RuntimeError, TypeError) as exc:
            raise ValueError(f"device {device!r} is not a valid torch device.") from exc
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device={device!r} was requested but CUDA is not available.")
        return str(dev)

    def _resolve_thresholds(self, m):
        t = self.threshold
        if isinstance(t, str):
            if t != "f1":
                raise ValueError(f"threshold must be a float, an array or 'f1', got {t!r}.")
            if self.valid_size is None:
                raise ValueError(
                    "threshold='f1' tunes the thresholds on the internal validation split, "
                    "which valid_size=None disables.")
            return "f1"
        try:
            arr = np.asarray(t, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"threshold must be a float, an array or 'f1', got {t!r}.") from exc
        if arr.ndim == 0:
            arr = np.full(m, float(arr))
        elif arr.shape != (m,):
            raise ValueError(
                f"threshold has shape {arr.shape}, expected a float or one per label ({m},).")
        if not (np.isfinite(arr).all() and (arr >= 0).all() and (arr <= 1).all()):
            raise ValueError(f"threshold values must lie in [0, 1], got {t!r}.")
        return arr

    def _split(self, n, groups, seed):
        if self.valid_size is None:
            return np.arange(n), None
        if groups is not None:
            splitter = GroupShuffleSplit(n_splits=1, test_size=self.valid_size, random_state=seed)
        else:
            splitter = ShuffleSplit(n_splits=1, test_size=self.valid_size, random_state=seed)
        try:
            train, valid = next(splitter.split(np.zeros((n, 1)), groups=groups))
        except ValueError as exc:
            raise ValueError(f"cannot split {n} samples with valid_size={self.valid_size!r}: "
                             f"{exc}") from exc
        if len(train) == 0 or len(valid) == 0:
            raise ValueError(
                f"valid_size={self.valid_size!r} leaves an empty training or validation part "
                f"({len(train)} / {len(valid)} samples); use more samples or valid_size=None.")
        return np.sort(train), np.sort(valid)

    def _fingerprint(self, X, Y, counts, groups, clips=None):
        h = hashlib.sha256()
        params = self.get_params(deep=False)
        for key in sorted(set(params) - _NOT_FINGERPRINTED):
            h.update(f"{key}={_describe(params[key])};".encode())
        if params.get("optimizer") == "adamw":  # the one-cycle schedule spans max_epochs
            h.update(f"max_epochs={params['max_epochs']};".encode())
        if clips is not None and not clips.fixed:
            fingerprint_clips(h, clips)
        else:
            h.update(f"X{tuple(X.shape)}{X.dtype};".encode())
            rows = np.unique(np.linspace(0, X.shape[0] - 1, min(X.shape[0], 16)).astype(np.intp))
            h.update(np.ascontiguousarray(X[rows]).tobytes())
        h.update(np.ascontiguousarray(Y).tobytes())
        if counts is not None:
            h.update(b"counts" + np.ascontiguousarray(counts).tobytes())
        if groups is not None:
            if groups.dtype.kind in "biuf":
                h.update(b"groups" + np.ascontiguousarray(groups).tobytes())
            else:
                h.update(("groups" + repr(groups.tolist())).encode())
        return h.hexdigest()

    def _config_json(self):
        params = self.get_params(deep=False)
        return json.dumps({k: _describe(v) for k, v in sorted(params.items())}, indent=1)

    # --------------------------------------------------------------------- fit

    def fit(self, X, y, playlist_counts=None, groups=None):
        """Train the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, 1, n_mels, n_frames) or (n_samples, n_mels, n_frames)
            Log-mel spectrograms, float32 or float16 (``np.memmap`` welcome;
            it is streamed, never copied whole).
        y : array-like of shape (n_samples, n_labels) or (n_samples,)
            Binary tag indicators; a 1-D y is one tag.
        playlist_counts : array-like of shape (n_samples, n_labels), default=None
            Per-track playlist counts, passed to ``weighting`` (needed for
            TF-IDF positive weights). Ignored when ``weighting`` is None.
        groups : array-like of shape (n_samples,), default=None
            Group labels (e.g. artists): the internal validation split keeps
            each group on one side.

        Returns
        -------
        self : CNNTagger
        """
        self._check_params()
        window = window_params(self)
        X, clips, _, input_shape = check_input(X, window, name="X")
        Y, y_ndim = _check_target(y)
        n, m = Y.shape
        n_x = len(clips) if clips is not None else X.shape[0]
        if n != n_x:
            raise ValueError(f"X has {n_x} samples but y has {n}.")
        counts = None
        if playlist_counts is not None:
            counts = check_nonnegative_counts(playlist_counts, name="playlist_counts",
                                              shape=Y.shape)
        if groups is not None:
            groups = np.asarray(groups)
            if groups.ndim != 1 or groups.shape[0] != n:
                raise ValueError(
                    f"groups must be 1-D with one entry per sample ({n}), got shape "
                    f"{groups.shape}.")
        thresholds = self._resolve_thresholds(m)
        device = self._resolve_device()
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

        checkpoint_file, checkpoint = None, None
        fingerprint = None
        if self.checkpoint_dir is not None:
            fingerprint = self._fingerprint(X, Y, counts, groups, clips)
            run_dir = os.path.join(os.fspath(self.checkpoint_dir), f"cnntagger-{fingerprint[:20]}")
            os.makedirs(run_dir, exist_ok=True)
            checkpoint_file = os.path.join(run_dir, CHECKPOINT_NAME)
            for name in os.listdir(run_dir):  # left by a process killed while saving
                if name.startswith(".") and name.endswith(".tmp"):
                    os.unlink(os.path.join(run_dir, name))
            checkpoint = load_checkpoint(checkpoint_file)
            if checkpoint is not None:
                if checkpoint.get("fingerprint") != fingerprint:
                    raise ValueError(
                        f"{checkpoint_file} belongs to another training (fingerprint mismatch); "
                        "remove it or use another checkpoint_dir.")
                seed = int(checkpoint["seed"])
            config = os.path.join(run_dir, "config.json")
            if not os.path.exists(config):
                with atomic_path(config, prefix=".config-", suffix=".tmp") as tmp:
                    with open(tmp, "w") as f:
                        f.write(self._config_json())

        train_idx, valid_idx = self._split(n, groups, seed)

        # Per-entry weights, from a clone fitted on the training part only.
        Yf = Y.astype(np.float32)
        if self.weighting is None:
            weighting = None
            W = np.ones_like(Yf)
        else:
            weighting = clone(self.weighting)

            def part(idx):
                return None if counts is None else counts[idx]

            weighting.fit(Y[train_idx], playlist_counts=part(train_idx))
            W = np.empty_like(Yf)
            W[train_idx] = self._checked_weights(
                weighting.transform(Y[train_idx], playlist_counts=part(train_idx)),
                len(train_idx), m)
            if valid_idx is not None:
                W[valid_idx] = self._checked_weights(
                    weighting.transform(Y[valid_idx], playlist_counts=part(valid_idx)),
                    len(valid_idx), m)

        if window is None:
            train_ds = SpectrogramDataset(X, train_idx, Yf, W)
            valid_ds = None if valid_idx is None else SpectrogramDataset(X, valid_idx, Yf, W)
        else:  # one random crop per clip and epoch; validation on windows
            train_ds = CropDataset(clips, train_idx, window[0], seed, Yf, W)
            valid_ds = None if valid_idx is None else WindowDataset(
                clips, valid_idx, *window, Yf, W)
        module, module_kwargs = resolve_module(self)
        optimizer, optimizer_kwargs, schedule = resolve_optimizer(self, len(train_idx))
        module_kwargs.update(n_mels=input_shape[1], n_frames=input_shape[2], n_labels=m)

        epoch_end = EpochEnd(
            monitor=None if valid_ds is None else "valid_loss",
            patience=self.patience,
            checkpoint_file=checkpoint_file,
            extra={"fingerprint": fingerprint, "seed": seed} if checkpoint_file else None,
        )
        net = TaggerNet(
            module,
            criterion=WeightedBCEWithLogitsLoss,
            optimizer=optimizer,
            **optimizer_kwargs,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=None if valid_ds is None else FixedSplit(valid_ds),
            callbacks=[
                ("staircase_lr" if self.optimizer == "adadelta" else "one_cycle_lr", schedule),
                ("epoch_end", epoch_end),
            ],
            device=device,
            verbose=self.verbose,
            shuffle_seed=seed,
            channels_last=self.channels_last,
            precision=self.precision,
            num_workers=self.num_workers,
            mixup=float(self.mixup),
            **{f"module__{k}": v for k, v in module_kwargs.items()},
        )

        rng_devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
        try:
            with torch.random.fork_rng(devices=rng_devices):
                torch.manual_seed(seed)
                net.initialize()
                if checkpoint is not None:
                    net.module_.load_state_dict(checkpoint["module"])
                    net.optimizer_.load_state_dict(checkpoint["optimizer"])
                    net.history_ = History(checkpoint["history"])
                    restore_best_scores(net)
                    epoch_end.best_state_ = checkpoint["best_module"]
                    torch.set_rng_state(checkpoint["torch_rng"])
                    if rng_devices and checkpoint.get("cuda_rng") is not None:
                        torch.cuda.set_rng_state(checkpoint["cuda_rng"], device)
                    if self.verbose:
                        print(f"Resuming from {checkpoint_file} after epoch {len(net.history)}.")
                remaining = self.max_epochs - len(net.history)
                if remaining > 0 and not epoch_end.should_stop(net.history):
                    net.partial_fit(train_ds, None, epochs=remaining)
            if epoch_end.best_state_ is not None:
                net.module_.load_state_dict(epoch_end.best_state_)
        finally:
            # Drop references to the data and to the extra copy of the weights,
            # so that the fitted estimator pickles small.
            net.train_split = None
            epoch_end.best_state_ = None

        history = net.history
        self.net_ = net
        self.weighting_ = weighting
        self.device_ = device
        self.seed_ = seed
        self.n_labels_ = m
        self.outputs_2d_ = y_ndim != 1
        self.classes_ = ([np.array([0, 1]) for _ in range(m)] if self.outputs_2d_
                         else np.array([0, 1]))
        self.input_shape_ = input_shape
        self.window_ = window
        self.valid_indices_ = valid_idx
        self.n_epochs_ = len(history)
        self.best_epoch_ = (best_epoch_from_history(history)[0] if valid_ds is not None
                            else len(history))
        self.checkpoint_path_ = checkpoint_file

        if isinstance(thresholds, str):  # "f1"
            from ..metrics import tune_thresholds

            proba = expit(self._forward(valid_ds).astype(np.float64))
            if window is not None:
                proba = valid_ds.clip_means(proba)
            thresholds = np.asarray(tune_thresholds(Y[valid_idx], proba), dtype=np.float64)
        self.thresholds_ = thresholds
        return self

    @staticmethod
    def _checked_weights(W, n, m):
        W = np.asarray(W, dtype=np.float32)
        if W.shape != (n, m):
            raise ValueError(f"weighting returned weights of shape {W.shape}, expected {(n, m)}.")
        if not np.isfinite(W).all() or (W < 0).any():
            raise ValueError("weighting returned NaN, inf or negative weights.")
        return W

    # ----------------------------------------------------------------- predict

    def _forward(self, dataset):
        chunks = [z.float() for z in self.net_.forward_iter(dataset, training=False)]
        return torch.cat(chunks).numpy()

    def _dataset(self, X):
        """The prediction dataset of X: whole inputs, or windows with crop_frames."""
        check_is_fitted(self)
        window = getattr(self, "window_", None)  # None in models fitted before crops
        X, clips, n_mels, input_shape = check_input(X, window, name="X")
        if window is not None:
            if n_mels != self.input_shape_[1]:
                raise ValueError(f"X has {n_mels} mel bands, but the tagger was fitted on "
                                 f"{self.input_shape_[1]}.")
            return WindowDataset(clips, np.arange(len(clips)), *window)
        if input_shape != tuple(self.input_shape_):
            raise ValueError(
                f"X has spectrograms of shape {input_shape}, but the tagger was fitted on "
                f"{tuple(self.input_shape_)}.")
        return SpectrogramDataset(X, np.arange(X.shape[0]))

    def _proba(self, X):
        """Tag probabilities (n_samples, n_labels), float64: the mean over windows."""
        ds = self._dataset(X)
        p = expit(self._forward(ds).astype(np.float64))
        return ds.clip_means(p) if isinstance(ds, WindowDataset) else p

    def predict_proba(self, X):
        """Probability of each tag.

        With ``crop_frames``, the mean of the probabilities of the clip's
        windows (see :meth:`predict_proba_windows`).

        Parameters
        ----------
        X : array-like of shape (n_samples, 1, n_mels, n_frames) or (n_samples, n_mels, n_frames)
            With ``crop_frames``, also a list or 1-D object array of
            (1, n_mels, n_frames_i) arrays, or a ``RaggedSpectrograms``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_labels), float64
            For a 1-D y at fit, shape (n_samples, 2): the probabilities of
            classes 0 and 1.
        """
        p = self._proba(X)
        if self.outputs_2d_:
            return p
        return np.column_stack([1.0 - p[:, 0], p[:, 0]])

    def predict(self, X):
        """Tags: 1 where the probability is >= ``thresholds_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, 1, n_mels, n_frames) or (n_samples, n_mels, n_frames)
            Or variable-length clips, as for :meth:`predict_proba`.

        Returns
        -------
        Y : ndarray of shape (n_samples, n_labels), or (n_samples,) for a 1-D y, of 0/1 ints
        """
        Y = (self._proba(X) >= self.thresholds_).astype(np.int64)
        return Y if self.outputs_2d_ else Y[:, 0]

    def predict_proba_windows(self, X):
        """Tag probabilities of every window of every clip (a taggram).

        Parameters
        ----------
        X : array-like or sequence of spectrograms, as for :meth:`predict_proba`

        Returns
        -------
        windows : list of (starts, proba) tuples, one per clip
            ``starts`` (n_windows_i,) int64 start frames and ``proba``
            (n_windows_i, n_labels) float64. Without ``crop_frames``, one
            window at frame 0 per clip. The mean of ``proba`` over the
            windows is the clip's :meth:`predict_proba` row (for 2-D y).
        """
        ds = self._dataset(X)
        p = expit(self._forward(ds).astype(np.float64))
        if isinstance(ds, WindowDataset):
            return ds.split(p)
        return [(np.zeros(1, dtype=np.int64), p[i:i + 1]) for i in range(len(p))]

    def transform(self, X):
        """Embeddings: the input of the network's last linear layer, averaged over windows.

        For the paper's network, the hidden dense layer's output after its
        ReLU; for :class:`~sktags.models.ShortChunkCNN`, the globally pooled
        features; for a custom ``module``, the input of its last
        ``torch.nn.Linear``. Computed in evaluation mode (no dropout), so a
        fitted tagger is a frozen feature extractor for other estimators.

        Parameters
        ----------
        X : array-like or sequence of spectrograms, as for :meth:`predict_proba`

        Returns
        -------
        E : ndarray of shape (n_samples, n_features), float32
        """
        ds = self._dataset(X)
        linears = [m for m in self.net_.module_.modules() if isinstance(m, torch.nn.Linear)]
        if not linears:
            raise ValueError("transform needs a module with a torch.nn.Linear output layer.")
        captured = []

        def hook(_, args):
            captured.append(args[0].detach().float().reshape(len(args[0]), -1).cpu())

        handle = linears[-1].register_forward_pre_hook(hook)
        try:
            self._forward(ds)
        finally:
            handle.remove()
        E = torch.cat(captured).numpy()
        if isinstance(ds, WindowDataset):
            E = ds.clip_means(E)
        return np.asarray(E, dtype=np.float32)

    @property
    def _n_features_out(self):
        """Embedding size, for ``get_feature_names_out`` (cnntagger0, cnntagger1, ...)."""
        linears = [m for m in self.net_.module_.modules() if isinstance(m, torch.nn.Linear)]
        return linears[-1].in_features

    def __setstate__(self, state):
        super().__setstate__(state)
        # skorch maps a CUDA-trained net to the CPU when CUDA is missing.
        device = getattr(self, "device_", None)
        if device is not None and device.startswith("cuda") and not torch.cuda.is_available():
            self.device_ = str(self.net_.device)
