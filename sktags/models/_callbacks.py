"""skorch callbacks of the neural taggers, one job each: learning rate, best weights, checkpoints, stopping.

Their state is derived from the net's history wherever possible, so that a
training resumed from a checkpoint continues exactly where it stopped.
"""

import math
import sys

import numpy as np
from skorch.callbacks import Callback, PrintLog
from skorch.utils import Ansi

from ._checkpoint import _state_to_cpu


def completed_train_batches(history):
    """Number of training batches in the completed epochs of a skorch history."""
    return int(sum(row.get("train_batch_count", 0) for row in history))


def cosine_one_cycle(step, total_steps, max_lr, *, pct_start=0.3, div_factor=25.0,
                     final_div_factor=1e4):
    """The learning rate of a one-cycle schedule at batch ``step`` (0-based).

    A cosine warm-up from ``max_lr / div_factor`` to ``max_lr`` over the first
    ``pct_start`` of the steps, then a cosine annealing down to
    ``max_lr / div_factor / final_div_factor``.

    Examples
    --------
    >>> from sktags.models._callbacks import cosine_one_cycle
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


class LRSchedule(Callback):
    """A learning rate set before every training batch from the number of batches so far.

    ``step`` counts training batches and is rebuilt from the history when
    training (re)starts, so a training resumed from a checkpoint follows
    exactly the same rates. (skorch's ``LRScheduler`` steps a torch scheduler
    whose state would have to be checkpointed too.)

    Parameters
    ----------
    kind : {"staircase", "one_cycle", "constant"}
        "staircase": ``lr * decay ** floor(step / decay_steps)``, the
        TensorFlow ``exponential_decay(..., staircase=True)`` of the authors'
        code. "one_cycle": :func:`cosine_one_cycle` over ``total_steps``.
        "constant": ``lr``.
    lr : float
    decay, decay_steps : float and int, default=1.0 and 1
        Of "staircase".
    total_steps : int, default=1
        Of "one_cycle".
    """

    def __init__(self, kind, lr, *, decay=1.0, decay_steps=1, total_steps=1):
        self.kind = kind
        self.lr = lr
        self.decay = decay
        self.decay_steps = decay_steps
        self.total_steps = total_steps

    def current_lr(self, step):
        if self.kind == "staircase":
            return self.lr * self.decay ** (step // self.decay_steps)
        if self.kind == "one_cycle":
            return cosine_one_cycle(step, self.total_steps, self.lr)
        return self.lr

    def on_train_begin(self, net, **kwargs):
        self.step_ = completed_train_batches(net.history)

    def on_batch_begin(self, net, training=False, **kwargs):
        if training:
            lr = self.current_lr(self.step_)
            for group in net.optimizer_.param_groups:
                group["lr"] = lr

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.step_ += 1


def best_epoch_from_history(history, monitor="valid_loss"):
    """(best epoch (1-based), best score) of the lowest ``monitor`` so far; (0, inf) if none.

    Ties keep the earliest epoch: an epoch is an improvement only when it is
    strictly lower.
    """
    best_epoch, best = 0, np.inf
    for row in history:
        score = row.get(monitor)
        if score is not None and score < best:
            best_epoch, best = int(row["epoch"]), float(score)
    return best_epoch, best


def restore_best_scores(net):
    """Give skorch's scoring callbacks the best score of a resumed history.

    ``PassthroughScoring`` (``train_loss``, ``valid_loss``) and
    ``EpochScoring`` keep their best score so far in ``best_score_``, which
    ``net.initialize()`` resets; after the history of a checkpoint is loaded,
    the first resumed epoch would otherwise be recorded as best
    (``valid_loss_best``). The best score is the one of the last epoch that
    the history marks as best, the value that the callback held then.
    """
    for _, callback in net.callbacks_:
        name = getattr(callback, "name_", None) or getattr(callback, "name", None)
        if not hasattr(callback, "best_score_") or not isinstance(name, str):
            continue
        flagged = [row[name] for row in net.history
                   if row.get(f"{name}_best") is True and name in row]
        if flagged:
            callback.best_score_ = flagged[-1]


class StopTraining(KeyboardInterrupt):
    """Raised by :class:`EarlyStopping` to end training early.

    A ``KeyboardInterrupt`` subclass, as skorch's ``partial_fit`` ends training
    quietly on one; :class:`~sktags.models.TaggerNeuralNet` tells it apart from
    a real Ctrl-C, which it raises again.
    """


class BestWeights(Callback):
    """Keep a CPU copy of the module's weights of the best epoch so far.

    The best epoch has the (strictly) lowest ``monitor``; ties keep the
    earliest. ``best_state_`` is None until an epoch scored, and is set by
    the caller when a training resumes from a checkpoint.
    """

    def __init__(self, monitor="valid_loss"):
        self.monitor = monitor
        self.best_state_ = None

    def on_epoch_end(self, net, **kwargs):
        best_epoch, _ = best_epoch_from_history(net.history, self.monitor)
        if best_epoch == int(net.history[-1]["epoch"]):
            self.best_state_ = _state_to_cpu(net.module_.state_dict())


class CheckpointSaver(Callback):
    """Save the training state at the end of every epoch.

    Parameters
    ----------
    checkpoint : sktags.models._checkpoint.Checkpoint
        Where and how to save.
    best_weights : BestWeights or None
        Whose best weights go into the checkpoint.
    seed : int
        Saved with the state, so that a resumed fit reuses it.
    """

    def __init__(self, checkpoint, best_weights=None, seed=0):
        self.checkpoint = checkpoint
        self.best_weights = best_weights
        self.seed = seed

    def on_epoch_end(self, net, **kwargs):
        best = None if self.best_weights is None else self.best_weights.best_state_
        self.checkpoint.save(net, best, self.seed)


class EarlyStopping(Callback):
    """Stop training (raise :class:`StopTraining`) after ``patience`` epochs without improvement.

    The state is the history itself, so a resumed training stops where the
    uninterrupted one would have.

    Parameters
    ----------
    monitor : str
        History key to minimise.
    patience : int or None
        None never stops.
    """

    def __init__(self, monitor="valid_loss", patience=10):
        self.monitor = monitor
        self.patience = patience

    def should_stop(self, history):
        if self.patience is None or not len(history):
            return False
        best_epoch, _ = best_epoch_from_history(history, self.monitor)
        return int(history[-1]["epoch"]) - best_epoch >= self.patience

    def on_epoch_end(self, net, **kwargs):
        if self.should_stop(net.history):
            if net.verbose:
                print(f"Stopping: no improvement of {self.monitor} for {self.patience} epochs.")
            raise StopTraining


def _print(*args, **kwargs):
    """``print`` looked up when called: a net holding it pickles even after
    a library (Ray does) has replaced ``builtins.print``."""
    print(*args, **kwargs)


class PlainPrintLog(PrintLog):
    """skorch's per-epoch table, with colour codes only on a terminal.

    skorch's :class:`~skorch.callbacks.PrintLog` marks the best scores with
    ANSI colour codes; in a log file or a pipe they are noise, so they are
    left out when the sink writes to something that is not a terminal.
    """

    def __init__(self, keys_ignored=None, sink=_print, **kwargs):
        super().__init__(keys_ignored=keys_ignored, sink=sink, **kwargs)

    def _sink(self, text, verbose):
        # skorch prints through any sink but ``print`` itself even when
        # verbose=0; the default sink here stands for print.
        if verbose or self.sink is not _print:
            self.sink(text)

    def format_row(self, row, key, color):
        text = super().format_row(row, key, color)
        if isinstance(text, str) and not _stdout_is_terminal():
            text = text.replace(color, "").replace(Ansi.ENDC.value, "")
        return text


def _stdout_is_terminal():
    isatty = getattr(sys.stdout, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False

