"""Validation of CNNTagger's parameters and inputs (scikit-learn's constraint machinery).

Parameters are declared in :data:`TAGGER_CONSTRAINTS` and checked by
``BaseEstimator._validate_params`` (through ``sklearn.base._fit_context``),
as scikit-learn's own estimators and imbalanced-learn do. Numbers never
accept a bool (``True`` is not a batch size); flags accept only bools.
"""

import os
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import sklearn
import torch
from sklearn.utils._param_validation import HasMethods, RealNotInt, StrOptions
from sklearn.utils.multiclass import type_of_target

from ..utils import check_label_matrix, check_nonnegative_counts
from ..utils._validation import NumberInterval
from ._data import check_spectrograms

__all__ = ["TAGGER_CONSTRAINTS", "check_target", "resolve_device"]


def _positive_int():
    return NumberInterval(Integral, 1, None, closed="left")


# Parameters of CNNTagger (recipe parameters included: crop_frames, crop_hop,
# optimizer, weight_decay, mixup; constraints of absent parameters are unused).
TAGGER_CONSTRAINTS = {
    "module": [None, StrOptions({"ibrahim2020", "short_chunk"}), callable],
    "filters": [tuple, list],
    "hidden_units": [_positive_int()],
    "dropout": [NumberInterval(Real, 0, 1, closed="left")],
    "weighting": [None, HasMethods(["fit", "transform"])],
    "optimizer": [StrOptions({"adadelta", "adamw"})],
    "lr": [None, NumberInterval(Real, 0, None, closed="neither")],
    "weight_decay": [NumberInterval(Real, 0, None, closed="left")],
    "rho": [NumberInterval(Real, 0, 1, closed="right")],
    "eps": [NumberInterval(Real, 0, None, closed="neither")],
    "lr_decay": [NumberInterval(Real, 0, 1, closed="right")],
    "lr_decay_steps": [_positive_int()],
    "batch_size": [_positive_int()],
    "max_epochs": [_positive_int()],
    "patience": [None, _positive_int()],
    "valid_size": [None, NumberInterval(RealNotInt, 0, 1, closed="neither"), _positive_int()],
    "threshold": [NumberInterval(Real, 0, 1, closed="both"), StrOptions({"f1"}), "array-like"],
    "crop_frames": [None, _positive_int()],
    "crop_hop": [None, _positive_int()],
    "mixup": [NumberInterval(Real, 0, None, closed="left")],
    "device": [str, torch.device],
    "channels_last": ["boolean"],
    "precision": [StrOptions({"float32", "bfloat16", "float16"})],
    "num_workers": [NumberInterval(Integral, 0, None, closed="left")],
    "random_state": ["random_state"],
    "checkpoint_dir": [None, str, os.PathLike],
    "callbacks": [None, list, tuple],
    "verbose": ["verbose"],
}


def check_module_param(module):
    """``module`` is a name, None, or a factory (not a built module instance)."""
    if isinstance(module, torch.nn.Module):
        raise ValueError(
            "module must be None, a network name or a class/callable building a "
            f"torch.nn.Module (module(n_mels=, n_frames=, n_labels=)), got the instance "
            f"{type(module).__name__}(...); pass its class (functools.partial binds arguments).")


def _empty_message(X, estimator_name):
    """scikit-learn's wording for empty input (check_array's), or None."""
    if X.shape[0] == 0:
        return (f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is "
                f"required by {estimator_name}.")
    if X.ndim >= 2 and min(X.shape[1:]) == 0:
        return (f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is "
                f"required by {estimator_name}.")
    return None


def check_input(X, *, estimator_name="CNNTagger"):
    """Validated spectrograms and their shape (1, n_mels, n_frames).

    A 2-D X of shape (n, d) is read as n one-band spectrograms of d frames
    (n, 1, 1, d). Empty input is refused in scikit-learn's words. The NaN / inf
    scan is skipped under ``sklearn.config_context(assume_finite=True)``.
    """
    if not sp.issparse(X) and hasattr(X, "shape") and hasattr(X, "ndim"):
        if X.ndim == 2 and not isinstance(X, np.ndarray):
            X = np.asarray(X)
    elif not sp.issparse(X) and not isinstance(X, torch.Tensor):
        try:
            X = np.asarray(X)
        except Exception as exc:
            raise ValueError(f"X could not be converted to an array: {exc}") from exc
    if not sp.issparse(X) and getattr(X, "ndim", 0) >= 1:
        message = _empty_message(X, estimator_name)
        if message is not None:
            raise ValueError(message)
    if isinstance(X, np.ndarray) and X.ndim == 2:
        X = X.reshape(X.shape[0], 1, 1, X.shape[1])
    check_finite = not sklearn.get_config()["assume_finite"]
    return check_spectrograms(X, name="X", check_finite=check_finite)


