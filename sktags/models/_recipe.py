"""CNNTagger's options for real music: network names, crop checks and crop-aware inputs.

Kept out of ``_tagger.py`` so that the estimator only wires them in. See
``docs/real_music.rst`` for the recipe itself.
"""

import numbers

import numpy as np
import torch

from ._data import check_spectrograms
from ._networks import ShortChunkCNN, TaggerCNN
from ._optim import OPTIMIZERS
from ._windows import Clips, check_clips

MODULE_NAMES = ("ibrahim2020", "short_chunk")


def resolve_module(est):
    """(module class or callable, keyword arguments) from ``est.module``."""
    module = est.module
    if module is None or (isinstance(module, str) and module == "ibrahim2020"):
        return TaggerCNN, dict(filters=tuple(est.filters), hidden_units=est.hidden_units,
                               dropout=est.dropout)
    if isinstance(module, str) and module == "short_chunk":
        return ShortChunkCNN, {}
    return module, {}


def check_recipe_params(est):
    """Validate module, crop_frames, crop_hop, optimizer, lr, weight_decay and mixup."""
    module = est.module
    if isinstance(module, str):
        if module not in MODULE_NAMES:
            raise ValueError(f"module must be None, one of {MODULE_NAMES} or a class/callable "
                             f"building a torch.nn.Module, got {module!r}.")
    elif module is not None and (not callable(module) or isinstance(module, torch.nn.Module)):
        raise ValueError(
            f"module must be None, one of {MODULE_NAMES} or a class/callable building a "
            f"torch.nn.Module (module(n_mels=, n_frames=, n_labels=)), got {module!r}.")
    for name in ("crop_frames", "crop_hop"):
        value = getattr(est, name)
        if value is not None and (isinstance(value, bool)
                                  or not isinstance(value, numbers.Integral) or value < 1):
            raise ValueError(f"{name} must be None or a positive int, got {value!r}.")
    if est.crop_hop is not None and est.crop_frames is None:
        raise ValueError("crop_hop is set but crop_frames is None; set crop_frames too.")
    if est.optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {est.optimizer!r}.")
    for name, low_ok in (("lr", False), ("weight_decay", True), ("mixup", True)):
        value = getattr(est, name)
        if name == "lr" and value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
                np.isfinite(value) and (value >= 0 if low_ok else value > 0)):
            bound = ">= 0" if low_ok else "> 0"
            raise ValueError(f"{name} must be a number {bound}"
                             f"{' or None' if name == 'lr' else ''}, got {value!r}.")


def window_params(est):
    """(crop_frames, hop) or None."""
    if est.crop_frames is None:
        return None
    c = int(est.crop_frames)
    return c, int(est.crop_hop) if est.crop_hop is not None else max(c // 2, 1)


def check_input(X, window, *, name="X"):
    """Validate X for a fit or prediction.

    Returns ``(X, clips, n_mels, input_shape)``: without a window, X as
    :func:`~sktags.models._data.check_spectrograms` gives it and ``clips``
    None; with one, ``clips`` reads crops and windows of a 4-D array or of
    variable-length clips.
    """
    fixed = isinstance(X, np.ndarray) and X.dtype.kind != "O"
    if window is None or fixed or (not hasattr(X, "lengths") and _looks_stacked(X)):
        X, shape = check_spectrograms(X, name=name)
        if window is None:
            return X, None, shape[1], shape
        return X, Clips(X), shape[1], (1, shape[1], window[0])
    clips, n_mels = check_clips(X, name=name)
    return X, clips, n_mels, (1, n_mels, window[0])


def _looks_stacked(X):
    """Whether a non-ndarray input (list of lists, tensor) is one numeric array."""
    if isinstance(X, torch.Tensor):
        return True
    if isinstance(X, (list, tuple)) and len(X) and isinstance(X[0], np.ndarray):
        return False
    try:
        return np.asarray(X).dtype.kind in "fiub"
    except (ValueError, TypeError):
        return False


def fingerprint_clips(h, clips):
    """Feed the lengths and a sample of the clips of variable-length input to hash ``h``."""
    h.update(b"clips" + np.ascontiguousarray(clips.lengths).tobytes())
    n = len(clips)
    for i in np.unique(np.linspace(0, n - 1, min(n, 16)).astype(np.intp)):
        h.update(clips.read(int(i), 0, int(clips.lengths[i])).tobytes())
