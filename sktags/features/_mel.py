"""MelSpectrogramTransformer: audio files or waveforms to log-mel batches."""

import numbers
import os
import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_memory

from ._audio_io import n_samples_of, warn_notes
from ._cache import FeatureCache, file_stamp
from ._compute import compute_chunk
from ._logmel import COMPRESSIONS, hann_window, mel_basis, n_frames_of
from ._waveform import as_float_waveform

_CACHE_FORMAT = 1
_MAX_CHUNK = 16
_MAX_LISTED_FAILURES = 10


class MelSpectrogramTransformer(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Log-mel spectrograms of audio excerpts, as a batch for a CNN.

    Each clip gives one log-compressed mel spectrogram of a fixed-length
    excerpt, the front end of Ibrahim et al. (ICASSP 2020): 22,050 Hz mono,
    ``n_fft=1024``, ``hop_length=1024``, 96 Slaney mel bands, the 30-60 s
    excerpt, ``log(1 + 100 * mel)``.

    The transformer is stateless: :meth:`fit` only validates the parameters
    and the input, and :meth:`transform` may be called without it.

    Parameters
    ----------
    sr : int, default=22050
        Sample rate the audio is analysed at. Files are resampled to it;
        waveforms must already be at it.
    n_fft : int, default=1024
        FFT length (and periodic Hann window length).
    hop_length : int, default=1024
        Hop between frames, in samples.
    n_mels : int, default=96
        Number of mel bands (Slaney scale and normalisation, librosa's
        default).
    offset : float, default=30.0
        Start of the excerpt, in seconds.
    duration : float, default=30.0
        Length of the excerpt, in seconds.
    compression : {"log1p", "db"}, default="log1p"
        ``"log1p"``: ``log(1 + 100 * M)`` of the mel power ``M``.
        ``"db"``: ``librosa.power_to_db(M)`` (``ref=1``, ``amin=1e-10``,
        ``top_db=80``, the floor relative to each clip's maximum).
    n_jobs : int, default=None
        Number of joblib workers over clips; ``None`` means 1 unless in a
        :func:`joblib.parallel_config` context, ``-1`` all cores. Work is
        dispatched with :class:`joblib.Parallel`, so a Dask or Ray joblib
        backend (``with joblib.parallel_config(backend="dask"):``) spreads it
        over a cluster. Each task handles a few clips one at a time with one
        BLAS/FFT thread (threadpoolctl), which is the fastest layout on CPUs.
    memory : None, str, os.PathLike or joblib.Memory, default=None
        Directory of the per-file feature cache (``~`` is expanded; a
        :class:`joblib.Memory` gives its ``location``). Entries are keyed on the
        file's content (a SHA-256 hash of its bytes) and absolute path, every
        parameter that changes the output and the decoder and resampler
        versions, so an edited file is recomputed even with its size and
        modification time unchanged; writes are atomic
        and a corrupt or partial entry is recomputed, never returned. Only
        files are cached, not waveforms. ``None`` disables caching. A cache
        that cannot be written (read-only, full) only gives a warning.
    on_error : {"raise", "zeros"}, default="raise"
        What a missing, empty or undecodable file does. ``"raise"``: a
        :class:`ValueError` naming the file and its position in ``X``.
        ``"zeros"``: its output is all zeros (whatever the compression), one
        warning lists the failures, and :meth:`transform` records their
        positions in ``failed_indices_``.
    verbose : int, default=0
        If positive, show a tqdm progress bar on stderr.

    Attributes
    ----------
    failed_indices_ : ndarray of shape (n_failed,), dtype int64
        Set by :meth:`transform` (and :func:`extract_to_file`) only when
        ``on_error="zeros"``: the positions in the last ``X`` whose file could
        not be read. This is the one attribute that ``transform`` sets; with
        the default ``on_error="raise"`` it sets nothing (and removes the
        record of an earlier ``on_error="zeros"`` transform).

    See Also
    --------
    sktags.features.extract_to_file : Stream features of many files to a
        ``.npy`` memory map.

    Notes
    -----
    **Input.** ``X`` is a sequence of audio file paths (``str`` or
    ``os.PathLike``; anything libsndfile reads: WAV, FLAC, OGG/Vorbis, Opus,
    MP3; any sample rate, mono or multichannel), a sequence of 1-D float
    waveforms at ``sr``, or a 2-D array ``(n_clips, n_samples)`` of waveforms.
    Signed integer waveforms (int16 PCM...) are scaled to [-1, 1) as by
    :func:`librosa.util.buf_to_float`; unsigned ones are refused.

    **Output.** A float32 array ``(n_clips, 1, n_mels, n_frames)`` with
    ``n_frames = 1 + n_samples // hop_length`` for an even ``n_fft``, where
    ``n_samples = floor(duration * sr)``: 646 frames with the defaults. The
    output is 4-D, so ``set_output(transform="pandas")`` (or polars) is not
    supported and raises a :class:`ValueError`.

    **Excerpt.** The same rule applies to files (at their native rate) and
    waveforms: ``[offset, offset + duration)`` when the clip is long enough;
    otherwise its last ``duration`` seconds when it is at least that long
    (a 30 s preview gives the whole preview, not silence); otherwise the
    whole clip, zero-padded at the end.

    **Files.** Only the excerpt is decoded, with libsndfile
    (:class:`soundfile.SoundFile`, seek then read), channels are averaged,
    and the excerpt is resampled to ``sr`` with soxr at high quality
    (``soxr_hq``, librosa's default ``res_type``), then cropped or
    zero-padded to ``n_samples``.

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
    """

    def __init__(
        self,
        *,
        sr=22050,
        n_fft=1024,
        hop_length=1024,
        n_mels=96,
        offset=30.0,
        duration=30.0,
        compression="log1p",
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
        self._check_params()
        self._check_input(X)
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
        """
        self._check_global_output()
        config = self._check_params()
        items = self._check_input(X)
        out = np.empty((len(items), 1, *config["shape"]), dtype=np.float32)
        self._fill(items, out, config)
        return out

    def fit_transform(self, X, y=None):
        """Same as ``transform(X)`` (``fit`` learns nothing); validates once.

        Parameters
        ----------
        X : sequence of paths, sequence of 1-D arrays, or array of shape (n_clips, n_samples)
            Audio clips (see Notes of the class).
        y : None
            Ignored.

        Returns
        -------
        features : ndarray of shape (n_clips, 1, n_mels, n_frames), dtype float32
        """
        return self.transform(X)

    def set_output(self, *, transform=None):
        """Refuse any container other than the default ndarray.

        The output is 4-D ``(n_clips, 1, n_mels, n_frames)``, which no
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

    # ------------------------------------------------------------ checking
    def _check_global_output(self):
        from sklearn import get_config

        output = get_config().get("transform_output", "default")
        if output != "default":
            raise ValueError(
                f"{type(self).__name__} returns a 4-D array, which cannot be a "
                f"DataFrame: sklearn.set_config(transform_output={output!r}) is not "
                "supported; use 'default'."
            )

    def _check_params(self):
        """Validate parameters; return the computation config."""
        name = type(self).__name__
        for param in ("sr", "n_fft", "hop_length", "n_mels"):
            value = getattr(self, param)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}: {param} must be a positive integer, got {value!r}.")
        for param, minimum in (("offset", 0.0), ("duration", 0.0)):
            value = getattr(self, param)
            if (
                not isinstance(value, numbers.Real)
                or isinstance(value, bool)
                or not np.isfinite(value)
                or value < minimum
            ):
                raise ValueError(
                    f"{name}: {param} must be a finite number >= {minimum}, got {value!r}."
                )
        if self.compression not in COMPRESSIONS:
            raise ValueError(
                f"{name}: compression must be one of {COMPRESSIONS}, got {self.compression!r}."
            )
        if self.on_error not in ("raise", "zeros"):
            raise ValueError(
                f"{name}: on_error must be 'raise' or 'zeros', got {self.on_error!r}."
            )
        if self.n_jobs is not None and (
            not isinstance(self.n_jobs, numbers.Integral) or self.n_jobs == 0
        ):
            raise ValueError(f"{name}: n_jobs must be None or a non-zero integer, got {self.n_jobs!r}.")
        if not isinstance(self.verbose, numbers.Integral):
            raise ValueError(f"{name}: verbose must be an integer, got {self.verbose!r}.")
        n_samples = n_samples_of(self.duration, self.sr)
        if n_samples < 1:
            raise ValueError(
                f"{name}: duration={self.duration!r} s at sr={self.sr} holds no sample."
            )
        n_frames = n_frames_of(n_samples, self.n_fft, self.hop_length)
        if n_frames < 1:
            raise ValueError(
                f"{name}: duration={self.duration!r} s ({n_samples} samples) is too "
                f"short for n_fft={self.n_fft}."
            )
        try:
            memory = self.memory
            if isinstance(memory, (str, os.PathLike)):
                memory = os.path.expanduser(os.fspath(memory))
            memory = check_memory(memory)
        except ValueError as exc:
            raise ValueError(
                f"{name}: memory must be None, a directory path or a joblib.Memory, "
                f"got {self.memory!r}."
            ) from exc
        return {
            "sr": int(self.sr),
            "offset": float(self.offset),
            "duration": float(self.duration),
            "hop_length": int(self.hop_length),
            "compression": self.compression,
            "n_samples": n_samples,
            "shape": (int(self.n_mels), n_frames),
            "location": getattr(memory, "location", None),
        }

    def _check_input(self, X):
        """Return ``[(kind, payload), ...]`` with kind "path" or "wave"."""
        name = type(self).__name__
        if X is None:
            raise ValueError(f"{name} needs X: a sequence of audio paths or waveforms, got None.")
        if isinstance(X, (str, bytes, os.PathLike)):
            raise ValueError(
                f"{name}: X must be a sequence of audio paths or waveforms, got a single "
                f"path {X!r}; pass [path]."
            )
        if hasattr(X, "tocsr") or hasattr(X, "todense"):
            raise ValueError(f"{name} does not accept sparse input: pass dense waveforms.")
        if isinstance(X, dict):
            raise ValueError(f"{name}: X must be a sequence of audio paths or waveforms, got a dict.")
        if not isinstance(X, (list, tuple)) and hasattr(X, "__array__"):
            X = np.asarray(X)
        if isinstance(X, np.ndarray) and X.dtype.kind == "O" and X.ndim == 2:
            try:  # a 2-D object array of numbers
                X = X.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"{name}: a 2-D X must hold numbers: {exc}") from None
        if isinstance(X, np.ndarray) and X.dtype.kind == "c":
            raise ValueError(f"{name}: Complex data not supported; waveforms must be real.")
        if isinstance(X, np.ndarray) and X.dtype.kind in "iuf":
            if X.ndim != 2:
                hint = (
                    " Reshape your data: a single waveform y is X = y[np.newaxis] or [y]."
                    if X.ndim == 1
                    else ""
                )
                raise ValueError(
                    f"{name}: a numeric X must be 2-D (n_clips, n_samples), got an array "
                    f"of shape {X.shape}.{hint}"
                )
            if X.shape[1] == 0:
                raise ValueError(
                    f"{name}: waveforms without samples: 0 feature(s) (shape={X.shape}) "
                    "while a minimum of 1 is required."
                )
            X = list(X)
        elif isinstance(X, np.ndarray):
            if X.ndim != 1:
                raise ValueError(
                    f"{name}: an array of paths or waveforms must be 1-D, got shape {X.shape}."
                )
            X = list(X)
        else:
            try:
                X = list(X)
            except TypeError:
                raise ValueError(
                    f"{name}: X must be a sequence of audio paths or waveforms, got "
                    f"{type(X).__name__}."
                ) from None
        if len(X) == 0:
            raise ValueError(f"{name}: X is empty (0 clips); at least one clip is required.")
        return [self._check_item(i, x) for i, x in enumerate(X)]

    def _check_item(self, i, x):
        name = type(self).__name__
        if isinstance(x, (str, os.PathLike)):
            return ("path", os.fspath(x))
        if isinstance(x, bytes):
            return ("path", os.fsdecode(x))
        try:
            y = np.asarray(x)
        except Exception:  # noqa: BLE001
            y = None
        if y is not None and y.dtype.kind == "c":
            raise ValueError(f"{name}: X[{i}]: Complex data not supported; waveforms must be real.")
        if y is None or y.dtype.kind not in "iuf":
            raise ValueError(
                f"{name}: X[{i}] must be an audio path or a real waveform, got "
                f"{type(x).__name__}."
            )
        if y.ndim != 1:
            raise ValueError(
                f"{name}: waveform X[{i}] must be 1-D (mono samples at sr), got shape {y.shape}."
            )
        if y.shape[0] == 0:
            raise ValueError(f"{name}: waveform X[{i}] is empty (0 samples).")
        return ("wave", as_float_waveform(y, name=f"{name}: waveform X[{i}]"))

    # ------------------------------------------------------------ compute
    def _cache(self, config):
        if config["location"] is None:
            return None
        import soundfile
        import soxr

        token = repr(
            (
                _CACHE_FORMAT,
                config["sr"],
                int(self.n_fft),
                config["hop_length"],
                config["shape"][0],
                config["offset"],
                config["duration"],
                config["compression"],
                soundfile.__libsndfile_version__,
                soxr.__version__,
            )
        )
        return FeatureCache(config["location"], token, config["shape"])

    def _fill(self, items, out, config):
        """Write the feature of ``items[i]`` into ``out[i, 0]``, for every i.

        ``out`` may be an ndarray or a memory map of any float dtype. Cached
        files are read in this process; the other clips are computed by
        joblib tasks of a few clips each, streamed back in input order, so
        memory stays bounded by the tasks in flight.
        """
        from joblib import Parallel, delayed, effective_n_jobs
        from tqdm.auto import tqdm

        if self.on_error == "raise":
            # an earlier on_error="zeros" transform must not leave a stale record
            self.__dict__.pop("failed_indices_", None)
        n = len(items)
        cache = self._cache(config)
        failures = []  # (position, path, message)
        cache_errors = []
        short_clips = []
        todo = []
        bar = tqdm(total=n, disable=not self.verbose, desc="log-mel", unit="clip")
        try:
            for i, (kind, payload) in enumerate(items):
                if kind == "wave":
                    todo.append((i, kind, payload, None))
                    continue
                message = None
                try:
                    stamp = file_stamp(payload)
                except FileNotFoundError:
                    message = "no such file"
                except OSError as exc:
                    message = f"{type(exc).__name__}: {exc}"
                else:
                    if not os.path.isfile(payload):
                        message = "not a regular file"
                    elif stamp[0] == 0:
                        message = "the file is empty (0 bytes)"
                if message is not None:
                    self._record_failure(failures, i, payload, message, out)
                    bar.update()
                    continue
                if cache is not None:
                    hit = cache.load(payload, stamp)
                    if hit is not None:
                        out[i, 0] = hit
                        bar.update()
                        continue
                todo.append((i, kind, os.path.abspath(payload), stamp))

            if todo:
                basis = mel_basis(config["sr"], int(self.n_fft), config["shape"][0])
                worker_config = {
                    "sr": config["sr"],
                    "offset": config["offset"],
                    "duration": config["duration"],
                    "hop_length": config["hop_length"],
                    "compression": config["compression"],
                    "basis": basis,
                    "window": hann_window(int(self.n_fft)),
                }
                n_workers = max(1, effective_n_jobs(self.n_jobs))
                chunk = int(min(_MAX_CHUNK, max(1, -(-len(todo) // (4 * n_workers)))))
                chunks = [todo[k : k + chunk] for k in range(0, len(todo), chunk)]
                tasks = (
                    delayed(compute_chunk)([(i, kind, p) for i, kind, p, _ in c], worker_config)
                    for c in chunks
                )
                parallel = Parallel(n_jobs=self.n_jobs, return_as="generator")
                for c, (results, notes) in zip(chunks, parallel(tasks)):
                    short_clips.extend(notes)
                    for (i, kind, payload, stamp), (_, ok, value) in zip(c, results):
                        if ok:
                            out[i, 0] = value
                            if cache is not None and kind == "path":
                                try:
                                    cache.store(payload, stamp, value)
                                except OSError as exc:  # a read-only or full cache
                                    cache_errors.append(f"{type(exc).__name__}: {exc}")
                        else:
                            self._record_failure(failures, i, items[i][1], value, out)
                        bar.update()
        finally:
            bar.close()

        warn_notes(short_clips, prefix=type(self).__name__, stacklevel=3)
        if cache_errors:
            warnings.warn(
                f"{type(self).__name__}: {len(cache_errors)} feature(s) could not be written "
                f"to the cache in {config['location']!r} and will be recomputed next time "
                f"(first error: {cache_errors[0]}).",
                UserWarning,
                stacklevel=3,
            )
        if self.on_error == "zeros":
            self.failed_indices_ = np.array([f[0] for f in failures], dtype=np.int64)
            if failures:
                listed = "; ".join(
                    f"X[{i}] {path!r}: {msg}" for i, path, msg in failures[:_MAX_LISTED_FAILURES]
                )
                more = len(failures) - _MAX_LISTED_FAILURES
                if more > 0:
                    listed += f"; and {more} more"
                warnings.warn(
                    f"{type(self).__name__}: {len(failures)} of {n} audio files could not "
                    f"be read and were replaced by zeros (positions in failed_indices_): "
                    f"{listed}",
                    UserWarning,
                    stacklevel=3,
                )
        return out

    def _record_failure(self, failures, i, path, message, out):
        if self.on_error == "raise":
            raise ValueError(f"Cannot read audio file X[{i}] = {path!r}: {message}.")
        failures.append((i, path, message))
        out[i, 0] = 0
