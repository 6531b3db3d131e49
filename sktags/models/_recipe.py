"""CNNTagger's options for real music: network names, crop checks and crop-aware inputs.

Kept out of ``_tagger.py`` so that the estimator only wires them in. See
``docs/real_music.rst`` for the recipe itself.
"""


import numpy as np
import torch

from ._data import check_spectrograms
from ._networks import Ibrahim2020CNN, ShortChunkCNN
from ._windows import Clips, check_clips

MODULE_NAMES = ("ibrahim2020", "short_chunk")


def resolve_module(est):
    """(module class or callable, keyword arguments) from ``est.module``."""
    module = est.module
    if module is None or (isinstance(module, str) and module == "ibrahim2020"):
        return Ibrahim2020CNN, dict(filters=tuple(est.filters), hidden_units=est.hidden_units,
                               dropout=est.dropout)
    if isinstance(module, str) and module == "short_chunk":
        return ShortChunkCNN, {}
    return module, {}


def window_params(est):
    """(crop_frames, hop) or None."""
    if est.crop_frames is None:
        if est.crop_hop is not None:
            raise ValueError("crop_hop is set but crop_frames is None; set crop_frames too.")
        return None
    c = int(est.crop_frames)
    return c, int(est.crop_hop) if est.crop_hop is not None else max(c // 2, 1)


def check_windowed_input(X, window, *, name="X"):
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


def check_tagger_input(X, window):
    """``(X, clips, input_shape)`` for a fit or a prediction.

    Without a window, X as :func:`~sktags.models._validation.check_input`
    gives it (2-D X read as one-band spectrograms, empty input in
    scikit-learn's words, ``assume_finite`` honoured) and ``clips`` None;
    with one, ``clips`` reads crops and windows of a 4-D array or of
    variable-length clips, and ``input_shape`` is ``(1, n_mels, crop_frames)``.
    """
    if window is None:
        from ._validation import check_input

        X, shape = check_input(X)
        return X, None, shape
    X, clips, _, shape = check_windowed_input(X, window, name="X")
    return X, clips, shape

