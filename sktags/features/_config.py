"""The front end's configuration: built once, handed whole to the workers.

:class:`FrontEndConfig` is a frozen dataclass holding every parameter that
changes a feature, the filter bank and window built from them, and the
derived sizes. :class:`~sktags.features.MelSpectrogramTransformer` builds one
per call (after validating its parameters) and sends it, unchanged, to every
joblib task; its field defaults are the transformer's defaults, defined here
only.
"""

import dataclasses

import numpy as np

from ._audio_io import n_samples_of
from ._logmel import hann_window, mel_basis, n_frames_of

#: Version of the cached feature format; part of every cache key.
CACHE_FORMAT = 1


@dataclasses.dataclass(frozen=True)
class FrontEndConfig:
    """Every parameter that changes a log-mel feature (the paper's defaults).

    Parameters
    ----------
    sr, n_fft, hop_length, n_mels : int
        Sample rate, FFT length, hop and number of mel bands.
    offset : float
        Start of the excerpt, in seconds.
    duration : float or None
        Length of the excerpt in seconds; ``None`` means the whole track
        from ``offset``.
    compression : {"log1p", "db", "musicnn"}
        Log compression of the mel power.

    Attributes
    ----------
    basis : ndarray of shape (n_mels, 1 + n_fft // 2), dtype float32
        Slaney mel filter bank, built once when the configuration is created
        (not when it is unpickled in a worker).
    window : ndarray of shape (n_fft,), dtype float32
        Periodic Hann window.

    Examples
    --------
    >>> from sktags.features._config import FrontEndConfig
    >>> c = FrontEndConfig()
    >>> c.n_samples, c.shape, c.basis.shape
    (661500, (96, 646), (96, 513))
    >>> FrontEndConfig(offset=0.0, duration=None).frames_for(22050)
    22
    """

    sr: int = 22050
    n_fft: int = 1024
    hop_length: int = 1024
    n_mels: int = 96
    offset: float = 30.0
    duration: float = 30.0
    compression: str = "log1p"
    basis: np.ndarray = dataclasses.field(default=None, repr=False, compare=False)
    window: np.ndarray = dataclasses.field(default=None, repr=False, compare=False)

    def __post_init__(self):
        from sklearn.utils._param_validation import validate_parameter_constraints

        constraints = front_end_constraints()
        validate_parameter_constraints(
            constraints, {k: getattr(self, k) for k in constraints}, caller_name="FrontEndConfig"
        )
        if self.basis is None:
            object.__setattr__(self, "basis", mel_basis(self.sr, self.n_fft, self.n_mels))
        if self.window is None:
            object.__setattr__(self, "window", hann_window(self.n_fft))

    @property
    def whole_track(self):
        """True when ``duration`` is None (variable-length features)."""
        return self.duration is None

    @property
    def n_samples(self):
        """Samples of the excerpt, ``floor(duration * sr)``; None for whole tracks."""
        return None if self.whole_track else n_samples_of(self.duration, self.sr)

    def frames_for(self, n_samples):
        """Frames of a signal of ``n_samples`` samples (``1 + n // hop`` for an even ``n_fft``)."""
        return n_frames_of(int(n_samples), self.n_fft, self.hop_length)

    @property
    def shape(self):
        """``(n_mels, n_frames)`` of every feature; ``(n_mels, None)`` for whole tracks."""
        if self.whole_track:
            return (self.n_mels, None)
        return (self.n_mels, self.frames_for(self.n_samples))

    def cache_token(self):
        """Text naming everything that changes a cached feature, library versions included."""
        import soundfile
        import soxr

        return repr(
            (
                CACHE_FORMAT,
                self.sr,
                self.n_fft,
                self.hop_length,
                self.n_mels,
                self.offset,
                self.duration,
                self.compression,
                soundfile.__libsndfile_version__,
                soxr.__version__,
            )
        )


def front_end_constraints():
    """The declarative constraints of the front end's parameters, defined once.

    Used by :class:`~sktags.features.MelSpectrogramTransformer` and
    :class:`FrontEndConfig`: integers that are not bools, finite numbers, and
    sizes within the limits of ``sktags.features._limits``. scikit-learn is
    imported here, not when a worker unpickles a configuration.
    """
    from numbers import Integral, Real

    from sklearn.utils._param_validation import StrOptions

    from ..utils import NumberInterval
    from ._limits import MAX_EXCERPT_SECONDS, MAX_HOP_LENGTH, MAX_N_FFT, MAX_N_MELS, MAX_SR

    def count(high):
        return [NumberInterval(Integral, 1, high, closed="both")]

    return {
        "sr": count(MAX_SR),
        "n_fft": count(MAX_N_FFT),
        "hop_length": count(MAX_HOP_LENGTH),
        "n_mels": count(MAX_N_MELS),
        "offset": [NumberInterval(Real, 0, None, closed="left")],
        "duration": [NumberInterval(Real, 0, MAX_EXCERPT_SECONDS, closed="right"), None],
        "compression": [StrOptions({"log1p", "db", "musicnn"})],
    }


def config_from_params(params, name):
    """The :class:`FrontEndConfig` of a transformer's validated ``params``.

    The parameters were checked by their declarative constraints (which
    refuse bools, NaN, infinity and sizes over the limits); this adds that a
    fixed excerpt holds at least one frame. Errors are one-line
    :class:`ValueError`.
    """
    duration = params["duration"]
    config = FrontEndConfig(
        sr=int(params["sr"]),
        n_fft=int(params["n_fft"]),
        hop_length=int(params["hop_length"]),
        n_mels=int(params["n_mels"]),
        offset=float(params["offset"]),
        duration=None if duration is None else float(duration),
        compression=params["compression"],
    )
    if not config.whole_track:
        if config.n_samples < 1:
            raise ValueError(f"{name}: duration={duration!r} s at sr={config.sr} holds no sample.")
        if config.shape[1] < 1:
            raise ValueError(
                f"{name}: duration={duration!r} s ({config.n_samples} samples) is too short "
                f"for n_fft={config.n_fft}."
            )
    return config


#: The transformer's defaults, read from :class:`FrontEndConfig` (one definition).
DEFAULTS = {
    f.name: f.default
    for f in dataclasses.fields(FrontEndConfig)
    if f.name not in ("basis", "window")
}
