"""The training loop of the neural taggers: the skorch net they hold, mixup, the device.

The taggers (:class:`~sktags.models.NeuralTagger`) build a
:class:`TaggerNeuralNet` in ``fit`` and keep it in ``net_``; this module is
the loop that trains it, one batch at a time.

The loss protocol: the net calls ``loss(logits, y, weight=w)``, which returns
the mean over batch x labels (``w`` multiplies each entry); a loss with
``set_epoch`` is told the number of completed epochs at the start of every
epoch; a loss with ``requires_index = True`` also gets ``index=``, each
training sample's row in the X given to ``fit`` (None on validation).
"""

import numpy as np
import torch
from skorch import NeuralNet
from skorch.utils import to_tensor

from ._callbacks import CheckpointSaver, PlainPrintLog, StopTraining, restore_best_scores
from ._data import EpochBatchSampler, SequentialBatchSampler, SharedLoader, make_loader


def mixup_draw(alpha, batch_size, seed, epoch, batch):
    """(lam, perm) for one batch, from ``np.random.default_rng([seed, epoch, batch])``."""
    rng = np.random.default_rng([int(seed), int(epoch), int(batch)])
    lam = float(rng.beta(alpha, alpha))
    perm = rng.permutation(int(batch_size))
    return lam, perm


def mix_batch(batch, alpha, seed, epoch, batch_index):
    """Mixup (Zhang et al., ICLR 2018) of a training batch ``(x, (y, w[, index]))``.

    ``x' = lam * x + (1 - lam) * x[perm]``, and the same for the targets y and
    the per-entry confidence weights w (the weighted loss of a mixed pair is
    ``w' * BCE(z, y')``), with one ``lam ~ Beta(alpha, alpha)`` per batch and a
    random permutation ``perm`` (:func:`mixup_draw`: reproducible, identical
    after resuming). An index stays the un-permuted sample's.

    Examples
    --------
    >>> import torch
    >>> from sktags.models._training import mix_batch, mixup_draw
    >>> x = torch.arange(4.).reshape(2, 1, 1, 2)
    >>> y, w = torch.tensor([[1.], [0.]]), torch.tensor([[2.], [1.]])
    >>> lam, perm = mixup_draw(0.4, 2, 0, 1, 0)
    >>> xm, (ym, wm) = mix_batch((x, (y, w)), 0.4, 0, 1, 0)
    >>> bool(torch.allclose(wm, lam * w + (1 - lam) * w[perm]))
    True
    """
    x, (y, w, *index) = batch
    if alpha <= 0 or len(x) < 2:
        return batch
    lam, perm = mixup_draw(alpha, len(x), seed, epoch, batch_index)
    perm = torch.from_numpy(perm).to(x.device)

    def mix(t):
        return lam * t + (1.0 - lam) * t[perm]

    return mix(x), (mix(y), mix(w), *index)


def _mps_available():
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def resolve_device(device):
    """The torch device string to use: "auto" is CUDA, then MPS, then the CPU.

    Any device that is unknown or not available here raises a ValueError
    naming it.
    """
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        return "mps" if _mps_available() else "cpu"
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(f"device={device!r} is not a valid torch device "
                         "(use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps').") from exc
    if dev.type == "cpu":
        return "cpu"
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r} was requested but CUDA is not available.")
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise ValueError(f"device={device!r} was requested but this machine has {count} "
                             "CUDA device(s).")
        return str(dev)
    if dev.type == "mps":
        if not _mps_available():
            raise ValueError(f"device={device!r} was requested but MPS is not available.")
        return str(dev)
    raise ValueError(f"device={device!r} is not supported (use 'auto', 'cpu', "
                     "'cuda', 'cuda:N' or 'mps').")


class FixedSplit:
    """skorch ``train_split`` returning a validation set chosen beforehand."""

    def __init__(self, valid_dataset):
        self.valid_dataset = valid_dataset

    def __call__(self, dataset, y=None, **kwargs):
        return dataset, self.valid_dataset


