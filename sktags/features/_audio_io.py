"""Decode a time window of an audio file to mono float32 at a target rate.

Only light dependencies are imported here (numpy, soundfile, soxr), so that
joblib worker processes that decode audio start quickly.
"""

import math

import numpy as np
import soundfile as sf
import soxr

#: Resampling quality given to :func:`soxr.resample`. ``"HQ"`` is libsoxr's
#: high quality, the same as librosa's default ``res_type="soxr_hq"``.
#: Never use ``"QQ"``: it shifts log-mel values by up to 15 dB.
RESAMPLE_QUALITY = "HQ"


def n_samples_of(seconds, sr):
    """Number of samples in ``seconds`` at ``sr``: ``floor(seconds * sr)``.

    A relative tolerance of 1e-9 absorbs binary rounding, so that
    ``n_samples_of(0.7, 10) == 7``.
    """
    x = float(seconds) * float(sr)
    return int(math.floor(x + 1e-9 * max(1.0, abs(x))))


def window_bounds(n_total, start, length):
    """Sample range ``[a, b)`` of the excerpt to take from a signal.

    The rule, applied the same way to files and waveforms:

    1. ``[start, start + length)`` when the signal is long enough;
    2. otherwise its last ``length`` samples, when it has at least ``length``;
    3. otherwise the whole signal (the caller zero-pads it at the end).

    Parameters
    ----------
    n_total : int
        Length of the signal in samples.
    start : int
        Requested first sample (the offset).
    length : int
        Requested number of samples (the duration).

    Returns
    -------
    a, b : int
        First sample and one past the last sample, ``0 <= a <= b <= n_total``.

    Examples
    --------
    >>> window_bounds(100, 30, 30)
    (30, 60)
    >>> window_bounds(50, 30, 30)
    (20, 50)
    >>> window_bounds(20, 30, 30)
    (0, 20)
    """
    n_total, start, length = int(n_total), int(start), int(length)
    if n_total >= start + length:
        return start, start + length
    if n_total >= length:
        return n_total - length, n_total
    return 0, n_total


def fix_length(y, n):
    """Crop ``y`` to ``n`` samples, or zero-pad it at the end."""
    if y.shape[0] == n:
        return y
    if y.shape[0] > n:
        return y[:n]
    out = np.zeros(n, dtype=y.dtype)
    out[: y.shape[0]] = y
    return out


def to_mono(data):
    """Average the channels of a C-contiguous ``(n_samples, n_channels)`` array.

    Summing whole columns is an order of magnitude faster than ``mean(axis=1)``
    or :func:`librosa.to_mono` on the strided array, and gives the same result.
    """
    n_channels = data.shape[1]
    if n_channels == 1:
        return np.ascontiguousarray(data[:, 0])
    y = data[:, 0] + data[:, 1]
    for c in range(2, n_channels):
        y += data[:, c]
    y *= np.float32(1.0 / n_channels)
    return y


def resample(y, orig_sr, target_sr):
    """Resample a 1-D float32 signal with soxr (high quality), like librosa.

    The length is ``ceil(len(y) * target_sr / orig_sr)``, as in
    :func:`librosa.resample`.
    """
    if orig_sr == target_sr:
        return y
    n_out = int(math.ceil(y.shape[0] * float(target_sr) / orig_sr))
    y = soxr.resample(y, orig_sr, target_sr, quality=RESAMPLE_QUALITY)
    return fix_length(np.asarray(y, dtype=np.float32), n_out)


def _skip_to(f, frame):
    """Seek an open SoundFile to ``frame``; decode and drop if it cannot seek.

    libsndfile 1.2.2 seeks WAV, FLAC, OGG and MP3 sample-accurately (tested
    against a full decode); the fallback covers streams it cannot seek.
    """
    if f.seekable():
        try:
            f.seek(frame)
            return
        except (RuntimeError, sf.LibsndfileError):
            f.seek(0)
    left = frame
    while left > 0:
        got = f.read(min(left, 1 << 16), dtype="float32", always_2d=True).shape[0]
        if got == 0:
            break
        left -= got


def load_window(path, *, sr, offset, duration):
    """Decode the excerpt of an audio file to mono float32 at ``sr``.

    Only the excerpt is decoded: the file is opened with libsndfile
    (:class:`soundfile.SoundFile`, which reads WAV, FLAC, OGG/Vorbis, Opus and
    MP3), seeked to the first sample and read for the excerpt's length. The
    excerpt follows :func:`window_bounds` at the file's native rate, with
    ``start = int(offset * sr_native)`` and ``length = int(duration * sr_native)``
    as in :func:`librosa.load`. Channels are averaged, the signal is
    resampled with soxr (high quality) and cropped or zero-padded at the end to
    ``floor(duration * sr)`` samples.

    Parameters
    ----------
    path : str or os.PathLike
        Audio file.
    sr : int
        Target sample rate.
    offset, duration : float
        Requested excerpt, in seconds.

    Returns
    -------
    y : ndarray of shape (floor(duration * sr),), dtype float32

    Raises
    ------
    ValueError
        If the file holds no audio samples or decodes to NaN or infinity.
    soundfile.LibsndfileError, RuntimeError, OSError
        If libsndfile cannot open or decode the file.
    """
    with sf.SoundFile(path) as f:
        sr_native = f.samplerate
        n_total = f.frames
        a, b = window_bounds(
            n_total,
            int(offset * sr_native),
            int(duration * sr_native),
        )
        if a > 0:
            _skip_to(f, a)
        data = f.read(b - a, dtype="float32", always_2d=True)
    if data.shape[0] == 0:
        raise ValueError("the file holds no audio samples")
    y = to_mono(data)
    if not np.isfinite(y).all():
        raise ValueError("the decoded audio contains NaN or infinity")
    y = resample(y, sr_native, sr)
    return fix_length(y, n_samples_of(duration, sr))


def waveform_window(y, *, sr, offset, duration):
    """Take the excerpt of a waveform already at ``sr`` (same rule as files).

    Returns a float32 array of ``floor(duration * sr)`` samples, zero-padded at
    the end when the waveform is shorter.
    """
    n = n_samples_of(duration, sr)
    a, b = window_bounds(y.shape[0], n_samples_of(offset, sr), n)
    return fix_length(np.asarray(y[a:b], dtype=np.float32), n)
