"""Validate waveforms given as arrays: dtype, rank, finiteness and amplitude.

Only numpy is imported here, so that the validator is cheap to call anywhere.
"""

import numpy as np

#: Largest absolute sample value accepted. Audio is expected within [-1, 1]
#: (integer PCM is scaled there); the bound leaves room for unscaled floats
#: (e.g. int16 values stored as floats, up to 32768) while keeping the float32
#: power spectrum finite: ``(1e12 * n_fft / 2) ** 2`` stays far below the
#: float32 maximum (3.4e38) for any ``n_fft`` up to 2**20.
MAX_ABS_AMPLITUDE = 1e12


def as_float_waveform(y, *, name="waveform"):
    """Check a waveform array and return it as C-contiguous float32.

    Signed integer PCM (int8, int16, int32, int64) is scaled to [-1, 1) as
    :func:`librosa.util.buf_to_float` does: divided by ``2 ** (8 * itemsize
    - 1)`` (32768 for int16). Floats are cast to float32 unchanged. Anything
    else is refused with a one-line :class:`ValueError` naming ``name``:
    unsigned integers (their zero is not silence), booleans, complex numbers,
    objects or strings, NaN or infinity, an amplitude above
    :data:`MAX_ABS_AMPLITUDE` (its power spectrum would overflow to infinity),
    a rank other than 1 or 2, and an empty array.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_clips, n_samples)
        One waveform, or one waveform per row.
    name : str, default="waveform"
        How the messages name the input, e.g. ``"waveform X[3]"``.

    Returns
    -------
    y : ndarray of the same shape, dtype float32, C-contiguous

    Raises
    ------
    ValueError
        If ``y`` is not a valid waveform (see above).

    Examples
    --------
    >>> import numpy as np
    >>> as_float_waveform(np.array([0, 16384, -32768], dtype=np.int16))
    array([ 0. ,  0.5, -1. ], dtype=float32)
    >>> as_float_waveform(np.array([1, 2], dtype=np.uint8), name="X[0]")
    Traceback (most recent call last):
    ...
    ValueError: X[0] has unsigned integer dtype uint8, whose zero is not silence; convert it to float in [-1, 1] first (8-bit PCM: (y.astype(np.float32) - 128) / 128).
    """
    try:
        arr = np.asarray(y)
    except Exception as exc:  # noqa: BLE001 - ragged lists and arbitrary objects
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"{name} is not a numeric array ({detail}).") from None
    kind = arr.dtype.kind
    if kind == "u":
        hint = " (8-bit PCM: (y.astype(np.float32) - 128) / 128)" if arr.dtype.itemsize == 1 else ""
        raise ValueError(
            f"{name} has unsigned integer dtype {arr.dtype}, whose zero is not silence; "
            f"convert it to float in [-1, 1] first{hint}."
        )
    if kind == "c":
        raise ValueError(f"{name} is complex ({arr.dtype}); a waveform must be real.")
    if kind not in "if":
        raise ValueError(
            f"{name} must hold real numbers (signed integer PCM or floats), got dtype {arr.dtype}."
        )
    if arr.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be 1-D (n_samples,) or 2-D (n_clips, n_samples), got shape {arr.shape}."
        )
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}): a waveform needs samples.")
    if kind == "i":
        scale = np.float32(2.0 ** -(8 * arr.dtype.itemsize - 1))
        return np.ascontiguousarray(arr.astype(np.float32) * scale)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinity.")
    peak = float(np.max(np.abs(arr)))
    if peak > MAX_ABS_AMPLITUDE:
        raise ValueError(
            f"{name} has samples up to {peak:.3g} in absolute value, above "
            f"{MAX_ABS_AMPLITUDE:.0e}: its power spectrum would overflow; audio is expected "
            "within [-1, 1], divide it by its scale first."
        )
    return np.ascontiguousarray(arr, dtype=np.float32)


def check_samples(y, where):
    """Refuse decoded samples that are not finite or above :data:`MAX_ABS_AMPLITUDE`.

    Their features would not be finite. ``where`` ends the message, e.g.
    ``"near sample 0"``.
    """
    if not np.isfinite(y).all():
        raise ValueError(f"the decoded audio contains NaN or infinity ({where})")
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak > MAX_ABS_AMPLITUDE:
        raise ValueError(
            f"the decoded audio has samples up to {peak:.3g} in absolute value {where}, above "
            f"{MAX_ABS_AMPLITUDE:.0e}: its features would overflow; rescale the file to [-1, 1]"
        )

