"""skorch callbacks of CNNTagger: staircase learning rate, early stopping, checkpoints.

Their state is derived from the net's history wherever possible, so that a
training resumed from a checkpoint continues exactly where it stopped.
"""

import json
import os

import numpy as np
import torch
from skorch.callbacks import Callback

from ..utils._atomic import atomic_path

CHECKPOINT_NAME = "checkpoint.pt"


def completed_train_batches(history):
    """Number of training batches in the completed epochs of a skorch history."""
    return int(sum(row.get("train_batch_count", 0) for row in history))


class StaircaseLR(Callback):
    """``lr * decay ** floor(step / decay_steps)``, ``step`` counting training batches.

    The TensorFlow ``exponential_decay(..., staircase=True)`` schedule of the
    authors' code, set before every training batch. The step count is rebuilt
    from the history when training (re)starts.
    """

    def __init__(self, lr, decay, decay_steps):
        self.lr = lr
        self.decay = decay
        self.decay_steps = decay_steps

    def current_lr(self, step):
        return self.lr * self.decay ** (step // self.decay_steps)

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


def _state_to_cpu(state_dict):
    return {k: v.detach().to("cpu", copy=True) for k, v in state_dict.items()}


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
    """Raised by :class:`EpochEnd` to end training early.

    A ``KeyboardInterrupt`` subclass, as skorch's ``partial_fit`` ends training
    quietly on one; :class:`~sktags.models._skorch_net.TaggerNeuralNet` tells it apart from
    a real Ctrl-C, which it raises again.
    """


class EpochEnd(Callback):
    """Early stopping with best-weight tracking, and atomic per-epoch checkpoints.

    After each epoch:

    1. if ``monitor`` improved (strictly lower), keep a CPU copy of the module's
       weights as the best so far;
    2. if ``checkpoint_file`` is set, write the state (weights, best weights,
       optimizer, history, random number generator) to a temporary file in
       the same directory and ``os.replace`` it over the checkpoint;
    3. stop training (raise :class:`StopTraining`) when ``patience`` epochs
       passed without improvement.

    Parameters
    ----------
    monitor : str or None
        History key to minimise; None disables early stopping.
    patience : int or None
    checkpoint_file : str or None
    extra : dict
        Saved as is in every checkpoint (fingerprint, seed).
    """

    def __init__(self, monitor="valid_loss", patience=10, checkpoint_file=None, extra=None):
        self.monitor = monitor
        self.patience = patience
        self.checkpoint_file = checkpoint_file
        self.extra = extra
        self.best_state_ = None

    def should_stop(self, history):
        if self.monitor is None or self.patience is None or not len(history):
            return False
        best_epoch, _ = best_epoch_from_history(history, self.monitor)
        return int(history[-1]["epoch"]) - best_epoch >= self.patience

    def on_epoch_end(self, net, **kwargs):
        if self.monitor is not None:
            best_epoch, _ = best_epoch_from_history(net.history, self.monitor)
            if best_epoch == int(net.history[-1]["epoch"]):
                self.best_state_ = _state_to_cpu(net.module_.state_dict())
        if self.checkpoint_file is not None:
            save_checkpoint(self.checkpoint_file, net, self.best_state_, self.extra or {})
        if self.should_stop(net.history):
            if net.verbose:
                print(f"Stopping: no improvement of {self.monitor} for {self.patience} epochs.")
            raise StopTraining


def _history_json(history):
    def default(o):
        if isinstance(o, np.generic):
            return o.item()
        raise TypeError(f"cannot serialise {type(o)}")

    return json.dumps(list(history), default=default)


def save_checkpoint(path, net, best_state, extra):
    """Write the training state to ``path`` atomically (temporary file + os.replace)."""
    state = {
        "format": 1,
        "module": _state_to_cpu(net.module_.state_dict()),
        "optimizer": net.optimizer_.state_dict(),  # serialised at once: no copy needed
        "best_module": best_state,
        "history": _history_json(net.history),
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": (torch.cuda.get_rng_state(torch.device(net.device))
                     if str(net.device).startswith("cuda") else None),
        **extra,
    }
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_path(path, prefix=".checkpoint-", suffix=".tmp") as tmp:
        with open(tmp, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())


def load_checkpoint(path, map_location="cpu"):
    """Read a checkpoint written by :func:`save_checkpoint`; None when absent."""
    if not os.path.exists(path):
        return None
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
        state["history"] = json.loads(state["history"])
    except Exception as exc:
        raise ValueError(
            f"{path} is not a readable CNNTagger checkpoint ({exc}); delete it to start "
            "this training over.") from exc
    return state
