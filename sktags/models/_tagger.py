"""CNNTagger: the paper's CNN as a multilabel scikit-learn classifier."""

import json
from contextlib import nullcontext

import numpy as np
import torch
from scipy.special import expit
from sklearn.base import (BaseEstimator, ClassifierMixin, ClassNamePrefixFeaturesOutMixin,
                          MultiOutputMixin, TransformerMixin, _fit_context)
from sklearn.utils import TransformerTags, check_random_state

from . import _training as steps
from ._callbacks import best_epoch_from_history
from ._checkpoint import Checkpoint, describe, fingerprint
from ._data import SpectrogramDataset
from ._prediction import TaggerPredictionMixin
from ._recipe import check_tagger_input, window_params
from ._validation import (TAGGER_CONSTRAINTS, check_module_param, check_side_inputs,
                          check_target, resolve_device, resolve_thresholds)
from ._windows import CropDataset, WindowDataset

__all__ = ["CNNTagger"]


class CNNTagger(TaggerPredictionMixin, MultiOutputMixin, ClassifierMixin,
                ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
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
        :class:`~sktags.models.Ibrahim2020CNN`, with ``filters``,
        ``hidden_units`` and ``dropout``. "short_chunk" builds a
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
        estimator with ``fit(Y, playlist_counts=...)`` and
        ``transform(Y, playlist_counts=...)`` returning (n, m) weights, the
        counts passed by keyword). It is cloned into ``weighting_`` and
        fitted on the labels of the training part only; one ``transform`` of
        that clone gives the weights of every row, validation included.
        ``self.weighting`` is never modified.
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
        ``[array([0, 1])] * n_labels`` for a 2-D ``y``; ``np.unique(y)`` (two
        labels, the second the positive class) for a 1-D ``y``.
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
    n_features_in_ : int
        ``n_mels * n_frames`` (without ``crop_frames`` only).
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
        callbacks=None,
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
        self.callbacks = callbacks
        self.verbose = verbose
        self.crop_frames = crop_frames
        self.crop_hop = crop_hop
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.mixup = mixup

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = True
        tags.classifier_tags.multi_class = False
        tags.classifier_tags.multi_label = True
        tags.classifier_tags.poor_score = True
        # transform gives embeddings (float32 whatever the input dtype)
        tags.transformer_tags = TransformerTags(preserves_dtype=["float32"])
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
        window = window_params(self)
        X, clips, input_shape = check_tagger_input(X, window)
        Y, classes, outputs_2d = check_target(y)
        n_x = len(clips) if clips is not None else X.shape[0]
        if Y.shape[0] != n_x:
            raise ValueError(f"X has {n_x} samples but y has {Y.shape[0]}.")
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
            if window is None:
                train_ds = SpectrogramDataset(X, train_idx, Yf, W)
                valid_ds = None if valid_idx is None else SpectrogramDataset(X, valid_idx, Yf, W)
            else:  # one random crop per clip and epoch; validation on windows
                train_ds = CropDataset(clips, train_idx, window[0], seed, Yf, W)
                valid_ds = None if valid_idx is None else WindowDataset(
                    clips, valid_idx, *window, Yf, W)
            net = steps.make_net(self, input_shape, Y.shape[1], device, seed, valid_ds, checkpoint,
                                 n_train=len(train_idx))
            steps.train_net(self, net, train_ds, device, seed, checkpoint)

        self.net_ = net
        self.weighting_ = weighting
        self.device_ = device
        self.seed_ = seed
        self.n_labels_ = Y.shape[1]
        self.outputs_2d_ = outputs_2d
        self.classes_ = classes
        self.input_shape_ = input_shape
        self.window_ = window
        if window is None:
            self.n_features_in_ = int(np.prod(input_shape))
        self.valid_indices_ = valid_idx
        self.n_epochs_ = len(net.history)
        self.best_epoch_ = (best_epoch_from_history(net.history)[0] if valid_ds is not None
                            else len(net.history))
        self.checkpoint_path_ = None if checkpoint is None else checkpoint.path
        if isinstance(thresholds, str):  # "f1"
            from ..metrics import tune_thresholds

            proba = expit(self._forward(valid_ds).astype(np.float64))
            if window is not None:
                proba = valid_ds.clip_means(proba)
            thresholds = np.asarray(tune_thresholds(Y[valid_idx], proba), dtype=np.float64)
        self.thresholds_ = thresholds
        return self

    def __setstate__(self, state):
        super().__setstate__(state)
        # skorch maps a CUDA-trained net to the CPU when CUDA is missing.
        device = getattr(self, "device_", None)
        if device is not None and device.startswith("cuda") and not torch.cuda.is_available():
            self.device_ = str(self.net_.device)
