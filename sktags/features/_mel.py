"""MelSpectrogramTransformer: audio files or waveforms to log-mel batches."""

import os
import warnings
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils.validation import check_memory

from ..utils import NumberInterval
from ._cache import FeatureCache
from ._compute import compute_chunk
from ._config import DEFAULTS, config_from_params, front_end_constraints
from ._engine import stream_features
from ._input import check_clips
from ._limits import check_allocation
from ._report import AudioDecodeWarning, ExtractionResult, failure_message, warn_notes


class MelSpectrogramTransformer(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Log-mel spectrograms of audio excerpts or whole tracks, for a CNN.

    Each clip gives one log-compressed mel spectrogram, the front end of
    Ibrahim et al. (ICASSP 2020): 22,050 Hz mono, ``n_fft=1024``,
    ``hop_length=1024``, 96 Slaney mel bands, the 30-60 s excerpt,
    ``log(1 + 100 * mel)``. With ``duration=None`` it gives whole tracks.

    The transformer is stateless: :meth:`fit` only validates the parameters
    and the input, and :meth:`transform` may be called without it.

    Parameters
    ----------
    sr : int, default=22050
        Sample rate the audio is analysed at, 1 to 768,000. Files are
        resampled to it; waveforms must already be at it.
    n_fft : int, default=1024
        FFT length (and periodic Hann window length), 1 to 65,536.
    hop_length : int, default=1024
        Hop between frames, in samples, 1 to 2**20.
    n_mels : int, default=96
        Number of mel bands (Slaney scale and normalisation, librosa's
        default), 1 to 1024.
    offset : float, default=30.0
        Start of the excerpt, in seconds.
    duration : float or None, default=30.0
        Length of the excerpt, in seconds, at most 3600 (one hour, see
        :ref:`limits`). ``None``: the whole track from
        ``offset`` (set ``offset=0.0`` for whole tracks), as a sequence of
        variable-length features (see Notes).
    compression : {"log1p", "db", "musicnn"}, default="log1p"
        ``"log1p"``: ``log(1 + 100 * M)`` of the mel power ``M``.
        ``"db"``: ``librosa.power_to_db(M)`` (``ref=1``, ``amin=1e-10``,
        ``top_db=80``, the floor relative to each clip's maximum).
        ``"musicnn"``: ``log10(1 + 10000 * M)`` of ``M`` rounded to float16,
        as musicnn's extractor computed it under numpy 1 (the product and
        log in float32); with ``sr=16000, n_fft=512, hop_length=256`` it is
        the input of musicnn's networks (see
        :func:`sktags.pretrained.musicnn_frontend`).
    n_jobs : int, default=None
        Number of joblib workers over clips; ``None`` means 1 unless in a
        :func:`joblib.parallel_config` context, ``-1`` all cores. Any joblib
        backend works (loky, threading, multiprocessing, Dask, Ray: see
        :ref:`scale-out`); results are identical to ``n_jobs=1``. Each task
        handles a few clips with one BLAS/FFT thread (threadpoolctl).
    memory : None, str, os.PathLike or joblib.Memory, default=None
        Directory of the per-file feature cache (``~`` is expanded; a
        :class:`joblib.Memory` gives its ``location``). Entries are keyed on
        the file, every parameter that changes the output and the decoder and
        resampler versions; writes are atomic and a corrupt entry is
        recomputed, never returned. Only files are cached, not waveforms.
        ``None`` disables caching. A cache that cannot be written only warns.
    on_error : {"raise", "zeros"}, default="raise"
        What a missing, empty or undecodable file does. ``"raise"``: a
        :class:`ValueError` naming the file and its position in ``X``.
        ``"zeros"``: its feature is all zeros (for whole tracks: 0 frames),
        and one :class:`~sktags.features.AudioDecodeWarning` lists the
        failures; its ``.failed`` holds their positions. :meth:`extract` and
        :func:`~sktags.features.extract_to_file` also return them. The
        estimator itself is never modified.
    verbose : int, default=0
        If positive, show a tqdm progress bar on stderr.

    See Also
    --------
    sktags.features.extract_to_file : Stream features of many files to disk.

    Notes
    -----
    **Input.** ``X`` is a sequence of audio file paths (``str`` or
    ``os.PathLike``; anything libsndfile reads: WAV, FLAC, OGG/Vorbis, Opus,
    MP3; any sample rate, mono or multichannel), a sequence of 1-D float
    waveforms at ``sr``, or a 2-D array ``(n_clips, n_samples)`` of waveforms.

    **Output, fixed excerpts.** A float32 array ``(n_clips, 1, n_mels,
    n_frames)`` with ``n_frames = 1 + n_samples // hop_length`` for an even
    ``n_fft``, where ``n_samples = floor(duration * sr)``: 646 frames with
    the defaults. ``set_output(transform="pandas")`` raises.

    **Output, whole tracks** (``duration=None``). A 1-D numpy array of
    ``dtype=object`` and length ``n_clips``; element ``i`` is a C-contiguous
    float32 array ``(1, n_mels, n_frames_i)``, ``n_frames_i = 1 +
    n_samples_i // hop_length`` (a failed file under ``on_error="zeros"``
    has 0 frames). An object array, unlike a list, keeps numpy indexing
    (``features[train_idx]``), which :class:`~sklearn.pipeline.Pipeline`,
    :func:`~sklearn.model_selection.cross_validate` and
    :class:`~sklearn.model_selection.GridSearchCV` use to split it; it never
    goes through :func:`~sklearn.utils.check_array`, which would refuse it:
    :class:`~sktags.CNNTagger` (with ``crop_frames``) takes it, or a
    list, as it is.

    **Excerpt.** The same rule applies to files (at their native rate) and
    waveforms: ``[offset, offset + duration)`` when the clip is long enough;
    otherwise its last ``duration`` seconds when it is at least that long
    (a 30 s preview gives the whole preview, not silence); otherwise the
    whole clip, zero-padded at the end. Whole tracks: ``[offset, end)``, or
    the whole clip when it is not longer than ``offset``.

    **Files.** Only the excerpt is decoded, with libsndfile, channels are
    averaged, and the excerpt is resampled to ``sr`` with soxr at high
    quality (``soxr_hq``, librosa's default ``res_type``).

    **Numerics.** The mel spectrogram is that of
    ``librosa.feature.melspectrogram(y=y, sr=sr, n_fft=n_fft,
    hop_length=hop_length, n_mels=n_mels)`` (centred frames, zero padding,
    periodic Hann window, power 2), computed with :func:`scipy.fft.rfft` in
    float32; it matches librosa to about 1e-5 after ``log1p(100 * M)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sktags.features import MelSpectrogramTransformer
    >>> t = np.arange(22050 * 2) / 22050
    >>> X = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 880 * t)])
    >>> mel = MelSpectrogramTransformer(offset=0.0, duration=2.0)
    >>> features = mel.fit_transform(X)
    >>> features.shape, features.dtype
    ((2, 1, 96, 44), dtype('float32'))
    >>> MelSpectrogramTransformer().fit_transform(X).shape  # 646 frames
    (2, 1, 96, 646)
    >>> tracks = MelSpectrogramTransformer(offset=0.0, duration=None).transform([t, t[:22050]])
    >>> tracks.dtype, [f.shape for f in tracks]
    (dtype('O'), [(1, 96, 44), (1, 96, 22)])
    """

    _parameter_constraints = {
        **front_end_constraints(),
        "n_jobs": [
            NumberInterval(Integral, None, -1, closed="right"),
            NumberInterval(Integral, 1, None, closed="left"),
            None,
        ],
        "memory": [None, str, os.PathLike, HasMethods(["cache"])],
        "on_error": [StrOptions({"raise", "zeros"})],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        sr=DEFAULTS["sr"],
        n_fft=DEFAULTS["n_fft"],
        hop_length=DEFAULTS["hop_length"],
        n_mels=DEFAULTS["n_mels"],
        offset=DEFAULTS["offset"],
        duration=DEFAULTS["duration"],
        compression=DEFAULTS["compression"],
        n_jobs=None,
        memory=None,
        on_error="raise",
        verbose=0,
    ):
        self.sr = sr
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.offset = offset
        self.duration = duration
        self.compression = compression
        self.n_jobs = n_jobs
        self.memory = memory
        self.on_error = on_error
        self.verbose = verbose

    # ------------------------------------------------------------------ API
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate the parameters and the input; nothing is learned.

        Parameters
        ----------
        X : sequence of paths, sequence of 1-D arrays, or array of shape (n_clips, n_samples)
            Audio clips (see Notes of the class). Files are not opened.
        y : None
            Ignored.

        Returns
        -------
        self : MelSpectrogramTransformer
        """
        self._config()
        check_clips(X, type(self).__name__)
        return self

    def transform(self, X):
        """Compute the log-mel spectrogram of every clip.

        Parameters
        ----------
        X : sequence of paths, sequence of 1-D arrays, or array of shape (n_clips, n_samples)
            Audio clips (see Notes of the class).

        Returns
        -------
        features : ndarray of shape (n_clips, 1, n_mels, n_frames), dtype float32
            With ``duration=None``: object ndarray of shape (n_clips,) of
            float32 arrays (1, n_mels, n_frames_i).
        """
        return self.extract(X).features

    def fit_transform(self, X, y=None):
        """Same as ``transform(X)`` (``fit`` learns nothing); validates once.

        Parameters
        ----------
        X : sequence of paths, sequence of 1-D arrays, or array of shape (n_clips, n_samples)
            As in :meth:`transform`.
        y : None
            Ignored.

        Returns
        -------
        features : ndarray of shape (n_clips, 1, n_mels, n_frames), dtype float32
            Or an object ndarray with ``duration=None`` (see :meth:`transform`).
        """
        return self.transform(X)

    def extract(self, X):
        """Features of every clip, and the files that could not be read.

        Thread-safe: the record of failures is returned, not stored on the
        estimator.

        Parameters
        ----------
        X : sequence of paths, sequence of 1-D arrays, or array of shape (n_clips, n_samples)
            As in :meth:`transform`.

        Returns
        -------
        result : ExtractionResult
            ``result.features`` is what :meth:`transform` returns;
            ``result.failed`` (sorted int64 positions) and ``result.errors``
            (one line each) list the files that failed under
            ``on_error="zeros"``.

        Examples
        --------
        >>> from sktags.features import MelSpectrogramTransformer
        >>> mel = MelSpectrogramTransformer(offset=0.0, duration=1.0, on_error="zeros")
        >>> import warnings; warnings.simplefilter("ignore")
        >>> result = mel.extract([np.zeros(22050), "missing.wav"])
        >>> result.features.shape, result.failed, result.errors
        ((2, 1, 96, 22), array([1]), ["X[1] 'missing.wav': no such file"])
        """
        return self._stream(X, _memory_sink)[0]

    def set_output(self, *, transform=None):
        """Refuse any container other than the default ndarray.

        The output is 4-D, or an object array of 3-D arrays, which no
        DataFrame can hold, so ``"pandas"`` and ``"polars"`` raise.

        Parameters
        ----------
        transform : {"default", None}
            ``"default"`` or ``None`` keep ndarray output.

        Returns
        -------
        self : MelSpectrogramTransformer
        """
        if transform not in (None, "default"):
            raise ValueError(
                f"{type(self).__name__} returns a 4-D array (n_clips, 1, n_mels, "
                f"n_frames), which cannot be a DataFrame: set_output(transform="
                f"{transform!r}) is not supported; use transform='default'."
            )
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    # ------------------------------------------------------------ internals
    def _config(self):
        """Validate the parameters; return the :class:`FrontEndConfig` (built once per call)."""
        self._validate_params()
        return config_from_params(self.get_params(), type(self).__name__)

    def _cache(self, config):
        memory = self.memory
        if isinstance(memory, (str, os.PathLike)):
            memory = os.path.expanduser(os.fspath(memory))
        location = getattr(check_memory(memory), "location", None)
        if location is None:
            return None
        return FeatureCache(location, config.cache_token(), config.shape)

    def _stream(self, X, make_sink):
        """The one entry point of the computation (used by extract_to_file too).

        Validates the parameters and ``X``, then computes every clip in input
        order and hands it to ``emit = make_sink(config, n_clips)``:
        ``emit(i, feature)`` with a float32 ``(n_mels, n_frames)`` feature, or
        None for a file that failed. Returns ``(result, emit)`` where result
        is an :class:`ExtractionResult` holding ``emit.features`` (if any).
        """
        from sklearn import get_config
        from tqdm.auto import tqdm

        name = type(self).__name__
        output = get_config().get("transform_output", "default")
        if output != "default":
            raise ValueError(
                f"{name} returns a 4-D array, which cannot be a DataFrame: sklearn."
                f"set_config(transform_output={output!r}) is not supported; use 'default'."
            )
        config = self._config()
        items = check_clips(X, name)
        cache = self._cache(config)
        emit = make_sink(config, len(items))
        failures = []

        def on_failure(i, path, message):
            if self.on_error == "raise":
                raise ValueError(f"Cannot read audio file X[{i}] = {path!r}: {message}.")
            failures.append((i, f"X[{i}] {path!r}: {message}"))

        bar = tqdm(total=len(items), disable=not self.verbose, desc="log-mel", unit="clip")
        try:
            cache_errors, notes = stream_features(
                items, config, compute=compute_chunk, n_jobs=self.n_jobs, cache=cache,
                emit=emit, on_failure=on_failure, progress=bar.update,
            )
        finally:
            bar.close()
        if cache_errors:
            warnings.warn(
                f"{name}: {len(cache_errors)} feature(s) could not be written to the cache "
                f"in {cache.directory.parent!s} and will be recomputed next time (first "
                f"error: {cache_errors[0]}).",
                UserWarning,
                stacklevel=3,
            )
        warn_notes(notes, prefix=name, stacklevel=3)
        failed = np.array([i for i, _ in failures], dtype=np.int64)
        errors = [e for _, e in failures]
        if failures:
            message = failure_message(name, errors, len(items))
            warnings.warn(AudioDecodeWarning(message, failed, errors), stacklevel=3)
        return ExtractionResult(getattr(emit, "features", None), failed, errors), emit


def _memory_sink(config, n):
    """In-memory features: a float32 4-D array, or an object array of whole tracks."""
    if config.whole_track:
        out = np.empty(n, dtype=object)

        def emit(i, feature):
            if feature is None:
                feature = np.zeros((config.n_mels, 0), np.float32)
            out[i] = np.ascontiguousarray(feature[None], dtype=np.float32)
    else:
        check_allocation(
            4 * n * config.n_mels * config.shape[1],
            what=f"the features of {n} clips of {config.n_mels} x {config.shape[1]} frames",
            hint="stream them to disk with sktags.features.extract_to_file, or shorten duration",
        )
        out = np.empty((n, 1, *config.shape), dtype=np.float32)

        def emit(i, feature):
            out[i, 0] = 0 if feature is None else feature

    emit.features = out
    return emit
