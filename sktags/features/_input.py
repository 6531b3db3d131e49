"""Validation of the front end's input: audio paths or waveforms.

Every problem is a one-line :class:`ValueError` naming the position in ``X``.
"""

import os

import numpy as np

from ._waveform import as_float_waveform


def check_clips(X, name):
    """Validate ``X``; return ``[(kind, payload), ...]`` with kind "path" or "wave".

    ``name`` (the estimator's class name) starts every error message.
    """
    if X is None:
        raise ValueError(f"{name} needs X: a sequence of audio paths or waveforms, got None.")
    if isinstance(X, (str, bytes, os.PathLike)):
        raise ValueError(
            f"{name}: X must be a sequence of audio paths or waveforms, got a single "
            f"path {X!r}; pass [path]."
        )
    if hasattr(X, "tocsr") or hasattr(X, "todense"):
        raise ValueError(f"{name} does not accept sparse input: pass dense waveforms.")
    if isinstance(X, dict):
        raise ValueError(f"{name}: X must be a sequence of audio paths or waveforms, got a dict.")
    if not isinstance(X, (list, tuple)) and hasattr(X, "__array__"):
        X = np.asarray(X)
    if isinstance(X, np.ndarray) and X.dtype.kind == "O" and X.ndim == 2:
        try:  # a 2-D object array of numbers
            X = X.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name}: a 2-D X must hold numbers: {exc}") from None
    if isinstance(X, np.ndarray) and X.dtype.kind == "c":
        raise ValueError(f"{name}: Complex data not supported; waveforms must be real.")
    if isinstance(X, np.ndarray) and X.dtype.kind in "iuf":
        if X.ndim != 2:
            hint = (
                " Reshape your data: a single waveform y is X = y[np.newaxis] or [y]."
                if X.ndim == 1
                else ""
            )
            raise ValueError(
                f"{name}: a numeric X must be 2-D (n_clips, n_samples), got an array "
                f"of shape {X.shape}.{hint}"
            )
        if X.shape[1] == 0:
            raise ValueError(
                f"{name}: waveforms without samples: 0 feature(s) (shape={X.shape}) "
                "while a minimum of 1 is required."
            )
        X = list(X)
    elif isinstance(X, np.ndarray):
        if X.ndim != 1:
            raise ValueError(
                f"{name}: an array of paths or waveforms must be 1-D, got shape {X.shape}."
            )
        X = list(X)
    else:
        try:
            X = list(X)
        except TypeError:
            raise ValueError(
                f"{name}: X must be a sequence of audio paths or waveforms, got "
                f"{type(X).__name__}."
            ) from None
    if len(X) == 0:
        raise ValueError(f"{name}: X is empty (0 clips); at least one clip is required.")
    return [check_clip(i, x, name) for i, x in enumerate(X)]

def check_clip(i, x, name):
    """Validate clip ``X[i]``: a path, or a finite real 1-D waveform (as float32)."""
    if isinstance(x, (str, os.PathLike)):
        return ("path", os.fspath(x))
    if isinstance(x, bytes):
        return ("path", os.fsdecode(x))
    try:
        y = np.asarray(x)
    except Exception:  # noqa: BLE001
        y = None
    if y is not None and y.dtype.kind == "c":
        raise ValueError(f"{name}: X[{i}]: Complex data not supported; waveforms must be real.")
    if y is None or y.dtype.kind not in "iuf":
        raise ValueError(
            f"{name}: X[{i}] must be an audio path or a real waveform, got "
            f"{type(x).__name__}."
        )
    if y.ndim != 1:
        raise ValueError(
            f"{name}: waveform X[{i}] must be 1-D (mono samples at sr), got shape {y.shape}."
        )
    if y.shape[0] == 0:
        raise ValueError(f"{name}: waveform X[{i}] is empty (0 samples).")
    return ("wave", as_float_waveform(y, name=f"{name}: waveform X[{i}]"))
