"""Log-compressed mel spectrogram of one clip: framed rfft + mel filter bank.

This is librosa's ``feature.melspectrogram`` (centred frames zero-padded by
``n_fft // 2`` on both sides, periodic Hann window, power 2, Slaney mel
filters) computed directly with :func:`scipy.fft.rfft` on a strided frame
view, which is about twice as fast. Only numpy and scipy.fft are imported, so
that joblib workers start quickly; the filter bank and window are built once
by the caller (:func:`mel_basis`, :func:`hann_window`).
"""

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import as_strided

COMPRESSIONS = ("log1p", "db", "musicnn")
#: Frames whose spectrum is held at once (a 30 s excerpt is one block).
_BLOCK_FRAMES = 2048


def mel_basis(sr, n_fft, n_mels):
    """Slaney mel filter bank of :func:`librosa.filters.mel`, float32.

    Returns
    -------
    basis : ndarray of shape (n_mels, 1 + n_fft // 2), dtype float32
    """
    import librosa  # imported here: slow to import, not needed by workers

    basis = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels)
    return np.ascontiguousarray(basis, dtype=np.float32)


def hann_window(n_fft):
    """Periodic Hann window of length ``n_fft`` (librosa's default), float32."""
    from scipy.signal import get_window

    return get_window("hann", n_fft, fftbins=True).astype(np.float32)


def n_frames_of(n_samples, n_fft, hop_length):
    """Number of centred frames: ``1 + (n_samples + 2 * (n_fft // 2) - n_fft) // hop``.

    For an even ``n_fft`` this is ``1 + n_samples // hop_length``.
    """
    return 1 + (n_samples + 2 * (n_fft // 2) - n_fft) // hop_length


def mel_power(y, *, basis, window, hop_length):
    """Mel power spectrogram of a 1-D float32 signal with centred frames.

    Parameters
    ----------
    y : ndarray of shape (n_samples,), dtype float32
    basis : ndarray of shape (n_mels, 1 + n_fft // 2)
        Mel filter bank (:func:`mel_basis`).
    window : ndarray of shape (n_fft,)
        Analysis window (:func:`hann_window`).
    hop_length : int

    Returns
    -------
    M : ndarray of shape (n_mels, n_frames), dtype float32
        ``basis @ |STFT(y)|**2`` with ``n_frames`` given by :func:`n_frames_of`.
    """
    n_fft = window.shape[0]
    pad = n_fft // 2
    n = y.shape[0]
    n_frames = n_frames_of(n, n_fft, hop_length)
    padded = np.zeros(n + 2 * pad, dtype=np.float32)
    padded[pad : pad + n] = y
    step = padded.strides[0]
    frames = as_strided(
        padded, shape=(n_frames, n_fft), strides=(step * hop_length, step), writeable=False
    )
    if n_frames <= _BLOCK_FRAMES:
        return _mel_block(frames, basis, window)
    # long tracks: the spectrum of a block of frames at a time (bounded memory)
    out = np.empty((basis.shape[0], n_frames), dtype=np.float32)
    for start in range(0, n_frames, _BLOCK_FRAMES):
        out[:, start : start + _BLOCK_FRAMES] = _mel_block(
            frames[start : start + _BLOCK_FRAMES], basis, window
        )
    return out


def _mel_block(frames, basis, window):
    spectrum = scipy.fft.rfft(frames * window, axis=-1)
    power = spectrum.real**2
    power += spectrum.imag**2
    return basis @ power.T


def compress(M, compression):
    """Log-compress a mel power spectrogram.

    ``"log1p"`` gives ``log(1 + 100 * M)`` (the paper's front end);
    ``"db"`` gives :func:`librosa.power_to_db` with its defaults
    (``ref=1.0, amin=1e-10, top_db=80``), i.e. ``10 * log10(max(M, 1e-10))``
    floored at 80 dB below the clip's maximum;
    ``"musicnn"`` gives musicnn's ``log10(1 + 10000 * M)`` of ``M`` first
    rounded to float16 (musicnn's ``astype(np.float16)``), the product and
    log then taken in float32 as numpy 1 computed them (numpy 2 keeps the
    product in float16, where it overflows).
    """
    if compression == "log1p":
        return np.log1p(M * np.float32(100.0))
    if compression == "db":
        S = np.float32(10.0) * np.log10(np.maximum(M, np.float32(1e-10)))
        return np.maximum(S, S.max() - np.float32(80.0))
    if compression == "musicnn":
        M = M.astype(np.float16).astype(np.float32)
        return np.log10(M * np.float32(10000.0) + np.float32(1.0))
    raise ValueError(f"compression must be one of {COMPRESSIONS}, got {compression!r}")


def log_mel(y, *, basis, window, hop_length, compression):
    """Compressed mel spectrogram of one clip, float32 ``(n_mels, n_frames)``."""
    M = mel_power(y, basis=basis, window=window, hop_length=hop_length)
    return compress(M, compression).astype(np.float32, copy=False)
