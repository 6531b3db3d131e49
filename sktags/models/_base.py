"""NeuralTagger: the base of the taggers, everything that does not depend on the input type.

``fit`` reads as its steps: the cross-parameter checks, X into a
:class:`~sktags.models._inputs.ModelInput`, the targets, the validation
split, the confidence weights, the loss, the datasets, the skorch net, the
training (or its resumption from a checkpoint) and the thresholds. A subclass
says only what its input is, through the hook methods (``_make_input``,
``_fit_input``, ``_module_spec``, ``_make_datasets``, ``_prediction_dataset``,
``_optimizer``, ``_reduce``), each documented where it is defined here.
"""

import json
import os
from contextlib import nullcontext
from numbers import Integral, Real

import numpy as np
import torch
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, MultiOutputMixin, _fit_context, clone
from sklearn.model_selection import GroupShuffleSplit, ShuffleSplit
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, RealNotInt, StrOptions
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import Callback

from ..losses import LOSSES, get_loss
from ..utils import NumberInterval, positive_int
from ._callbacks import BestWeights, CheckpointSaver, EarlyStopping, best_epoch_from_history
from ._checkpoint import Checkpoint, describe, fingerprint
from ._data import WholeDataset
from ._inputs import check_side_inputs, check_target
from ._recipes import DEFAULT_LR, PRECISIONS
from ._training import FixedSplit, TaggerNeuralNet, resolve_device

__all__ = ["NeuralTagger"]


