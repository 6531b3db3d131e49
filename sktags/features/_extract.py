"""Stream log-mel features of many clips into ``.npy`` files on disk."""

import os

import numpy as np

from ..utils import atomic_path
from ._report import ExtractionResult
from ._writers import MemmapSink, RaggedSink, sweep_stale, temp_prefix

_DTYPES = ("float32", "float16")


def offsets_path_of(filename):
    """``<name>.offsets.npy`` beside ``<name>.npy`` (the ragged layout's index)."""
    filename = os.fspath(filename)
    stem = filename[:-4] if filename.endswith(".npy") else filename
    return stem + ".offsets.npy"


def extract_to_file(X, filename, *, transformer=None, dtype="float32"):
    """Compute log-mel features of many clips straight into a ``.npy`` file.

    For datasets too large for memory (50,000 clips of 96 x 646 take 12.4 GB
    as float32, 6.2 GB as float16): features are written as they are
    computed, in input order, under a temporary name in the same directory,
    renamed to ``filename`` (:func:`os.replace`) only once complete. The
    process holds only the joblib tasks in flight, a few clips each.

    * Fixed excerpts (``transformer.duration`` a number): one array
      ``(n_clips, 1, n_mels, n_frames)`` in a memory map. Its whole size is
      reserved on disk first, so a full disk fails at once with a one-line
      :class:`OSError` naming ``filename`` and the bytes needed.
    * Whole tracks (``duration=None``), the "ragged" layout: ``filename``
      holds the 2-D array ``(total_frames, n_mels)`` of the frames of all
      clips, time-major and in order, and ``<name>.offsets.npy`` the int64
      offsets ``(n_clips + 1,)``: clip ``i`` is
      ``frames[offsets[i]:offsets[i + 1]].T[None]``, ``(1, n_mels, n_i)``.
      A failed clip has 0 frames. Read it with
      :class:`~sktags.features.RaggedSpectrograms`.

    Temporary files are removed on any failure, and those of the same
    ``filename`` left by a killed run are removed by the next run.

    Parameters
    ----------
    X : sequence of paths, sequence of 1-D arrays, or array of shape (n_clips, n_samples)
        Audio clips, as for :meth:`~sktags.MelSpectrogramTransformer.transform`.
    filename : str or os.PathLike
        Output ``.npy`` file; replaced if it exists.
    transformer : MelSpectrogramTransformer, default=None
        Its parameters (``duration``, ``n_jobs``, ``memory``, ``on_error``,
        ``verbose``, ...) are used; ``None`` means
        ``MelSpectrogramTransformer()``. It is not modified.
    dtype : {"float32", "float16"}, default="float32"
        Stored dtype. float16 halves the file; it rounds a log1p feature
        below 16 by at most 2**-8 (about 0.004).

    Returns
    -------
    result : ExtractionResult
        ``result.features``: a read-only memmap of ``filename`` (fixed
        excerpts) or a :class:`~sktags.features.RaggedSpectrograms` over it
        (whole tracks); ``result.failed``: sorted int64 positions in ``X`` of
        the files that could not be read (``on_error="zeros"``);
        ``result.errors``: one one-line message each; ``result.path`` and
        ``result.offsets_path`` (None for fixed excerpts).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sktags.features import MelSpectrogramTransformer, extract_to_file
    >>> X = np.random.default_rng(0).standard_normal((3, 22050)).astype(np.float32)
    >>> mel = MelSpectrogramTransformer(offset=0.0, duration=1.0)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     result = extract_to_file(X, os.path.join(d, "mel.npy"), transformer=mel, dtype="float16")
    ...     F = result.features
    ...     print(F.shape, F.dtype, F.flags.writeable, result.failed)
    ...     del F, result
    (3, 1, 96, 22) float16 False []
    >>> whole = MelSpectrogramTransformer(offset=0.0, duration=None)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     result = extract_to_file([X[0], X[1, :11025]], os.path.join(d, "t.npy"), transformer=whole)
    ...     print(np.load(result.path).shape, np.load(result.offsets_path))
    (33, 96) [ 0 22 33]
    """
    from ._mel import MelSpectrogramTransformer

    if transformer is None:
        transformer = MelSpectrogramTransformer()
    if not isinstance(transformer, MelSpectrogramTransformer):
        raise ValueError(
            f"transformer must be a MelSpectrogramTransformer, got {type(transformer).__name__}."
        )
    if str(dtype) not in _DTYPES:
        raise ValueError(f"dtype must be one of {_DTYPES}, got {dtype!r}.")
    filename = os.fspath(filename)
    if transformer.duration is None:
        return _extract_ragged(transformer, X, filename, np.dtype(str(dtype)))
    sweep_stale(filename)
    with atomic_path(filename, prefix=temp_prefix(filename), suffix=".npy") as tmp:
        sink = MemmapSink(tmp, np.dtype(str(dtype)), filename)
        try:
            result, _ = transformer._stream(X, sink)
            sink.close()
        finally:
            sink.close(flush=False)
    offsets = offsets_path_of(filename)
    if os.path.exists(offsets):  # an older whole-track file of the same name
        os.unlink(offsets)
    return _with_features(result, np.load(filename, mmap_mode="r"), filename, None)


def _extract_ragged(transformer, X, filename, dtype):
    offsets = offsets_path_of(filename)
    sweep_stale(filename)
    sweep_stale(offsets)
    with atomic_path(filename, prefix=temp_prefix(filename), suffix=".npy") as tmp:
        with atomic_path(offsets, prefix=temp_prefix(offsets), suffix=".npy") as tmp_offsets:
            sink = RaggedSink(tmp, tmp_offsets, dtype, filename)
            try:
                result, _ = transformer._stream(X, sink)
                sink.finish()
            finally:
                sink.close()
    try:  # sktags.features.RaggedSpectrograms reads the layout lazily
        from ._ragged import RaggedSpectrograms
    except ImportError:  # pragma: no cover - older trees without the reader
        features = None
    else:
        features = RaggedSpectrograms.load(filename, mmap_mode="r")
    return _with_features(result, features, filename, offsets)


def _with_features(result, features, path, offsets_path):
    return ExtractionResult(features, result.failed, result.errors, path, offsets_path)
