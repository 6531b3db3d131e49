"""Decode a time window of an audio file to mono float32 at a target rate.

Only light dependencies are imported here (numpy, soundfile, soxr), so that
joblib worker processes that decode audio start quickly.
"""

import math
import os
import warnings

import numpy as np
import soundfile as sf
import soxr

from ._integrity import (
    HINT,
    fmt_seconds,
    header_truncation,
    mp3_length_is_exact,
    mp3_truncation,
    tolerance,
    undecodable,
)
from ._limits import MAX_TRACK_SECONDS
from ._waveform import check_samples

#: Resampling quality given to :func:`soxr.resample`. ``"HQ"`` is libsoxr's
#: high quality, the same as librosa's default ``res_type="soxr_hq"``.
#: Never use ``"QQ"``: it shifts log-mel values by up to 15 dB.
RESAMPLE_QUALITY = "HQ"

#: A decoded excerpt shorter than this fraction of the requested duration gets
#: a "very short clip" note: more than 7/8 of its feature would be zero
#: padding (under 3.75 s for the paper's 30 s excerpt: a stub or a cut
#: download, while a 5 s recording is still taken without a word).
SHORT_CLIP_FRACTION = 0.125


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


def _bounds(n_total, start, length):
    """:func:`window_bounds`, or for a whole track (``length=None``) ``[start, n_total)``
    when the track is longer than ``start``, else all of it."""
    if length is not None:
        return window_bounds(n_total, start, length)
    return (start, n_total) if n_total > start else (0, n_total)


#: Frames decoded, mixed down and resampled at a time: memory holds one
#: block of all channels at the native rate, never the whole file.
_BLOCK = 1 << 20


