"""The authors' iterative capped balancing (section 3.2 of the paper)."""

import numbers

import numpy as np
from sklearn.utils import check_random_state

from ..utils import check_label_matrix

__all__ = ["balance_labels"]


def balance_labels(Y, *, cap=20000, random_state=None):
    """Select a label-balanced subset of tracks, as the authors did.

    The iterative capped algorithm of section 3.2 of Ibrahim et al.
    (ICASSP 2020), as run in the authors' code:

    1. every track starts in the pool; contexts are sorted by their number
       of positive tracks in the pool, ascending (ties keep column order);
    2. for each context c in that order, draw at random, without
       replacement, ``cap`` minus the number of already selected tracks
       carrying c, among the pool tracks carrying c (all of them when there
       are fewer; none when the context is already at or above ``cap``);
       then remove every remaining pool track carrying c from the pool.

    Because tracks carry several labels, a context visited late may end up
    above ``cap`` (its positives come along with earlier contexts): the cap
    bounds what is *drawn* for each context, not its final count.

    Parameters
    ----------
    Y : array-like of shape (n_tracks, n_labels)
        Binary label matrix (0/1 or bool), e.g. the output of
        :func:`label_tracks_from_playlists`.
    cap : int, default=20000
        Target number of positives per context; the paper's 20,000 was the
        size of its least frequent context.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws; an int gives the same selection on every call.

    Returns
    -------
    indices : ndarray of shape (n_selected,), dtype intp
        Sorted row indices of the selected tracks. Tracks without any label
        are never selected.

    Raises
    ------
    ValueError
        If ``Y`` is not a binary matrix or ``cap`` is not a positive integer.

    Examples
    --------
    Context 1 is the rarest (2 tracks), so it is handled first: both its
    tracks are drawn (the cap is 3), and track 2 counts towards context 0
    too. Context 0 then needs two more tracks, drawn from rows 0, 1, 3 and 4.

    >>> import numpy as np
    >>> from sktags.datasets import balance_labels
    >>> Y = np.array([[1, 0], [1, 0], [1, 1], [1, 0], [1, 0], [0, 1]])
    >>> idx = balance_labels(Y, cap=3, random_state=0)
    >>> len(idx), 2 in idx, 5 in idx
    (4, True, True)
    >>> Y[idx].sum(axis=0)
    array([3, 2])
    """
    Y = check_label_matrix(Y, name="Y")
    if not isinstance(cap, numbers.Integral) or isinstance(cap, bool) or cap < 1:
        raise ValueError(f"cap must be a positive integer, got {cap!r}.")
    rng = check_random_state(random_state)
    Yb = Y.astype(bool)
    n, m = Yb.shape
    in_pool = np.ones(n, dtype=bool)
    selected = np.zeros(n, dtype=bool)
    order = np.argsort(Yb.sum(axis=0), kind="stable")
    for c in order:
        have = int(np.count_nonzero(selected & Yb[:, c]))
        need = cap - have
        candidates = np.flatnonzero(in_pool & Yb[:, c])
        if need > 0 and candidates.size:
            if candidates.size > need:
                candidates = rng.choice(candidates, size=need, replace=False)
            selected[candidates] = True
        in_pool &= ~Yb[:, c]
    return np.flatnonzero(selected)
