"""CNNTagger: the paper's CNN as a multilabel scikit-learn classifier."""

import json
from contextlib import nullcontext

import numpy as np
import torch
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, MultiOutputMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from . import _training as steps
from ._callbacks import best_epoch_from_history
from ._checkpoint import Checkpoint, describe, fingerprint
from ._data import SpectrogramDataset
from ._validation import (TAGGER_CONSTRAINTS, check_input, check_module_param, check_side_inputs,
                          check_target, resolve_device, resolve_thresholds)

__all__ = ["CNNTagger"]


class CNNTagger(MultiOutputMixin, ClassifierMixin, BaseEstimator):
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
    module : callable, str or None, default=None
        None (or "ibrahim2020") builds the paper's network,
        :class:`~sktags.models.Ibrahim2020CNN`,
        with ``filters``, ``hidden_units`` and ``dropout``. Otherwise a class
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
        estimator with ``fit(Y, playlist_counts=...)`` and
        ``transform(Y, playlist_counts=...)`` returning (n, m) weights, the
        counts passed by keyword). It is cloned into ``weighting_`` and
        fitted on the labels of the training part only; one ``transform`` of
        that clone gives the weights of every row, validation included.
        ``self.weighting`` is never modified.
    lr : float, default=0.1
        Initial Adadelta learning rate.
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
        Torch device; "auto" uses CUDA, then MPS, then the CPU. An unknown or
        unavailable device raises a ValueError. Resolved in ``fit`` into
        ``device_``. A model trained on a GPU can be unpickled and used
        on a machine without one (it is then moved to the CPU).
    channels_last : bool, default=True
        Run the convolutions in the channels-last memory format: the same
        numerics, about 1.5x faster training on the CPUs this was measured on.
    precision : {"float32", "bfloat16", "float16"}, default="float32"
        "bfloat16" runs the forward pass under bfloat16 autocast (faster on
        CPUs with AVX-512 BF16 and on GPUs, less accurate). "float16" runs it
        under float16 autocast with a gradient scaler, for GPUs without
        bfloat16 (before Ampere); it also runs on the CPU, without a speed
        gain. The loss is always computed in float32.
    num_workers : int, default=0
        DataLoader worker processes. 0 reads batches in the training process,
        which is enough on a CPU; use a few on a GPU.
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, dropout, the validation split and
        the batch order. With an int, fits on the same data and device give
        identical predictions on the CPU. The torch global random state of
        the caller is left unchanged.
    checkpoint_dir : str, path or None, default=None
        Directory for checkpoints: the state after every epoch goes to a
        locked run folder ``cnntagger-<fingerprint>``, and a fit of the same
        parameters and data resumes from it (see the user guide, "Training").
    callbacks : list or None, default=None
        Extra skorch callbacks (instances or ``(name, callback)`` tuples),
        e.g. TensorBoard or a progress bar. They are cloned into the net
        beside the internal ones; ``self.callbacks`` is not modified.
    verbose : int, default=0
        Print skorch's per-epoch table when > 0.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained net; ``net_.module_`` is the torch module and
        ``net_.history`` the per-epoch history (train_loss, valid_loss, ...).
    weighting_ : estimator or None
        The fitted clone of ``weighting``.
    classes_ : list of ndarray or ndarray
        ``[array([0, 1])] * n_labels`` for a 2-D ``y``; ``np.unique(y)`` (two
        labels, the second the positive class) for a 1-D ``y``.
    n_labels_ : int
        Number of tags m.
    outputs_2d_ : bool
        Whether ``y`` was 2-D at fit. With a 1-D ``y`` the tagger behaves as a
        binary classifier: ``predict`` gives shape (n,) and ``predict_proba``
        (n, 2).
    input_shape_ : tuple of int
        ``(1, n_mels, n_frames)`` seen at fit; prediction requires the same.
    n_features_in_ : int
        ``n_mels * n_frames``.
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
    The loss is the mean over batch x labels of ``w_ij * BCE(z_ij, y_ij)``
    (:func:`~sktags.models.weighted_bce_with_logits`); early stopping monitors
    it on the validation part. ``X`` may be a float16 or float32
    ``np.memmap``: it is validated and read chunk by chunk, never copied
    whole. A 2-D ``X`` of shape (n, d) is read as n one-band spectrograms
    (n, 1, 1, d). Ctrl-C during ``fit`` is raised again (skorch would end
    quietly). Checkpoints, interruption and speed settings are described in
    the user guide (``docs/training.rst``).

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

    _parameter_constraints: dict = TAGGER_CONSTRAINTS

    def __init__(
        self,
        *,
        module=None,
        filters=(32, 64, 128, 256),
        hidden_units=256,
        dropout=0.3,
        weighting=None,
        lr=0.1,
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
        callbacks=None,
        verbose=0,
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
        self.callbacks = callbacks
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = True
        tags.classifier_tags.multi_class = False
        tags.classifier_tags.multi_label = True
        tags.classifier_tags.poor_score = True
        return tags

    # --------------------------------------------------------------------- fit

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, playlist_counts=None, groups=None):
        """Train the network: validate, split, weigh, build the net, train or resume.

        Parameters
        ----------
        X : array-like of shape (n_samples, 1, n_mels, n_frames) or (n_samples, n_mels, n_frames)
            Log-mel spectrograms, float32 or float16 (``np.memmap`` welcome;
            it is streamed, never copied whole). A 2-D (n_samples, n_frames)
            X is read as one-band spectrograms.
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
        self : CNNTagger
        """
        check_module_param(self.module)
        X, input_shape = check_input(X)
        Y, classes, outputs_2d = check_target(y)
        if Y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} samples but y has {Y.shape[0]}.")
        counts, groups = check_side_inputs(playlist_counts, groups, Y.shape)
        thresholds = resolve_thresholds(self.threshold, Y.shape[1], self.valid_size)
        device = resolve_device(self.device)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

        checkpoint = None
        if self.checkpoint_dir is not None:
            params = self.get_params(deep=False)
            config = json.dumps({k: describe(v) for k, v in sorted(params.items())}, indent=1)
            checkpoint = Checkpoint(self.checkpoint_dir,
                                    fingerprint(params, X, Y, counts, groups), config)
        with checkpoint if checkpoint is not None else nullcontext():
            if checkpoint is not None and checkpoint.seed is not None:
                seed = checkpoint.seed
            train_idx, valid_idx = steps.split(self, Y.shape[0], groups, seed)
            weighting, W = steps.fit_weights(self, Y, counts, train_idx)
            Yf = Y.astype(np.float32)
            valid_ds = None if valid_idx is None else SpectrogramDataset(X, valid_idx, Yf, W)
            net = steps.make_net(self, input_shape, Y.shape[1], device, seed, valid_ds, checkpoint)
            steps.train_net(self, net, SpectrogramDataset(X, train_idx, Yf, W), device, seed,
                            checkpoint)

        self.net_ = net
        self.weighting_ = weighting
        self.device_ = device
        self.seed_ = seed
        self.n_labels_ = Y.shape[1]
        self.outputs_2d_ = outputs_2d
        self.classes_ = classes
        self.input_shape_ = input_shape
        self.n_features_in_ = int(np.prod(input_shape))
        self.valid_indices_ = valid_idx
        self.n_epochs_ = len(net.history)
        self.best_epoch_ = (best_epoch_from_history(net.history)[0] if valid_ds is not None
                            else len(net.history))
        self.checkpoint_path_ = None if checkpoint is None else checkpoint.path
        if isinstance(thresholds, str):  # "f1"
            from ..metrics import tune_thresholds

            proba = expit(self._forward(valid_ds).astype(np.float64))
            thresholds = np.asarray(tune_thresholds(Y[valid_idx], proba), dtype=np.float64)
        self.thresholds_ = thresholds
        return self

    # ----------------------------------------------------------------- predict

    def _forward(self, dataset):
        chunks = [z.float() for z in self.net_.forward_iter(dataset, training=False)]
        return torch.cat(chunks).numpy()

    def _logits(self, X):
        """Logits of shape (n_samples, n_labels), float32."""
        check_is_fitted(self)
        X, input_shape = check_input(X)
        if input_shape != tuple(self.input_shape_):
            raise ValueError(
                f"X has {int(np.prod(input_shape))} features, but CNNTagger is expecting "
                f"{self.n_features_in_} features as input: it was fitted on spectrograms of "
                f"shape {tuple(self.input_shape_)}, got {input_shape}.")
        return self._forward(SpectrogramDataset(X, np.arange(X.shape[0])))

    def predict_proba(self, X):
        """Probability of each tag.

        Parameters
        ----------
        X : array-like of shape (n_samples, 1, n_mels, n_frames) or (n_samples, n_mels, n_frames)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_labels), float64
            For a 1-D y at fit, shape (n_samples, 2): the probabilities of
            ``classes_[0]`` and ``classes_[1]``.
        """
        p = expit(self._logits(X).astype(np.float64))
        if self.outputs_2d_:
            return p
        return np.column_stack([1.0 - p[:, 0], p[:, 0]])

    def predict(self, X):
        """Tags: 1 where the probability is >= ``thresholds_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, 1, n_mels, n_frames) or (n_samples, n_mels, n_frames)

        Returns
        -------
        Y : ndarray of shape (n_samples, n_labels) of 0/1 ints, or (n_samples,) of ``classes_``
        """
        p = expit(self._logits(X).astype(np.float64))
        Y = (p >= self.thresholds_).astype(np.int64)
        return Y if self.outputs_2d_ else self.classes_[Y[:, 0]]

    def __setstate__(self, state):
        super().__setstate__(state)
        # skorch maps a CUDA-trained net to the CPU when CUDA is missing.
        device = getattr(self, "device_", None)
        if device is not None and device.startswith("cuda") and not torch.cuda.is_available():
            self.device_ = str(self.net_.device)
