"""CNNTagger: what the paper's tagger adds to NeuralTagger: spectrograms (whole, or crops
and windows), its networks and optimizers, and ``transform`` (embeddings)."""

from numbers import Real

import numpy as np
import torch
from scipy.special import expit
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import TransformerTags
from sklearn.utils._param_validation import StrOptions

from ..utils import NumberInterval, positive_int
from ._base import NeuralTagger
from ._callbacks import LRSchedule
from ._data import CropDataset, WholeDataset, WindowDataset
from ._inputs import spectrogram_input
from ._networks import NAMED_NETWORKS, Ibrahim2020CNN
from ._recipes import ARCHITECTURES, DEFAULT_LR, OPTIMIZERS

__all__ = ["CNNTagger"]


class CNNTagger(ClassNamePrefixFeaturesOutMixin, TransformerMixin, NeuralTagger):
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
    module : {"ibrahim2020", "short_chunk", "musicnn"}, callable or None, default=None
        None or "ibrahim2020": the paper's :class:`~sktags.models.Ibrahim2020CNN`
        with ``filters``, ``hidden_units`` and ``dropout``. "short_chunk": a
        :class:`~sktags.models.ShortChunkCNN`, for ``crop_frames`` (see
        :doc:`/real_music`). "musicnn": musicnn's released MSD network, front end
        frozen, on :func:`~sktags.pretrained.musicnn_frontend` spectrograms (see
        ``RECIPES["musicnn-finetune"]``, :doc:`/pretrained`). Otherwise a class or function (not an instance)
        called as ``module(n_mels=..., n_frames=..., n_labels=...)`` returning a
        ``torch.nn.Module`` from (batch, 1, n_mels, n_frames) to (batch,
        n_labels) logits; ``functools.partial`` binds other arguments.
    filters : tuple of int, default=(32, 64, 128, 256)
        Filters of the conv blocks of the default network.
    hidden_units : int, default=256
        Width of the hidden dense layer of the default network.
    dropout : float, default=0.3
        Dropout probability after the hidden dense layer of the default network.
    weighting : estimator or None, default=None
        None gives every entry weight 1. Otherwise an unfitted
        :class:`~sktags.ContextWeightEstimator` (or any estimator with
        ``fit(Y, playlist_counts=...)`` and ``transform(Y, playlist_counts=...)``
        giving (n, m) weights), cloned into ``weighting_`` and fitted on the
        labels of the training part only; its ``transform`` weighs every row.
    loss : str or torch.nn.Module, default="bce"
        "bce" is the paper's weighted BCE (:class:`~sktags.losses.WeightedBCE`).
        Other names of :data:`sktags.losses.LOSSES` ("wan", "asl", "em", ...)
        or a loss module such as ``AsymmetricLoss(gamma_neg=2)`` (deep-copied
        at every fit) suit incomplete labels (:doc:`/incomplete_labels`).
    lr : float or None, default=None
        Initial Adadelta learning rate, or AdamW's peak rate of the one-cycle
        schedule. None uses 0.1 for Adadelta (the paper's) and 3e-3 for AdamW.
    rho : float, default=0.95
        Adadelta decay rate (TensorFlow's default, used by the authors).
    eps : float, default=1e-8
        Adadelta epsilon (TensorFlow's default).
    lr_decay : float, default=0.95
        Staircase decay: ``lr * lr_decay ** floor(batches so far / lr_decay_steps)``.
    lr_decay_steps : int, default=1000
        Batches per decay step.
    batch_size : int, default=32
        Batch size for training, validation and prediction.
    max_epochs : int, default=100
        Upper bound on the number of epochs (early stopping usually ends sooner).
    patience : int or None, default=10
        Stop after this many epochs without a (strict) improvement of the
        validation loss, and restore the best epoch's weights (None: never stop).
    valid_size : float, int or None, default=0.1
        Fraction (or number) of the samples held out (at random) for the
        validation loss and ``threshold="f1"``; with ``groups``, of groups
        (group-disjoint, as :class:`~sklearn.model_selection.GroupShuffleSplit`).
        None: no validation, ``max_epochs`` epochs, the final weights.
    threshold : float, array-like of shape (n_labels,) or "f1", default=0.5
        Decision threshold(s) of :meth:`predict` on the probabilities, stored
        in ``thresholds_``. "f1" tunes one per label on the validation split
        (:func:`sktags.metrics.tune_thresholds`).
    device : str, default="auto"
        Torch device; "auto" uses CUDA, then MPS, then the CPU (``device_``). A
        model trained on a GPU is loaded on the CPU of a machine without one.
    channels_last : bool, default=True
        Channels-last memory format: the same numerics, about 1.5x faster on CPUs.
    precision : {"float32", "bfloat16", "float16"}, default="float32"
        The forward pass under bfloat16 autocast (GPUs, CPUs with AVX-512 BF16),
        or float16 autocast with a gradient scaler (GPUs before Ampere). The
        loss is always computed in float32.
    num_workers : int, default=0
        DataLoader worker processes. 0 reads batches in the training process,
        which is enough on a CPU; use a few on a GPU.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation, dropout, the split and the batch order: an int
        gives identical fits on the CPU. The caller's torch random state is kept.
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
        training reads one random crop of ``crop_frames`` frames per clip and
        epoch (a shorter clip is zero-padded), and validation, prediction and
        :meth:`transform` average over windows starting at 0, ``crop_hop``,
        2·``crop_hop``, ... plus one ending at the clip's end. X may then hold
        clips of different lengths; only a crop's frames are read.
    crop_hop : int or None, default=None
        Hop between prediction windows; None means ``crop_frames // 2``.
    optimizer : {"adadelta", "adamw"}, default="adadelta"
        "adadelta" (the paper's) with the staircase decay of ``lr_decay`` and
        ``lr_decay_steps``; "adamw" with ``weight_decay`` and a one-cycle
        schedule per batch over ``max_epochs`` epochs (warm-up from ``lr / 25``
        over 30 % of the batches, annealing to ``lr / 25e4``; a checkpoint is
        then resumed only with the same ``max_epochs``).
    weight_decay : float, default=0.01
        AdamW's decoupled weight decay (unused by Adadelta).
    mixup : float, default=0.0
        Mixup's alpha: each training batch becomes ``lam * batch + (1 - lam) *
        batch[perm]``, ``lam ~ Beta(alpha, alpha)``, inputs, targets and
        weights alike. 0 disables it.

    Attributes
    ----------
    net_, weighting_, classes_, n_labels_, outputs_2d_, thresholds_ : object
        As described in :class:`~sktags.models.NeuralTagger`, with
        ``device_``, ``seed_``, ``valid_indices_``, ``n_epochs_``,
        ``best_epoch_`` and ``checkpoint_path_``.
    input_shape_ : tuple of int
        ``(1, n_mels, n_frames)`` seen at fit, or ``(1, n_mels, crop_frames)``.
    n_features_in_ : int
        ``n_mels * n_frames`` (without ``crop_frames`` only).
    window_ : tuple of (int, int) or None
        ``(crop_frames, crop_hop)`` used at fit, or None.

    Notes
    -----
    The default loss is the mean over batch x labels of ``w_ij * BCE(z_ij,
    y_ij)`` (:class:`~sktags.losses.WeightedBCE`); early stopping monitors
    the loss on the validation part's observed labels. What is shared with
    :class:`~sktags.EmbeddingTagger` lives in :class:`~sktags.models.NeuralTagger`.
    ``X`` may be a float16 or float32 ``np.memmap``, read chunk by chunk; a
    2-D ``X`` (n, d) is read as one-band spectrograms (n, 1, 1, d). See the
    user guide (``docs/training.rst``) for checkpoints and speed.

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

    _parameter_constraints: dict = {
        **NeuralTagger._parameter_constraints,
        "module": [None, StrOptions(set(ARCHITECTURES)), callable],
        "filters": [tuple, list],
        "hidden_units": [positive_int()],
        "dropout": [NumberInterval(Real, 0, 1, closed="left")],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "rho": [NumberInterval(Real, 0, 1, closed="right")],
        "eps": [NumberInterval(Real, 0, None, closed="neither")],
        "lr_decay": [NumberInterval(Real, 0, 1, closed="right")],
        "lr_decay_steps": [positive_int()],
        "crop_frames": [None, positive_int()],
        "crop_hop": [None, positive_int()],
        "mixup": [NumberInterval(Real, 0, None, closed="left")],
        "channels_last": ["boolean"],
    }

    def __init__(
        self,
        *,
        module=None,
        filters=(32, 64, 128, 256),
        hidden_units=256,
        dropout=0.3,
        weighting=None,
        loss="bce",
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
        super().__init__(
            weighting=weighting, loss=loss, lr=lr, weight_decay=weight_decay,
            batch_size=batch_size, max_epochs=max_epochs, patience=patience,
            valid_size=valid_size, threshold=threshold, device=device,
            precision=precision, num_workers=num_workers, random_state=random_state,
            checkpoint_dir=checkpoint_dir, callbacks=callbacks, verbose=verbose)
        self.module = module
        self.filters = filters
        self.hidden_units = hidden_units
        self.dropout = dropout
        self.rho = rho
        self.eps = eps
        self.lr_decay = lr_decay
        self.lr_decay_steps = lr_decay_steps
        self.channels_last = channels_last
        self.crop_frames = crop_frames
        self.crop_hop = crop_hop
        self.optimizer = optimizer
        self.mixup = mixup

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.classifier_tags.poor_score = True
        # transform gives embeddings (float32 whatever the input dtype)
        tags.transformer_tags = TransformerTags(preserves_dtype=["float32"])
        return tags

    # ------------------------------------------------ hooks of NeuralTagger

    def _check_params(self):
        super()._check_params()
        if isinstance(self.module, torch.nn.Module):
            raise ValueError(f"module must be None, a network name or a class/callable "
                             "building a torch.nn.Module (module(n_mels=, n_frames=, "
                             f"n_labels=)), got the instance {type(self.module).__name__}(...); "
                             "pass its class (functools.partial binds arguments).")
        if not (self.filters and all(positive_int().is_satisfied_by(f) for f in self.filters)):
            raise ValueError(f"filters must be a non-empty sequence of positive ints, got "
                             f"{self.filters!r}.")
        if self.crop_frames is None and self.crop_hop is not None:
            raise ValueError("crop_hop is set but crop_frames is None; set crop_frames too.")

    def _window(self):
        """(crop_frames, hop) of the parameters, or None."""
        c, hop = self.crop_frames, self.crop_hop
        return None if c is None else (int(c), int(hop) if hop is not None else max(c // 2, 1))

    def _make_input(self, X, *, reset):
        window = self._window() if reset else self.window_
        return spectrogram_input(X, crop_frames=None if window is None else window[0],
                                 fitted_shape=None if reset else self.input_shape_)

    def _fit_input(self, inputs, train_idx):
        self.window_ = self._window()
        if self.window_ is None:
            self.input_shape_ = inputs.sample_shape
            self.n_features_in_ = int(np.prod(inputs.sample_shape))
        else:
            self.input_shape_ = (1, inputs.n_mels, self.window_[0])
            self.__dict__.pop("n_features_in_", None)

    def _module_spec(self, n_labels):
        """(module factory, keyword arguments) of the torch network."""
        shape = dict(n_mels=self.input_shape_[1], n_frames=self.input_shape_[2],
                     n_labels=n_labels)
        if self.module is None or self.module == "ibrahim2020":
            return Ibrahim2020CNN, dict(filters=tuple(self.filters),
                                        hidden_units=self.hidden_units, dropout=self.dropout,
                                        **shape)
        named = isinstance(self.module, str)
        return NAMED_NETWORKS[self.module] if named else self.module, shape

    def _make_datasets(self, inputs, train_idx, valid_idx, Y, W, seed, with_index):
        if self.window_ is None:
            return super()._make_datasets(inputs, train_idx, valid_idx, Y, W, seed, with_index)
        # one random crop per clip and epoch; validation on windows
        train = CropDataset(inputs, train_idx, self.window_[0], seed, Y, W,
                            with_index=with_index)
        return train, None if valid_idx is None else WindowDataset(inputs, valid_idx,
                                                                   *self.window_, Y, W)

    def _prediction_dataset(self, inputs):
        if self.window_ is None:
            return WholeDataset(inputs, np.arange(len(inputs)))
        return WindowDataset(inputs, np.arange(len(inputs)), *self.window_)

    def _reduce(self, dataset, values):
        return dataset.clip_means(values) if isinstance(dataset, WindowDataset) else values

    def _optimizer(self, n_train):
        """Adadelta with the staircase decay, or AdamW with the one-cycle schedule."""
        lr = DEFAULT_LR[self.optimizer] if self.lr is None else float(self.lr)
        if self.optimizer == "adadelta":
            return (torch.optim.Adadelta, dict(lr=lr, optimizer__rho=self.rho,
                                               optimizer__eps=self.eps),
                    LRSchedule("staircase", lr, decay=self.lr_decay,
                               decay_steps=self.lr_decay_steps))
        total = int(self.max_epochs) * max(-(-int(n_train) // int(self.batch_size)), 1)
        return (torch.optim.AdamW, dict(lr=lr, optimizer__weight_decay=float(self.weight_decay)),
                LRSchedule("one_cycle", lr, total_steps=total))

    def _net_options(self):
        return dict(channels_last=self.channels_last, mixup=float(self.mixup))

    # ------------------------------------------------------ CNN-only outputs

    def predict_proba_windows(self, X):
        """Tag probabilities of every window of every clip (a taggram).

        Parameters
        ----------
        X : array-like or sequence of spectrograms, as for :meth:`predict_proba`

        Returns
        -------
        windows : list of (starts, proba) tuples, one per clip
            ``starts`` (n_windows_i,) int64 start frames and ``proba``
            (n_windows_i, n_labels) float64 (without ``crop_frames``, one window
            at 0); their mean is the clip's :meth:`predict_proba` row.
        """
        ds = self._predict_dataset(X)
        p = expit(self._forward(ds).astype(np.float64))
        if isinstance(ds, WindowDataset):
            return ds.split(p)
        return [(np.zeros(1, dtype=np.int64), p[i:i + 1]) for i in range(len(p))]

    def transform(self, X):
        """Embeddings: the input of the network's last linear layer, averaged over windows.

        The paper's network gives its hidden dense layer after the ReLU,
        :class:`~sktags.models.ShortChunkCNN` its pooled features. In
        evaluation mode (no dropout): a frozen feature extractor.

        Parameters
        ----------
        X : array-like or sequence of spectrograms, as for :meth:`predict_proba`

        Returns
        -------
        E : ndarray of shape (n_samples, n_features), float32
        """
        ds = self._predict_dataset(X)
        captured = []

        def hook(_, args):
            captured.append(args[0].detach().float().reshape(len(args[0]), -1).cpu())

        handle = self._last_linear().register_forward_pre_hook(hook)
        try:
            self._forward(ds)
        finally:
            handle.remove()
        return np.asarray(self._reduce(ds, torch.cat(captured).numpy()), dtype=np.float32)

    def _last_linear(self):
        linears = [m for m in self.net_.module_.modules() if isinstance(m, torch.nn.Linear)]
        if not linears:
            raise ValueError("transform needs a module with a torch.nn.Linear output layer.")
        return linears[-1]

    @property
    def _n_features_out(self):
        """Embedding size, for ``get_feature_names_out`` (cnntagger0, cnntagger1, ...)."""
        return self._last_linear().in_features
