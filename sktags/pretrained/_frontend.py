"""musicnn's front end as a configuration of :class:`~sktags.MelSpectrogramTransformer`."""

#: musicnn's analysis settings (its ``configuration.py``) and patch length.
MUSICNN_SR = 16000
MUSICNN_N_FFT = 512
MUSICNN_HOP = 256
MUSICNN_N_MELS = 96
PATCH_FRAMES = 187


def musicnn_frontend(*, offset=0.0, duration=None, n_jobs=None, memory=None,
                     on_error="raise", verbose=0):
    """The :class:`~sktags.MelSpectrogramTransformer` computing musicnn's input.

    Audio at 16 kHz, mel power with ``n_fft=512``, ``hop_length=256`` and 96
    Slaney bands (librosa's defaults otherwise), ``log10(1 + 10000 * M)`` of
    the mel rounded to float16 (``compression="musicnn"``). Whole tracks by
    default, as musicnn's extractor reads them.

    Parameters
    ----------
    offset : float, default=0.0
        Start, in seconds.
    duration : float or None, default=None
        Excerpt length in seconds; None for whole tracks.
    n_jobs, memory, on_error, verbose
        As for :class:`~sktags.MelSpectrogramTransformer`.

    Returns
    -------
    transformer : MelSpectrogramTransformer

    Examples
    --------
    >>> import numpy as np
    >>> from sktags.pretrained import musicnn_frontend
    >>> mel = musicnn_frontend()
    >>> mel.sr, mel.n_fft, mel.hop_length, mel.compression
    (16000, 512, 256, 'musicnn')
    >>> mel.transform([np.zeros(48000, dtype=np.float32)])[0].shape  # 3 s
    (1, 96, 188)
    """
    from ..features import MelSpectrogramTransformer

    return MelSpectrogramTransformer(
        sr=MUSICNN_SR, n_fft=MUSICNN_N_FFT, hop_length=MUSICNN_HOP, n_mels=MUSICNN_N_MELS,
        offset=offset, duration=duration, compression="musicnn", n_jobs=n_jobs,
        memory=memory, on_error=on_error, verbose=verbose)
