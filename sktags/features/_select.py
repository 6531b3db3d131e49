"""The rows of a feature file that belong to a list of track ids."""

import numpy as np

from ..utils import align_ids


def select_features(X, meta, track_ids, *, skip_missing=False, what="tracks", where="the features",
                    hint=None):
    """The features of ``track_ids``, in their order, from a loaded feature file.

    Rows whose audio could not be decoded (the index's ``failed``) are left
    out, and said so in ``failed``.

    Parameters
    ----------
    X : array-like of shape (n_tracks, 1, n_mels, n_frames) or RaggedSpectrograms
        The features, as :func:`load_features` returns them.
    meta : dict
        Their index, as :func:`load_features` returns it (``ids``, ``failed``).
    track_ids : sequence of str
        The wanted tracks, e.g. those of a labels file.
    skip_missing : bool, default=False
        Whether tracks absent from the features are left out rather than an error.
    what : str, default="tracks"
        What ``track_ids`` are, for messages.
    where : str, default="the features"
        The feature file's name, for messages.
    hint : str, default=None
        Advice appended to the message about missing tracks.

    Returns
    -------
    X_selected : array-like of shape (n_kept, ...)
        ``X`` itself when every row is kept in order (a memmap stays one,
        no copy); a subset of whole tracks without copying the frames;
        else the selected rows copied into memory. No rows when every
        wanted track failed to decode.
    ids : list of str of length n_kept
        Their track ids.
    keep : ndarray of shape (n_kept,), dtype intp
        Their indices into ``track_ids``.
    failed : list of str
        The wanted tracks left out because their audio failed to decode.

    Raises
    ------
    ValueError
        When tracks are absent and not ``skip_missing`` (counting and naming
        them), or none is present.

    Examples
    --------
    >>> import numpy as np
    >>> from sktags.features import select_features
    >>> X = np.arange(3.0).reshape(3, 1, 1, 1)
    >>> meta = {"ids": ["a", "b", "c"], "failed": [1]}
    >>> Xs, ids, keep, failed = select_features(X, meta, ["c", "b", "a"])
    >>> Xs.ravel().tolist(), ids, keep.tolist(), failed
    ([2.0, 0.0], ['c', 'a'], [0, 2], ['b'])
    """
    ids = meta["ids"]
    keep, pos = align_ids(track_ids, ids, what=what, where=where, skip_missing=skip_missing,
                          hint=hint)
    bad = np.isin(pos, meta["failed"])
    failed = [ids[i] for i in pos[bad]]
    pos, keep = pos[~bad], keep[~bad]
    if len(pos) == len(X) and np.all(pos == np.arange(len(X))):
        return X, list(ids), keep, failed  # the memmap itself: no copy
    if hasattr(X, "lengths"):  # whole tracks: a subset over the same frames, no copy
        return X[pos], [ids[i] for i in pos], keep, failed
    # A subset or another order: this copies the selected rows into memory.
    return np.asarray(X[pos]), [ids[i] for i in pos], keep, failed
