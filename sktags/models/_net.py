"""The skorch net that CNNTagger builds and holds (an implementation detail)."""

import torch
from skorch import NeuralNet
from skorch.utils import to_tensor

from ._callbacks import StopTraining
from ._mixup import mix_batch
from ._data import EpochBatchSampler, SequentialBatchSampler, make_loader


class FixedSplit:
    """skorch ``train_split`` returning a validation set chosen beforehand."""

    def __init__(self, valid_dataset):
        self.valid_dataset = valid_dataset

    def __call__(self, dataset, y=None, **kwargs):
        return dataset, self.valid_dataset


class TaggerNet(NeuralNet):
    """skorch ``NeuralNet`` with the data path and numerics of CNNTagger.

    Differences from a plain ``NeuralNet``:

    - batches come whole from :class:`~sktags.models._data.SpectrogramDataset`
      (one read per batch, memmap friendly); the training order depends only
      on ``(shuffle_seed, epoch)``;
    - optional ``channels_last`` memory format for the module and its inputs
      (same numerics, faster convolutions on CPU);
    - optional ``bfloat16`` autocast; the loss is always computed in float32;
    - targets are pairs ``(y, weight)`` for the weighted loss;
    - a ``KeyboardInterrupt`` (Ctrl-C) during training is raised again by
      ``fit`` and ``partial_fit``, after the callbacks' ``on_train_end``;
      skorch itself ends training quietly, as if it were finished. Early
      stopping (:class:`~sktags.models._callbacks.StopTraining`) still ends
      training normally.

    CNNTagger itself is not a ``NeuralNet`` subclass; it holds one of these as
    ``net_``.
    """

    def __init__(self, module, *, shuffle_seed=0, channels_last=False, precision="float32",
                 num_workers=0, mixup=0.0, **kwargs):
        super().__init__(module, **kwargs)
        self.mixup = mixup
        self.shuffle_seed = shuffle_seed
        self.channels_last = channels_last
        self.precision = precision
        self.num_workers = num_workers

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

    def get_iterator(self, dataset, training=False):
        if training:
            sampler = EpochBatchSampler(len(dataset), self.batch_size, self.shuffle_seed,
                                        lambda: len(self.history))
            if hasattr(dataset, "batch_sampler"):  # random crops: items carry the epoch
                sampler = dataset.batch_sampler(sampler, lambda: len(self.history))
        else:
            sampler = SequentialBatchSampler(len(dataset), self.batch_size)
        return make_loader(dataset, sampler, num_workers=self.num_workers,
                           pin_memory=str(self.device).startswith("cuda"),
                           seed=self.shuffle_seed)

    def train_step_single(self, batch, **fit_params):
        if getattr(self, "mixup", 0):  # seeded by (seed, epoch, batch): see _mixup.py
            batch = mix_batch(batch, self.mixup, self.shuffle_seed, len(self.history),
                              len(self.history[-1]["batches"]) - 1)
        return super().train_step_single(batch, **fit_params)

    def infer(self, x, **fit_params):
        x = x.to(self.device, non_blocking=True)
        if self.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        if self.precision == "bfloat16":
            device_type = torch.device(self.device).type
            with torch.autocast(device_type=device_type, dtype=torch.bfloat16):
                return self.module_(x, **fit_params).float()
        return self.module_(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y, w = to_tensor(y_true, device=self.device)
        return self.criterion_(y_pred.float(), y, w)