class NeuralTagger(MultiOutputMixin, ClassifierMixin, BaseEstimator):
    """Base class of the neural taggers: a torch network trained with a weighted loss.

    It owns everything that does not depend on the input type: the targets
    (a 2-D 0/1 indicator matrix, or a 1-D y of two classes), the confidence
    weights of ``weighting``, the ``loss``, the (group-aware) validation
    split, early stopping with the best epoch's weights, checkpoints with
    exact resumption, the decision thresholds, the device and precision, and
    the random state. :class:`~sktags.CNNTagger` (spectrograms) and
    :class:`~sktags.EmbeddingTagger` (fixed-length vectors) add their input;
    their docstrings describe the parameters. Not meant to be used directly.

    The loss protocol (``loss`` a ``torch.nn.Module``): ``loss(logits, y,
    weight=w)`` returns the mean over batch x labels of per-entry losses,
    each multiplied by its weight; when the loss has ``set_epoch``, it is
    called with the number of completed epochs at the start of every epoch;
    when it has ``requires_index = True``, it also gets ``index=``, the rows
    in X of the training batch (None for the validation loss). Its
    ``state_dict()`` is saved in checkpoints, so that a resumed training is
    identical; the loss given is deep-copied at every fit, never shared.

    Attributes
    ----------
    net_ : TaggerNeuralNet
        The trained skorch net; ``net_.module_`` is the torch module and
        ``net_.history`` the per-epoch history (train_loss, valid_loss, ...).
    weighting_ : estimator or None
        The fitted clone of ``weighting``.
    classes_ : list of ndarray or ndarray
        ``[array([0, 1])] * n_labels`` for a 2-D ``y``; ``np.unique(y)`` (two
        labels, the second the positive class) for a 1-D ``y``.
    n_labels_ : int
        Number of tags m.
    outputs_2d_ : bool
        Whether ``y`` was 2-D at fit. With a 1-D ``y`` the tagger is a binary
        classifier: ``predict`` gives shape (n,) and ``predict_proba`` (n, 2).
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
    """

    _parameter_constraints: dict = {
        "weighting": [None, HasMethods(["fit", "transform"])],
        "loss": [StrOptions(set(LOSSES)), torch.nn.Module],
        "lr": [None, NumberInterval(Real, 0, None, closed="neither")],
        "weight_decay": [NumberInterval(Real, 0, None, closed="left")],
        "batch_size": [positive_int()],
        "max_epochs": [positive_int()],
        "patience": [None, positive_int()],
        "valid_size": [None, NumberInterval(RealNotInt, 0, 1, closed="neither"), positive_int()],
        "threshold": [NumberInterval(Real, 0, 1, closed="both"), StrOptions({"f1"}), "array-like"],
        "device": [str, torch.device],
        "precision": [StrOptions(set(PRECISIONS))],
        "num_workers": [NumberInterval(Integral, 0, None, closed="left")],
        "random_state": ["random_state"],
        "checkpoint_dir": [None, str, os.PathLike],
        "callbacks": [None, list, tuple],
        "verbose": ["verbose"],
    }

    def __init__(self, *, weighting, loss, lr, weight_decay, batch_size, max_epochs, patience,
                 valid_size, threshold, device, precision, num_workers, random_state,
                 checkpoint_dir, callbacks, verbose):
        self.weighting = weighting
        self.loss = loss
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.valid_size = valid_size
        self.threshold = threshold
        self.device = device
        self.precision = precision
        self.num_workers = num_workers
        self.random_state = random_state
        self.checkpoint_dir = checkpoint_dir
        self.callbacks = callbacks
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = True
        tags.classifier_tags.multi_class = False
        tags.classifier_tags.multi_label = True
        return tags

    # ------------------------------------------------------------------ hooks

    def _make_input(self, X, *, reset):
        """X validated into a :class:`~sktags.models._inputs.ModelInput` (``reset`` at fit)."""
        raise NotImplementedError

    def _module_spec(self, n_labels):
        """(torch module factory, keyword arguments) of the network."""
        raise NotImplementedError

    def _fit_input(self, inputs, train_idx):
        """Set the fitted attributes that describe the input (before the net is built)."""

    def _make_datasets(self, inputs, train_idx, valid_idx, Y, W, seed, with_index):
        """(training dataset, validation dataset or None)."""
        train = WholeDataset(inputs, train_idx, Y, W, with_index=with_index)
        return train, None if valid_idx is None else WholeDataset(inputs, valid_idx, Y, W)

    def _prediction_dataset(self, inputs):
        return WholeDataset(inputs, np.arange(len(inputs)))

    def _reduce(self, dataset, values):
        """Per-sample values (n_samples, d) from the per-item ``values`` of ``dataset``."""
        return values

    def _net_options(self):
        """Extra keyword arguments of :class:`~sktags.models.TaggerNeuralNet`."""
        return {}

    # -------------------------------------------------------------------- fit

    def _check_params(self):
        """The checks that involve several parameters, at the top of ``fit``."""
        if isinstance(self.threshold, str) and self.valid_size is None:
            raise ValueError("threshold='f1' tunes the thresholds on the internal validation "
                             "split, which valid_size=None disables.")
        for cb in self.callbacks or ():
            named = isinstance(cb, tuple) and len(cb) == 2 and isinstance(cb[0], str)
            if not isinstance(cb[1] if named else cb, Callback):
                raise TypeError(f"callbacks must hold skorch callbacks or (name, callback) "
                                f"tuples, got {cb!r}.")

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, playlist_counts=None, groups=None):
        """Train the network: validate, split, weigh, build the net, train or resume.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            The input of the tagger: spectrograms for :class:`~sktags.CNNTagger`,
            vectors (n_samples, n_features) for :class:`~sktags.EmbeddingTagger`.
        y : array-like of shape (n_samples, n_labels) or (n_samples,)
            0/1 tag indicators, or a 1-D y of two class labels (one tag).
        playlist_counts : array-like of shape (n_samples, n_labels), default=None
            Per-track playlist counts, passed to ``weighting`` (needed for
            TF-IDF positive weights). Ignored when ``weighting`` is None.
        groups : array-like of shape (n_samples,), default=None
            Group labels (e.g. artists): the internal validation split keeps
            each group on one side.

        Returns
        -------
        self : object
        """
        self._check_params()
        inputs = self._make_input(X, reset=True)
        Y, classes, outputs_2d = check_target(y, type(self).__name__)
        if Y.shape[0] != len(inputs):
            raise ValueError(f"X has {len(inputs)} samples but y has {Y.shape[0]}.")
        counts, groups = check_side_inputs(playlist_counts, groups, Y.shape)
        thresholds = self._thresholds(Y.shape[1])
        device = resolve_device(self.device)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        checkpoint = self._checkpoint(inputs, Y, counts, groups)
        with checkpoint if checkpoint is not None else nullcontext():
            if checkpoint is not None and checkpoint.seed is not None:
                seed = checkpoint.seed
            train_idx, valid_idx = self._split(Y.shape[0], groups, seed)
            weighting, W = self._fit_weights(Y, counts, train_idx)
            loss = self._make_loss(Y.shape[1])
            if hasattr(loss, "setup"):  # per-sample state, indexed by the rows of X
                loss.setup(Y.shape[0], Y.shape[1], Y)
            self._fit_input(inputs, train_idx)
            train_ds, valid_ds = self._make_datasets(
                inputs, train_idx, valid_idx, Y.astype(np.float32), W, seed,
                bool(getattr(loss, "requires_index", False)))
            net = self._make_net(Y.shape[1], device, seed, loss, valid_ds, checkpoint,
                                 n_train=len(train_idx))
            net.train_or_resume(train_ds, seed, checkpoint)

        self.net_ = net
        self.weighting_ = weighting
        self.device_ = device
        self.seed_ = seed
        self.n_labels_ = Y.shape[1]
        self.outputs_2d_ = outputs_2d
        self.classes_ = classes
        self.valid_indices_ = valid_idx
        self.n_epochs_ = len(net.history)
        self.best_epoch_ = (best_epoch_from_history(net.history)[0] if valid_ds is not None
                            else len(net.history))
        self.checkpoint_path_ = None if checkpoint is None else checkpoint.path
        if isinstance(thresholds, str):  # "f1"
            from ..metrics import tune_thresholds

            proba = self._reduce(valid_ds, expit(self._forward(valid_ds).astype(np.float64)))
            thresholds = np.asarray(tune_thresholds(Y[valid_idx], proba), dtype=np.float64)
        self.thresholds_ = thresholds
        return self

    def _thresholds(self, m):
        """(m,) float thresholds, or "f1" (tuned after training)."""
        if isinstance(self.threshold, str):  # "f1", the only string the constraints allow
            return "f1"
        arr = np.asarray(self.threshold, dtype=np.float64)
        if arr.ndim == 0:
            arr = np.full(m, float(arr))
        elif arr.shape != (m,):
            raise ValueError(
                f"threshold has shape {arr.shape}, expected a float or one per label ({m},).")
        if not (np.isfinite(arr).all() and (arr >= 0).all() and (arr <= 1).all()):
            raise ValueError(f"threshold values must lie in [0, 1], got {self.threshold!r}.")
        return arr

    def _checkpoint(self, inputs, Y, counts, groups):
        """The :class:`~sktags.models._checkpoint.Checkpoint` of this fit, or None."""
        if self.checkpoint_dir is None:
            return None
        params = self.get_params(deep=False)
        config = json.dumps({k: describe(v) for k, v in sorted(params.items())}, indent=1)
        return Checkpoint(self.checkpoint_dir, fingerprint(params, inputs, Y, counts, groups),
                          config, name=type(self).__name__)

    def _split(self, n, groups, seed):
        """Sorted (train, valid) row indices; valid is None without validation."""
        if self.valid_size is None:
            return np.arange(n), None
        splitter = (GroupShuffleSplit if groups is not None else ShuffleSplit)(
            n_splits=1, test_size=self.valid_size, random_state=seed)
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

    def _fit_weights(self, Y, counts, train_idx):
        """(fitted clone of weighting or None, (n, m) float32 weights of every row).

        The clone is fitted on the training rows only; the weights of all rows
        (validation included) come from one ``transform`` of the fitted clone.
        """
        if self.weighting is None:
            return None, np.ones(Y.shape, dtype=np.float32)
        weighting = clone(self.weighting)
        weighting.fit(Y[train_idx], playlist_counts=None if counts is None else counts[train_idx])
        W = np.asarray(weighting.transform(Y, playlist_counts=counts), dtype=np.float32)
        if W.shape != Y.shape:
            raise ValueError(f"weighting returned weights of shape {W.shape}, expected {Y.shape}.")
        if not np.isfinite(W).all() or (W < 0).any():
            raise ValueError("weighting returned NaN, inf or negative weights.")
        return weighting, W

    def _make_loss(self, n_labels):
        """The loss of this fit (:func:`sktags.losses.get_loss`: a name, or a deep copy)."""
        return get_loss(self.loss, n_labels=n_labels)

    def _optimizer(self, n_train):
        """(optimizer class, skorch keyword arguments, learning-rate callback or None)."""
        lr = DEFAULT_LR["adamw"] if self.lr is None else float(self.lr)
        return torch.optim.AdamW, dict(lr=lr, optimizer__weight_decay=self.weight_decay), None

    def _make_net(self, n_labels, device, seed, loss=None, valid_ds=None, checkpoint=None,
                  n_train=1):
        """The (uninitialised) skorch net and its callbacks; ``n_train`` sizes a one-cycle."""
        module, kwargs = self._module_spec(n_labels)
        optimizer, optimizer_kwargs, schedule = self._optimizer(n_train)
        best = BestWeights("valid_loss")
        callbacks = [] if schedule is None else [("lr_schedule", schedule)]
        for cb in self.callbacks or ():
            if isinstance(cb, tuple):
                callbacks.append((cb[0], clone(cb[1], safe=False)))
            else:
                callbacks.append(clone(cb, safe=False))
        if valid_ds is not None:
            callbacks.append(("best_weights", best))
        if checkpoint is not None:
            callbacks.append(("checkpoint", CheckpointSaver(
                checkpoint, best if valid_ds is not None else None, seed)))
        if valid_ds is not None:
            callbacks.append(("early_stopping", EarlyStopping("valid_loss", self.patience)))
        return TaggerNeuralNet(
            module, criterion=get_loss("bce") if loss is None else loss,
            optimizer=optimizer, **optimizer_kwargs, max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=None if valid_ds is None else FixedSplit(valid_ds),
            callbacks=callbacks, device=device, verbose=self.verbose, shuffle_seed=seed,
            precision=self.precision, num_workers=self.num_workers, **self._net_options(),
            **{f"module__{k}": v for k, v in kwargs.items()})

    # ------------------------------------------------------------- prediction

    def _forward(self, dataset):
        """Logits (or what the module returns) of every item of ``dataset``, float32."""
        chunks = [z.float() for z in self.net_.forward_iter(dataset, training=False)]
        return torch.cat(chunks).numpy()

    def _predict_dataset(self, X):
        check_is_fitted(self)
        return self._prediction_dataset(self._make_input(X, reset=False))

    def _proba(self, X):
        """Tag probabilities (n_samples, n_labels), float64."""
        ds = self._predict_dataset(X)
        return self._reduce(ds, expit(self._forward(ds).astype(np.float64)))

    def predict_proba(self, X):
        """Probability of each tag.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            As for :meth:`fit` (for a CNNTagger with ``crop_frames``, also
            clips of several lengths; a clip's probability is the mean over
            its windows).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_labels), float64
            For a 1-D y at fit, shape (n_samples, 2): the probabilities of
            ``classes_[0]`` and ``classes_[1]``.
        """
        p = self._proba(X)
        return p if self.outputs_2d_ else np.column_stack([1.0 - p[:, 0], p[:, 0]])

    def predict(self, X):
        """Tags: 1 where the probability is >= ``thresholds_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            As for :meth:`predict_proba`.

        Returns
        -------
        Y : ndarray of shape (n_samples, n_labels) of 0/1 ints, or (n_samples,) of ``classes_``
        """
        Y = (self._proba(X) >= self.thresholds_).astype(np.int64)
        return Y if self.outputs_2d_ else self.classes_[Y[:, 0]]

    def __setstate__(self, state):
        super().__setstate__(state)
        # skorch maps a CUDA-trained net to the CPU when CUDA is missing.
        device = getattr(self, "device_", None)
        if device is not None and device.startswith("cuda") and not torch.cuda.is_available():
            self.device_ = str(self.net_.device)
