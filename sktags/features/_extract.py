"""Stream log-mel features of many clips into a ``.npy`` file on disk."""

import os

import numpy as np

from ..utils._atomic import atomic_path

_DTYPES = ("float32", "float16")


def extract_to_file(X, filename, *, transformer=None, dtype="float32"):
    """Compute log-mel features of many clips straight into a ``.npy`` file.

    For datasets too large for memory (50,000 clips of 96 x 646 take 12.4 GB
    as float32, 6.2 GB as float16): features are written as they are
    computed into a memory-mapped ``.npy`` file
    (:func:`numpy.lib.format.open_memmap`) under a temporary name in the same
    directory, which is renamed to ``filename`` (:func:`os.replace`) only
    once complete; a failed or interrupted run leaves no partial
    ``filename``. The process holds only the joblib tasks in flight, a few
    clips each, besides the page cache of the map.

    Parameters
    ----------
    X : sequence of paths, sequence of 1-D arrays, or array of shape (n_clips, n_samples)
        Audio clips, as for :meth:`MelSpectrogramTransformer.transform`.
    filename : str or os.PathLike
        Output ``.npy`` file; replaced if it exists.
    transformer : MelSpectrogramTransformer, default=None
        Its parameters (``n_jobs``, ``memory``, ``on_error``, ``verbose``, ...)
        are used; ``None`` means ``MelSpectrogramTransformer()``. With
        ``on_error="zeros"`` its ``failed_indices_`` is set, as by ``transform``.
    dtype : {"float32", "float16"}, default="float32"
        Stored dtype. float16 halves the file; it rounds a log1p feature
        below 16 by at most 2**-8 (about 0.004).

    Returns
    -------
    features : numpy.memmap of shape (n_clips, 1, n_mels, n_frames)
        Read-only map of ``filename`` (``np.load(filename, mmap_mode="r")``).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sktags.features import MelSpectrogramTransformer, extract_to_file
    >>> X = np.random.default_rng(0).standard_normal((3, 22050)).astype(np.float32)
    >>> mel = MelSpectrogramTransformer(offset=0.0, duration=1.0)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     F = extract_to_file(X, os.path.join(d, "mel.npy"), transformer=mel, dtype="float16")
    ...     print(F.shape, F.dtype, F.flags.writeable)
    ...     del F
    (3, 1, 96, 22) float16 False
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
    transformer._check_global_output()
    config = transformer._check_params()
    items = transformer._check_input(X)

    filename = os.fspath(filename)
    with atomic_path(filename, suffix=".npy") as tmp:
        out = np.lib.format.open_memmap(
            tmp, mode="w+", dtype=np.dtype(str(dtype)), shape=(len(items), 1, *config["shape"])
        )
        try:
            transformer._fill(items, out, config)
            out.flush()
        finally:
            del out
    return np.load(filename, mmap_mode="r")