def check_target(y):
    """Validate y once: (Y as (n, m) uint8 indicators, classes_, outputs_2d).

    A 1-D y holds any two class labels (``classes_ = np.unique(y)``; the
    second is the positive class); a 2-D y holds 0/1 indicators.
    """
    if y is None:
        raise ValueError("CNNTagger requires y to be passed, but the target y is None.")
    if not sp.issparse(y):
        y = np.asarray(y) if not hasattr(y, "ndim") else y
        if y.ndim == 1:
            return _binary_target(np.asarray(y))
        if y.ndim == 2 and y.shape[0] == 0:
            raise ValueError(f"Found array with 0 sample(s) (shape={y.shape}) while a "
                             "minimum of 1 is required.")
    try:
        Y = check_label_matrix(y, name="y")
    except ValueError as exc:
        _reword(y, exc)
        raise
    return Y, [np.array([0, 1]) for _ in range(Y.shape[1])], True


def _binary_target(y):
    if y.shape[0] == 0:
        raise ValueError("Found array with 0 sample(s) (shape=(0,)) while a minimum of 1 is "
                         "required.")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError(f"Input y contains NaN or inf (first at row "
                         f"{int(np.flatnonzero(~np.isfinite(y))[0])}).")
    kind = type_of_target(y, input_name="y")
    if kind.startswith("continuous") or kind == "unknown":
        raise ValueError(f"Unknown label type: {kind}. CNNTagger is a classifier: y must hold "
                         "two class labels (1-D) or 0/1 tag indicators (2-D).")
    classes = np.unique(y)
    if classes.shape[0] == 1:
        raise ValueError(f"y has only one class, {classes[0].tolist()!r}; CNNTagger needs two "
                         "classes in a 1-D y (or use a 2-D indicator matrix).")
    if classes.shape[0] > 2:
        raise ValueError(
            f"Only binary classification is supported. The type of the target is {kind} "
            f"({classes.shape[0]} classes); for several tags pass a 2-D 0/1 indicator matrix.")
    Y = (y == classes[1]).astype(np.uint8).reshape(-1, 1)
    return Y, classes, False


def _reword(y, exc):
    """Raise ``exc`` with scikit-learn's name for the kind of target in front."""
    try:
        kind = type_of_target(y, input_name="y")
    except ValueError as exc2:  # NaN or inf, in sklearn's words, then ours
        raise ValueError(f"{exc2} {exc}") from None
    if kind.startswith("continuous") or kind == "unknown":
        raise ValueError(f"Unknown label type: {kind}. {exc}") from None
    if kind.startswith("multiclass"):
        raise ValueError(
            f"Only binary classification is supported. The type of the target is {kind}; "
            f"a 2-D y holds 0/1 tag indicators. {exc}") from None


def check_side_inputs(playlist_counts, groups, shape):
    """Validated (counts or None, groups or None) for labels of ``shape``."""
    counts = None
    if playlist_counts is not None:
        counts = check_nonnegative_counts(playlist_counts, name="playlist_counts", shape=shape)
    if groups is not None:
        groups = np.asarray(groups)
        if groups.ndim != 1 or groups.shape[0] != shape[0]:
            raise ValueError(f"groups must be 1-D with one entry per sample ({shape[0]}), "
                             f"got shape {groups.shape}.")
    return counts, groups


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
    raise ValueError(f"device={device!r} is not supported by CNNTagger (use 'auto', 'cpu', "
                     "'cuda', 'cuda:N' or 'mps').")


def resolve_thresholds(threshold, m, valid_size):
    """(m,) float thresholds, or "f1" (tuned after training)."""
    if isinstance(threshold, str):  # "f1", the only string the constraints let through
        if valid_size is None:
            raise ValueError("threshold='f1' tunes the thresholds on the internal validation "
                             "split, which valid_size=None disables.")
        return "f1"
    arr = np.asarray(threshold, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(m, float(arr))
    elif arr.shape != (m,):
        raise ValueError(
            f"threshold has shape {arr.shape}, expected a float or one per label ({m},).")
    if not (np.isfinite(arr).all() and (arr >= 0).all() and (arr <= 1).all()):
        raise ValueError(f"threshold values must lie in [0, 1], got {threshold!r}.")
    return arr


def check_weights(W, n, m):
    """The weighting's output as (n, m) finite non-negative float32."""
    W = np.asarray(W, dtype=np.float32)
    if W.shape != (n, m):
        raise ValueError(f"weighting returned weights of shape {W.shape}, expected {(n, m)}.")
    if not np.isfinite(W).all() or (W < 0).any():
        raise ValueError("weighting returned NaN, inf or negative weights.")
    return W
