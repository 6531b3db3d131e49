"""The steps of CNNTagger.fit: validation split, weights, the skorch net, training.

Functions of the estimator ``est`` (a CNNTagger), kept apart from the class so
that ``CNNTagger.fit`` reads as the sequence of its steps.
"""

import numpy as np
import torch
from sklearn.base import clone
from sklearn.model_selection import GroupShuffleSplit, ShuffleSplit

from ._callbacks import BestWeights, CheckpointSaver, EarlyStopping, restore_best_scores
from ._loss import WeightedBCEWithLogitsLoss
from ._optim import resolve_optimizer
from ._recipe import resolve_module
from ._skorch_net import FixedSplit, TaggerNeuralNet
from ._validation import check_weights


def split(est, n, groups, seed):
    """Sorted (train, valid) row indices; valid is None without validation."""
    if est.valid_size is None:
        return np.arange(n), None
    splitter = (GroupShuffleSplit if groups is not None else ShuffleSplit)(
        n_splits=1, test_size=est.valid_size, random_state=seed)
    try:
        train, valid = next(splitter.split(np.zeros((n, 1)), groups=groups))
    except ValueError as exc:
        raise ValueError(f"cannot split {n} samples with valid_size={est.valid_size!r}: "
                         f"{exc}") from exc
    if len(train) == 0 or len(valid) == 0:
        raise ValueError(
            f"valid_size={est.valid_size!r} leaves an empty training or validation part "
            f"({len(train)} / {len(valid)} samples); use more samples or valid_size=None.")
    return np.sort(train), np.sort(valid)


def fit_weights(est, Y, counts, train_idx):
    """(fitted clone of weighting or None, (n, m) float32 weights of every row).

    The clone is fitted on the training rows only; the weights of all rows
    (validation included) come from one ``transform`` of the fitted clone.
    """
    if est.weighting is None:
        return None, np.ones(Y.shape, dtype=np.float32)
    weighting = clone(est.weighting)
    part = None if counts is None else counts[train_idx]
    weighting.fit(Y[train_idx], playlist_counts=part)
    W = weighting.transform(Y, playlist_counts=counts)
    return weighting, check_weights(W, *Y.shape)


def module_spec(est, input_shape, n_labels):
    """(module factory, keyword arguments) of the torch network."""
    module, kwargs = resolve_module(est)
    kwargs.update(n_mels=input_shape[1], n_frames=input_shape[2], n_labels=n_labels)
    return module, kwargs


def make_net(est, input_shape, n_labels, device, seed, valid_ds=None, checkpoint=None,
             n_train=1):
    """The (uninitialised) skorch net, with internal and user callbacks.

    ``n_train`` (training samples) sizes AdamW's one-cycle schedule.
    """
    module, kwargs = module_spec(est, input_shape, n_labels)
    optimizer, optimizer_kwargs, schedule = resolve_optimizer(est, n_train)
    best = BestWeights("valid_loss")
    schedule_name = "staircase_lr" if est.optimizer == "adadelta" else "one_cycle_lr"
    callbacks = [(schedule_name, schedule)]
    for cb in est.callbacks or ():
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
        callbacks.append(("early_stopping", EarlyStopping("valid_loss", est.patience)))
    return TaggerNeuralNet(
        module, criterion=WeightedBCEWithLogitsLoss, optimizer=optimizer, **optimizer_kwargs,
        max_epochs=est.max_epochs, batch_size=est.batch_size,
        train_split=None if valid_ds is None else FixedSplit(valid_ds),
        callbacks=callbacks, device=device, verbose=est.verbose, shuffle_seed=seed,
        channels_last=est.channels_last, precision=est.precision,
        num_workers=est.num_workers, mixup=float(est.mixup),
        **{f"module__{k}": v for k, v in kwargs.items()})


def train_net(est, net, train_ds, device, seed, checkpoint):
    """Initialise (or restore) the net and train the remaining epochs, in place."""
    callbacks = dict(cb for cb in net.callbacks if isinstance(cb, tuple))
    best, stopper = callbacks.get("best_weights"), callbacks.get("early_stopping")
    rng_devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
    try:
        with torch.random.fork_rng(devices=rng_devices):
            torch.manual_seed(seed)
            net.initialize()
            if checkpoint is not None and checkpoint.state is not None:
                best_state = checkpoint.restore(net)
                restore_best_scores(net)
                if best is not None:
                    best.best_state_ = best_state
                if est.verbose:
                    print(f"Resuming from {checkpoint.path} after epoch {len(net.history)}.")
            remaining = est.max_epochs - len(net.history)
            if remaining > 0 and not (stopper is not None and stopper.should_stop(net.history)):
                net.partial_fit(train_ds, None, epochs=remaining)
        if best is not None and best.best_state_ is not None:
            net.module_.load_state_dict(best.best_state_)
    finally:
        # Drop the data, the extra copy of the weights and the checkpoint
        # handle, so that the fitted estimator pickles small.
        net.train_split = None
        if best is not None:
            best.best_state_ = None
        for _, cb in getattr(net, "callbacks_", ()):
            if isinstance(cb, CheckpointSaver):
                cb.checkpoint = None
