"""How the front end reports files it could not read, without mutating the estimator.

:meth:`~sktags.MelSpectrogramTransformer.transform` returns only features, so with
``on_error="zeros"`` its record of failures travels in the
:class:`AudioDecodeWarning` it emits. :meth:`~sktags.MelSpectrogramTransformer.extract`
and :func:`~sktags.features.extract_to_file` return an
:class:`ExtractionResult` holding the features and the same record. Neither
writes to the estimator, so one transformer may serve several threads.
"""

import warnings

import numpy as np

_MAX_LISTED = 10


class AudioDecodeWarning(UserWarning):
    """Some audio files could not be read and were replaced (``on_error="zeros"``).

    Parameters
    ----------
    message : str
        One paragraph naming up to 10 failed files.
    failed : array-like of int, default=()
        Positions in ``X`` of the files that failed, sorted.
    errors : list of str, default=()
        One one-line message per failed file, in the order of ``failed``.

    Attributes
    ----------
    failed : ndarray of shape (n_failed,), dtype int64
    errors : list of str

    Examples
    --------
    >>> import warnings
    >>> from sktags.features import AudioDecodeWarning, MelSpectrogramTransformer
    >>> mel = MelSpectrogramTransformer(offset=0.0, duration=1.0, on_error="zeros")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     features = mel.transform(["missing.wav"])
    >>> [w.message.failed.tolist() for w in caught if w.category is AudioDecodeWarning]
    [[0]]
    """

    def __init__(self, message, failed=(), errors=()):
        super().__init__(message)
        self.failed = np.asarray(failed, dtype=np.int64)
        self.errors = list(errors)


class ExtractionResult:
    """Features of a batch of clips, and the clips that could not be read.

    Parameters
    ----------
    features : ndarray, object ndarray, numpy.memmap or RaggedSpectrograms
        In memory (:meth:`~sktags.MelSpectrogramTransformer.extract`): what
        ``transform`` returns. From :func:`~sktags.features.extract_to_file`:
        a read-only memmap of the file, or for whole tracks a
        :class:`~sktags.features.RaggedSpectrograms` over it.
    failed : array-like of int
        Sorted positions in ``X`` of the files that could not be read (always
        empty with ``on_error="raise"``, which raises instead).
    errors : list of str
        One one-line message per failed file (``"X[i] 'path': reason"``), in
        the order of ``failed``.
    path : str, default=None
        The ``.npy`` file written, if any.
    offsets_path : str, default=None
        The ``.offsets.npy`` file of the ragged layout (whole tracks), if any.

    Attributes
    ----------
    features : ndarray, object ndarray, numpy.memmap or RaggedSpectrograms
        As given.
    failed : ndarray of shape (n_failed,), dtype int64
        As given.
    errors : list of str
        As given.
    path, offsets_path : str or None
        As given.
    """

    def __init__(self, features, failed, errors, path=None, offsets_path=None):
        self.features = features
        self.failed = np.asarray(failed, dtype=np.int64)
        self.errors = list(errors)
        self.path = path
        self.offsets_path = offsets_path

    def __repr__(self):
        return (
            f"ExtractionResult(n_failed={len(self.failed)}, path={self.path!r}, "
            f"offsets_path={self.offsets_path!r})"
        )


def failure_message(name, failures, n):
    """One paragraph for ``failures`` (a list of one-line errors) among ``n`` clips."""
    listed = "; ".join(failures[:_MAX_LISTED])
    more = len(failures) - _MAX_LISTED
    if more > 0:
        listed += f"; and {more} more"
    return (
        f"{name}: {len(failures)} of {n} audio files could not be read and were replaced "
        f"by empty features (zeros, or 0 frames for whole tracks); their positions are in "
        f"the warning's .failed and in extract()'s result: {listed}"
    )


def warn_notes(notes, *, prefix, stacklevel=2, max_listed=10):
    """Give the notes collected by :func:`load_window` as one warning.

    Parameters
    ----------
    notes : list of str
        Notes, e.g. gathered from worker processes; nothing happens if empty.
    prefix : str
        Start of the message, e.g. the estimator's name.
    stacklevel : int, default=2
        As for :func:`warnings.warn`, counted from the caller.
    max_listed : int, default=10
        Notes listed before "and N more".
    """
    if not notes:
        return
    listed = "; ".join(notes[:max_listed])
    if len(notes) > max_listed:
        listed += f"; and {len(notes) - max_listed} more"
    warnings.warn(f"{prefix}: {listed}.", UserWarning, stacklevel=stacklevel + 1)
