"""Optimisers and learning-rate schedules of CNNTagger.

- ``"adadelta"`` (the paper's): Adadelta with ``rho`` and ``eps``, initial
  rate ``lr`` (0.1 when None) and the authors' staircase decay
  ``lr * lr_decay ** floor(step / lr_decay_steps)``, ``step`` counting
  training batches (:class:`~sktags.models._callbacks.StaircaseLR`).
- ``"adamw"``: AdamW with ``weight_decay``, peak rate ``lr`` (3e-3 when
  None, the peak of fastai's one-cycle default) and a one-cycle schedule over the whole training
  (``max_epochs * batches_per_epoch`` steps, :class:`OneCycleLR`): a cosine
  warm-up from ``lr / 25`` to ``lr`` over the first 30 % of the steps, then a
  cosine annealing down to ``lr / 25e4``.

Both schedules are set before every training batch from the number of
training batches so far, rebuilt from the history, so a training resumed
from a checkpoint follows exactly the same rates.
"""

import math

import torch
from skorch.callbacks import Callback

from ._callbacks import StaircaseLR, completed_train_batches

OPTIMIZERS = ("adadelta", "adamw")
DEFAULT_LR = {"adadelta": 0.1, "adamw": 3e-3}


def cosine_one_cycle(step, total_steps, max_lr, *, pct_start=0.3, div_factor=25.0,
                     final_div_factor=1e4):
    """The learning rate of a one-cycle schedule at batch ``step`` (0-based).

    Examples
    --------
    >>> from sktags.models._optim import cosine_one_cycle
    >>> round(cosine_one_cycle(0, 100, 1.0), 6), round(cosine_one_cycle(29, 100, 1.0), 6)
    (0.04, 1.0)
    >>> round(cosine_one_cycle(99, 100, 1.0) * 25e4, 6)
    1.0
    """
    total = max(int(total_steps), 1)
    start, peak = max_lr / div_factor, max_lr
    final = start / final_div_factor
    warm = max(pct_start * total - 1, 0.0)
    step = min(max(int(step), 0), total - 1)
    if step <= warm and warm > 0:
        frac, lo, hi = step / warm, start, peak
    else:
        span = max(total - 1 - warm, 1.0)
        frac, lo, hi = (step - warm) / span, peak, final
    return hi + (lo - hi) * (1 + math.cos(math.pi * frac)) / 2


class OneCycleLR(Callback):
    """:func:`cosine_one_cycle` over ``total_steps`` training batches, set before each."""

    def __init__(self, lr, total_steps):
        self.lr = lr
        self.total_steps = total_steps

    def on_train_begin(self, net, **kwargs):
        self.step_ = completed_train_batches(net.history)

    def on_batch_begin(self, net, training=False, **kwargs):
        if training:
            lr = cosine_one_cycle(self.step_, self.total_steps, self.lr)
            for group in net.optimizer_.param_groups:
                group["lr"] = lr

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.step_ += 1


def resolve_optimizer(est, n_train):
    """(optimizer class, skorch kwargs, schedule callback) for a CNNTagger's parameters.

    ``n_train`` is the number of training clips (it sets the number of
    batches per epoch of the one-cycle schedule).
    """
    name = est.optimizer
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}.")
    lr = DEFAULT_LR[name] if est.lr is None else float(est.lr)
    if name == "adadelta":
        kwargs = dict(lr=lr, optimizer__rho=est.rho, optimizer__eps=est.eps)
        return torch.optim.Adadelta, kwargs, StaircaseLR(lr, est.lr_decay, est.lr_decay_steps)
    total = int(est.max_epochs) * max(-(-int(n_train) // int(est.batch_size)), 1)
    kwargs = dict(lr=lr, optimizer__weight_decay=float(est.weight_decay))
    return torch.optim.AdamW, kwargs, OneCycleLR(lr, total)
