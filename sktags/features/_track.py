"""Decode a whole track from an offset to its end (variable-length features).

The counterpart of :func:`~sktags.features._audio_io.load_window` for
``duration=None``: same decoder, channel averaging and resampler, but no
cropping or padding. Light imports only (numpy, soundfile, soxr).
"""

import numpy as np
import soundfile as sf

from ._audio_io import _skip_to, n_samples_of, resample, to_mono


def track_bounds(n_total, start):
    """Sample range ``[a, b)`` of a whole track from ``start``.

    ``[start, n_total)`` when the track is longer than ``start``; otherwise
    the whole track ``[0, n_total)``, so that a clip shorter than the offset
    gives its content rather than nothing (as the fixed-length rule does).

    Examples
    --------
    >>> track_bounds(100, 30)
    (30, 100)
    >>> track_bounds(20, 30)
    (0, 20)
    """
    n_total, start = int(n_total), int(start)
    if n_total > start:
        return start, n_total
    return 0, n_total


def load_track(path, *, sr, offset):
    """Decode an audio file from ``offset`` to its end, mono float32 at ``sr``.

    The start is ``int(offset * sr_native)`` as in :func:`librosa.load`
    (see :func:`track_bounds`); channels are averaged and the signal is
    resampled with soxr (high quality) to ``ceil(n * sr / sr_native)``
    samples, the length :func:`librosa.load` gives with ``duration=None``.

    Returns
    -------
    y : ndarray of shape (n_samples,), dtype float32

    Raises
    ------
    ValueError
        If no sample decodes, fewer samples decode than the file announces
        (a truncated file), or the audio holds NaN or infinity.
    """
    with sf.SoundFile(path) as f:
        sr_native = f.samplerate
        a, b = track_bounds(f.frames, int(offset * sr_native))
        if a > 0:
            _skip_to(f, a)
        data = f.read(dtype="float32", always_2d=True)  # to the end of the stream
    if data.shape[0] == 0:
        raise ValueError("the file holds no audio samples")
    if data.shape[0] < b - a:
        raise ValueError(
            f"the file is truncated: {data.shape[0]} of the {b - a} announced samples decode"
        )
    y = to_mono(data)
    if not np.isfinite(y).all():
        raise ValueError("the decoded audio contains NaN or infinity")
    return resample(y, sr_native, sr)


def waveform_track(y, *, sr, offset):
    """A waveform at ``sr`` from ``offset`` to its end (same rule as files), float32."""
    a, b = track_bounds(y.shape[0], n_samples_of(offset, sr))
    return np.ascontiguousarray(y[a:b], dtype=np.float32)