class _Decoded:
    """Mono float32 audio at ``sr`` of up to ``n`` frames of ``f`` from ``start``.

    Decoded block by block: each block is mixed down to mono, checked, and
    resampled with a streaming soxr resampler (identical to the one-shot
    :func:`resample`), so a multichannel file at a high rate is never held
    whole. ``frames`` is the number of native frames decoded. More than
    ``max_frames`` native frames is an error (a track over the limit).
    """

    def __init__(self, f, start, n, sr, max_frames=None, expected=None):
        _skip_to(f, start)
        native = f.samplerate
        stream = None if native == sr else soxr.ResampleStream(
            native, sr, 1, dtype="float32", quality=RESAMPLE_QUALITY)
        buf = np.empty((min(_BLOCK, max(0, n)), f.channels), dtype=np.float32)
        # the output, sized from the expected length and grown only if it is passed
        out = np.empty(int(math.ceil(min(n, expected or n) * float(sr) / native)) + 64,
                       dtype=np.float32)
        got, pos = 0, 0
        while True:
            block = None
            if got < n:
                try:
                    block = f.read(out=buf[: min(_BLOCK, n - got)])
                except RuntimeError as exc:  # soundfile.LibsndfileError and the like
                    raise ValueError(f"corrupt or truncated audio data after sample "
                                     f"{start + got} ({exc}); {HINT}") from None
            last = block is None or block.shape[0] == 0
            if not last:
                mono = to_mono(block)
                check_samples(mono, f"near sample {start + got}")
                got += block.shape[0]
                if max_frames is not None and got > max_frames:
                    raise ValueError(_too_long(got, native))
            if stream is not None:
                chunk = stream.resample_chunk(
                    np.zeros(0, np.float32) if last else mono, last=last)
            else:
                chunk = np.zeros(0, np.float32) if last else mono
            if pos + chunk.shape[0] > out.shape[0]:
                out = np.resize(out, max(pos + chunk.shape[0], out.shape[0] * 3 // 2))
            out[pos : pos + chunk.shape[0]] = chunk
            pos += chunk.shape[0]
            if last:
                break
        self.frames = got
        n_out = int(math.ceil(got * float(sr) / native))
        if pos < n_out:
            out = np.resize(out, max(out.shape[0], n_out))
            out[pos:n_out] = 0
        self.y = out[:n_out]


def _too_long(n, sr_native):
    return (
        f"the track lasts {n / sr_native / 3600:.2f} h, over the whole-track limit of "
        f"{MAX_TRACK_SECONDS / 3600:g} h (sktags.features._limits.MAX_TRACK_SECONDS); cut it "
        "into parts, or take an excerpt with a duration"
    )


def _count_frames(f):
    """Decode a whole file to count its frames."""
    n = 0
    buf = None
    while True:
        if buf is None:
            _skip_to(f, 0)
            buf = np.empty((1 << 16, f.channels), dtype=np.float32)
        try:
            got = f.read(out=buf).shape[0]
        except RuntimeError:
            return n
        if got == 0:
            return n
        n += got


def load_window(path, *, sr, offset, duration, notes=None):
    """Decode the excerpt of an audio file to mono float32 at ``sr``.

    Only the excerpt is decoded: the file is opened with libsndfile
    (:class:`soundfile.SoundFile`, which reads WAV, FLAC, OGG/Vorbis, Opus and
    MP3), seeked to the first sample and read for the excerpt's length. The
    excerpt follows :func:`window_bounds` at the file's native rate, with
    ``start = int(offset * sr_native)`` and ``length = int(duration * sr_native)``
    as in :func:`librosa.load`. It is decoded in blocks of 2**20 frames, each
    averaged over channels and resampled with a streaming soxr resampler
    (high quality), so memory holds the mono output, never every channel at
    the native rate; then cropped or zero-padded at the end to
    ``floor(duration * sr)`` samples. A whole track over
    :data:`~sktags.features._limits.MAX_TRACK_SECONDS` (3 h) is an error.

    **Truncated files are errors.** A file is truncated when its header
    announces more samples than it holds: a WAV or AIFF data chunk longer
    than the file, an Ogg stream without its end-of-stream page, or a read
    within the announced length that stops short (an MP3 with a Xing/Info
    header cut short, a FLAC cut short). Up to ``max(4 * 1152, 1 %)`` of the
    announced length may be missing without error. An MP3 without a
    Xing/Info header has only an estimated length: it is truncated when its
    last MPEG frame is incomplete; when its read stops short otherwise, it is
    decoded once more to count its samples, and the excerpt is taken from
    its real length.

    **Very short clips are noted.** When the decoded audio covers less than
    :data:`SHORT_CLIP_FRACTION` (an eighth) of ``duration``, more than 7/8
    of the feature is zero padding: a one-line note naming the file
    is appended to ``notes``, or given as a :class:`UserWarning` when
    ``notes`` is None.

    Parameters
    ----------
    path : str or os.PathLike
        Audio file.
    sr : int
        Target sample rate.
    offset : float
        Start of the requested excerpt, in seconds.
    duration : float or None
        Length of the requested excerpt, in seconds; None decodes the whole
        track from ``offset`` to its end (all of it when it is shorter than
        ``offset``), without padding.
    notes : list or None, default=None
        Where to append the short-clip note (a str), e.g. to send it from a
        worker process back to the caller.

    Returns
    -------
    y : ndarray of shape (floor(duration * sr),), dtype float32
        With ``duration=None``, shape ``(ceil(n * sr / sr_native),)`` for the
        ``n`` samples decoded at the native rate ``sr_native``.

    Raises
    ------
    ValueError
        If the file is not decodable audio (unknown format, corrupt), is
        truncated, holds no audio samples, decodes to NaN or infinity or to
        samples above ``MAX_ABS_AMPLITUDE`` (whose features would overflow),
        or is a whole track over the limit.
    OSError, RuntimeError
        If the file cannot be opened (it does not exist, no permission).
    """
    try:
        f = sf.SoundFile(path)
    except RuntimeError as exc:  # soundfile.LibsndfileError
        if os.path.isfile(path):  # it exists: libsndfile cannot decode it
            raise ValueError(undecodable(exc)) from None
        raise
    with f:
        sr_native = f.samplerate
        n_total = f.frames
        reason = header_truncation(f)
        if reason is None and f.format == "MP3" and not mp3_length_is_exact(path):
            reason = mp3_truncation(path)  # an estimated length: do its frames end whole?
        if reason is not None:
            raise ValueError(reason)
        start = int(offset * sr_native)
        length = None if duration is None else int(duration * sr_native)
        a, b = _bounds(n_total, start, length)
        max_frames = int(MAX_TRACK_SECONDS * sr_native) if duration is None else None
        if max_frames is not None and b - a > max_frames:
            raise ValueError(_too_long(b - a, sr_native))
        # a whole track is read to its end: an MP3's length may be an underestimate
        count = b - a if max_frames is None else max_frames + 1
        decoded = _Decoded(f, a, count, sr, max_frames, expected=b - a)
        missing = (b - a) - decoded.frames
        if missing <= tolerance(n_total):
            pass  # complete, or a few samples short of an estimate: zero-padded
        elif f.format == "MP3" and not mp3_length_is_exact(path):
            # an estimated length: count the samples, then take the excerpt
            n_total = _count_frames(f)
            a, b = _bounds(n_total, start, length)
            decoded = _Decoded(f, a, b - a if max_frames is None else count, sr, max_frames,
                               expected=b - a)
        else:
            got = a + decoded.frames
            raise ValueError(
                f"truncated: its header announces {n_total} samples "
                f"({fmt_seconds(n_total, sr_native)}) but decoding stops at sample {got} "
                f"({fmt_seconds(got, sr_native)}); {HINT}"
            )
    n = decoded.frames
    if n == 0:
        raise ValueError("the file holds no audio samples")
    if duration is not None and n < SHORT_CLIP_FRACTION * length:
        _note(
            notes,
            f"{os.fspath(path)!r} is a very short clip: {fmt_seconds(n, sr_native)} "
            f"of audio for a {float(duration):g} s excerpt, so "
            f"{int(100 * (1 - n / max(length, 1)))}% of its feature is zero padding",
        )
    if duration is None:
        return decoded.y
    return fix_length(decoded.y, n_samples_of(duration, sr))


def _note(notes, message):
    if notes is None:
        warnings.warn(message, UserWarning, stacklevel=3)
    else:
        notes.append(message)


def waveform_window(y, *, sr, offset, duration, notes=None, name="the waveform"):
    """Take the excerpt of a waveform already at ``sr`` (same rule as files).

    Returns a float32 array of ``floor(duration * sr)`` samples, zero-padded at
    the end when the waveform is shorter; with ``duration=None`` the whole
    waveform from ``offset`` (all of it if shorter). A waveform shorter than :data:`SHORT_CLIP_FRACTION` of
    ``duration`` gets the same note as a file (see :func:`load_window`),
    naming it ``name``.
    """
    if duration is None:
        a, b = _bounds(y.shape[0], n_samples_of(offset, sr), None)
        return np.ascontiguousarray(y[a:b], dtype=np.float32)
    n = n_samples_of(duration, sr)
    a, b = window_bounds(y.shape[0], n_samples_of(offset, sr), n)
    if b - a < SHORT_CLIP_FRACTION * n:
        _note(
            notes,
            f"{name} is a very short clip: {fmt_seconds(b - a, sr)} of audio for a "
            f"{float(duration):g} s excerpt, so {int(100 * (1 - (b - a) / n))}% of its "
            "feature is zero padding",
        )
    return fix_length(np.asarray(y[a:b], dtype=np.float32), n)
