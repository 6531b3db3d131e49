"""The skorch net that CNNTagger builds and holds (an implementation detail)."""

import torch
from skorch import NeuralNet
from skorch.utils import to_tensor

from ._callbacks import PlainPrintLog, StopTraining
from ._mixup import mix_batch
from ._data import EpochBatchSampler, SequentialBatchSampler, make_loader
from ._shared_loader import SharedLoader


class FixedSplit:
    """skorch ``train_split`` returning a validation set chosen beforehand."""

    def __init__(self, valid_dataset):
        self.valid_dataset = valid_dataset

    def __call__(self, dataset, y=None, **kwargs):
        return dataset, self.valid_dataset


class TaggerNeuralNet(NeuralNet):
    """skorch ``NeuralNet`` with the data path and numerics of CNNTagger.

    Differences from a plain ``NeuralNet``:

    - batches come whole from ``SpectrogramDataset``
      (one read per batch, memmap friendly); the training order depends only
      on ``(shuffle_seed, epoch)``;
    - optional ``channels_last`` memory format for the module and its inputs
      (same numerics, faster convolutions on CPU);
    - optional ``bfloat16`` autocast, or ``float16`` autocast with a gradient
      scaler (``grad_scaler_``, a ``torch.amp.GradScaler``; its
      ``state_dict()`` belongs in checkpoints); the loss is always computed in
      float32;
    - targets are pairs ``(y, weight)``; inputs, labels and weights are
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

    CNNTagger itself is not a ``NeuralNet`` subclass; it holds one of these as
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
        if getattr(self, "mixup", 0):  # seeded by (seed, epoch, batch): see _mixup.py
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

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y, w = y_true
        if isinstance(y, torch.Tensor) and isinstance(w, torch.Tensor):
            # pinned by the DataLoader on CUDA, so the copies overlap compute
            y = y.to(self.device, dtype=torch.float32, non_blocking=True)
            w = w.to(self.device, dtype=torch.float32, non_blocking=True)
        else:
            y, w = to_tensor(y_true, device=self.device)
        return self.criterion_(y_pred.float(), y, w)