class TaggerNeuralNet(NeuralNet):
    """skorch ``NeuralNet`` with the data path and numerics of the neural taggers.

    Differences from a plain ``NeuralNet``:

    - batches come whole from the datasets of ``sktags.models._data``
      (one read per batch, memmap friendly); the training order depends only
      on ``(shuffle_seed, epoch)``;
    - optional ``channels_last`` memory format for the module and its inputs
      (same numerics, faster convolutions on CPU);
    - optional ``bfloat16`` autocast, or ``float16`` autocast with a gradient
      scaler (``grad_scaler_``, a ``torch.amp.GradScaler``; its
      ``state_dict()`` belongs in checkpoints); the loss is always computed in
      float32;
    - targets are pairs ``(y, weight)`` (or ``(y, weight, index)``) passed to
      the loss by the protocol of this module; inputs, labels and weights are
      pinned by the DataLoader on CUDA and copied ``non_blocking``;
    - with ``num_workers > 0`` the worker processes of the training and
      validation loaders persist across epochs; they start with
      ``multiprocessing_context`` (None: Python's default) and never receive
      a copy of memory-mapped data;
    - a ``KeyboardInterrupt`` (Ctrl-C) during training is raised again by
      ``fit`` and ``partial_fit``, after the callbacks' ``on_train_end``;
      skorch itself ends training quietly, as if it were finished. Early
      stopping (``StopTraining``) still ends
      training normally.

    The taggers are not ``NeuralNet`` subclasses; they hold one of these as
    ``net_``.
    """

    def __init__(self, module, *, shuffle_seed=0, channels_last=False, precision="float32",
                 num_workers=0, multiprocessing_context=None, mixup=0.0, **kwargs):
        super().__init__(module, **kwargs)
        self.mixup = mixup
        self.shuffle_seed = shuffle_seed
        self.channels_last = channels_last
        self.precision = precision
        self.num_workers = num_workers
        self.multiprocessing_context = multiprocessing_context

    def fit_loop(self, X, y=None, **fit_params):
        try:
            return super().fit_loop(X, y, **fit_params)
        except StopTraining:
            raise
        except KeyboardInterrupt as exc:
            self._interrupt = exc  # skorch's partial_fit swallows it; raised again there
            raise

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        self._interrupt = None
        try:
            super().partial_fit(X, y, classes, **fit_params)
            interrupt = self._interrupt
        finally:
            del self._interrupt
            self._valid_view = None
        if interrupt is not None:
            raise interrupt
        return self

    def initialize_module(self):
        super().initialize_module()
        if not isinstance(self.module_, torch.nn.Module):
            raise ValueError(
                f"module must build a torch.nn.Module, got {type(self.module_).__name__}."
            )
        if self.channels_last:
            self.module_ = self.module_.to(memory_format=torch.channels_last)
        return self

    def get_default_callbacks(self):
        # skorch's table, without colour codes when stdout is not a terminal
        return [(name, PlainPrintLog() if name == "print_log" else cb)
                for name, cb in super().get_default_callbacks()]

    def initialize(self):
        super().initialize()
        self.grad_scaler_ = self._make_grad_scaler()
        return self

    def _make_grad_scaler(self):
        """A ``torch.amp.GradScaler``, enabled for ``precision="float16"`` only."""
        device_type = torch.device(self.device).type
        enabled = self.precision == "float16"
        if enabled and not torch.amp.is_autocast_available(device_type):
            raise ValueError(f"precision='float16' is not supported on device {self.device!r} "
                             "(no float16 autocast there); use 'float32' or 'bfloat16'.")
        try:
            return torch.amp.GradScaler(device_type, enabled=enabled)
        except (RuntimeError, ValueError) as exc:
            raise ValueError(f"precision={self.precision!r} is not supported on device "
                             f"{self.device!r}: {exc}") from exc

    def _scaler(self):
        scaler = getattr(self, "grad_scaler_", None)
        if scaler is None:  # e.g. after unpickling: pickles do not carry the scaler
            scaler = self.grad_scaler_ = self._make_grad_scaler()
        return scaler

    def train_step_single(self, batch, **fit_params):
        if getattr(self, "mixup", 0):  # seeded by (seed, epoch, batch): see mix_batch
            batch = mix_batch(batch, self.mixup, self.shuffle_seed, len(self.history),
                              len(self.history[-1]["batches"]) - 1)
        scaler = self._scaler()
        if not scaler.is_enabled():
            return super().train_step_single(batch, **fit_params)
        self._set_training(True)
        Xi, yi = batch
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        scaler.scale(loss).backward()
        for name in self._optimizers:  # callbacks then see the true gradients
            scaler.unscale_(getattr(self, name + "_"))
        return {"loss": loss, "y_pred": y_pred}

    def _step_optimizer(self, step_fn):
        scaler = self._scaler()
        if not scaler.is_enabled():
            return super()._step_optimizer(step_fn)
        if step_fn is not None:
            step_fn()
        for name in self._optimizers:
            scaler.step(getattr(self, name + "_"))  # skipped when gradients overflowed
        scaler.update()
        return None

    def _sampler(self, dataset, training):
        if training:
            sampler = EpochBatchSampler(len(dataset), self.batch_size, self.shuffle_seed,
                                        lambda: len(self.history))
            if hasattr(dataset, "batch_sampler"):  # random crops: items carry the epoch
                sampler = dataset.batch_sampler(sampler, lambda: len(self.history))
            return sampler
        return SequentialBatchSampler(len(dataset), self.batch_size)

    def get_iterator(self, dataset, training=False):
        kwargs = dict(num_workers=self.num_workers,
                      pin_memory=torch.device(self.device).type == "cuda",
                      seed=self.shuffle_seed,
                      multiprocessing_context=self.multiprocessing_context)
        # skorch builds the training and validation iterators once per fit
        # and iterates them every epoch. With workers, both share one loader:
        # one pool of persistent workers instead of two.
        pending = getattr(self, "_valid_view", None)
        if not training and pending is not None and pending[0] is dataset:
            self._valid_view = None
            return pending[1]
        valid = getattr(self.train_split, "valid_dataset", None)
        if training and self.num_workers and valid is not None:
            shared = SharedLoader([dataset, valid], [self._sampler(dataset, True),
                                                     self._sampler(valid, False)], **kwargs)
            self._valid_view = (valid, shared.view(1))
            return shared.view(0)
        return make_loader(dataset, self._sampler(dataset, training), **kwargs)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("grad_scaler_", None)
        state.pop("_valid_view", None)
        return state

    def infer(self, x, **fit_params):
        x = x.to(self.device, non_blocking=True)
        if self.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        if self.precision in ("bfloat16", "float16"):
            device_type = torch.device(self.device).type
            dtype = torch.bfloat16 if self.precision == "bfloat16" else torch.float16
            with torch.autocast(device_type=device_type, dtype=dtype):
                return self.module_(x, **fit_params).float()
        return self.module_(x, **fit_params)

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(net, dataset_train, dataset_valid, **kwargs)
        set_epoch = getattr(self.criterion_, "set_epoch", None)
        if set_epoch is not None:
            set_epoch(len(self.history) - 1)  # completed epochs, from 0

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y, w, *index = y_true
        if isinstance(y, torch.Tensor) and isinstance(w, torch.Tensor):
            # pinned by the DataLoader on CUDA, so the copies overlap compute
            y = y.to(self.device, dtype=torch.float32, non_blocking=True)
            w = w.to(self.device, dtype=torch.float32, non_blocking=True)
        else:
            y, w = to_tensor((y, w), device=self.device)
        if not getattr(self.criterion_, "requires_index", False):
            loss = self.criterion_(y_pred.float(), y, weight=w)
        else:
            index = index[0].to(self.device) if training and index else None
            loss = self.criterion_(y_pred.float(), y, weight=w, index=index)
        if training and not torch.isfinite(loss):
            raise FloatingPointError(
                f"the training loss became {loss.item()} in epoch {len(self.history)}; training "
                "stopped (a checkpoint keeps the last finite epoch). Use a lower lr, or "
                "precision='float32'.")
        return loss

    def train_or_resume(self, dataset, seed, checkpoint=None):
        """Initialise the net (or restore ``checkpoint``) and train the remaining epochs.

        Under the torch seed ``seed``, with the caller's random state kept; the
        best epoch's weights (callback "best_weights") are loaded at the end.
        """
        callbacks = dict(cb for cb in self.callbacks if isinstance(cb, tuple))
        best, stopper = callbacks.get("best_weights"), callbacks.get("early_stopping")
        device = str(self.device)
        rng_devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
        try:
            with torch.random.fork_rng(devices=rng_devices):
                torch.manual_seed(seed)
                self.initialize()
                if checkpoint is not None and checkpoint.state is not None:
                    best_state = checkpoint.restore(self)
                    restore_best_scores(self)
                    if best is not None:
                        best.best_state_ = best_state
                    if self.verbose:
                        print(f"Resuming from {checkpoint.path} after epoch {len(self.history)}.")
                remaining = self.max_epochs - len(self.history)
                if remaining > 0 and not (stopper is not None
                                          and stopper.should_stop(self.history)):
                    self.partial_fit(dataset, None, epochs=remaining)
            if best is not None and best.best_state_ is not None:
                self.module_.load_state_dict(best.best_state_)
        finally:
            # Drop the data, the extra copy of the weights and the checkpoint
            # handle, so that the fitted estimator pickles small.
            self.train_split = None
            if best is not None:
                best.best_state_ = None
            for _, cb in getattr(self, "callbacks_", ()):
                if isinstance(cb, CheckpointSaver):
                    cb.checkpoint = None
