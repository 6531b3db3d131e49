"""Context labels of tracks from the titles of the playlists holding them (section 3.1)."""

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.utils import Bunch

from .._contexts import CONTEXTS
from ._keywords import _as_text, match_keywords

__all__ = ["label_tracks_from_playlists"]


def _column(table, name, what, position):
    """Column ``name`` of a mapping / structured array / tuple of arrays."""
    if isinstance(table, (tuple, list)):
        try:
            col = table[position]
        except IndexError:
            raise ValueError(
                f"{what} given as a sequence must hold {position + 1}+ arrays "
                f"(missing {name!r})."
            ) from None
    else:
        try:
            col = table[name]
        except (KeyError, ValueError, IndexError, TypeError):
            raise ValueError(f"{what} has no column {name!r}.") from None
    col = np.asarray(col)
    if col.ndim != 1:
        raise ValueError(f"{what}[{name!r}] must be 1-D, got shape {col.shape}.")
    return col


def _id_column(table, name, what, position):
    col = _column(table, name, what, position)
    if col.dtype == object:
        try:
            col = col.astype(np.int64)
        except (TypeError, ValueError):
            # Not all integers: string ids, unless some are missing (None, NaN),
            # which must not become the string "None" or "nan".
            missing = [i for i, v in enumerate(col) if _as_text(v) is None]
            if missing:
                raise ValueError(
                    f"{what}[{name!r}] has a missing id (None or NaN) at row {missing[0]}"
                    f" ({len(missing)} in all)."
                ) from None
            col = col.astype(str)
    if col.dtype.kind not in "iuU":
        raise ValueError(
            f"{what}[{name!r}] must hold integer (or string) ids, got dtype {col.dtype}."
        )
    return col


def _codes(values, n_other):
    """Integer codes of ``values`` for composite sort keys.

    Returns ``(codes, n_codes, decode)``: int64 codes in ``[0, n_codes)``,
    equal exactly when the values are, and ``decode(codes) -> values``. For
    integer ids the code is the offset from the smallest id (no sort needed)
    as long as ``n_codes * n_other`` fits in int64; otherwise the values are
    factorised with ``np.unique``.
    """
    if values.dtype.kind in "iu" and values.size:
        lo, hi = int(values.min()), int(values.max())
        n = hi - lo + 1
        if hi < 2**63 and n * max(n_other, 1) < 2**62:
            return values.astype(np.int64) - lo, n, lambda c: (c + lo).astype(values.dtype)
    if values.size == 0:
        return np.zeros(0, dtype=np.int64), 1, lambda c: values[:0]
    uniques, inverse = np.unique(values, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64), uniques.size, lambda c: uniques[c]


def _group_max_share(group, codes, n_codes, sizes):
    """Per group, the largest number of rows sharing one code, over ``sizes``.

    Rows must already be unique per (group, item), so that counting (group,
    code) pairs counts distinct items. A sparse (group x code) count matrix
    (SciPy sums the repeated pairs) is cheaper than sorting composite keys.
    """
    n_groups = sizes.shape[0]
    if group.size == 0:
        return np.zeros(n_groups)
    pairs = sp.csr_matrix(
        (np.ones(group.size, dtype=np.int32), (group, codes)), shape=(n_groups, n_codes)
    )
    best = pairs.max(axis=1).toarray().ravel()
    return best / np.maximum(sizes, 1)


def _check_params(max_tracks, max_share, min_playlists):
    if max_tracks is not None and (
        not isinstance(max_tracks, numbers.Integral) or isinstance(max_tracks, bool) or max_tracks < 1
    ):
        raise ValueError(f"max_tracks must be a positive integer or None, got {max_tracks!r}.")
    if max_share is not None and (
        not isinstance(max_share, numbers.Real)
        or isinstance(max_share, bool)
        or not 0 < max_share <= 1
    ):
        raise ValueError(f"max_share must be in (0, 1] or None, got {max_share!r}.")
    if not isinstance(min_playlists, numbers.Integral) or isinstance(min_playlists, bool) or min_playlists < 1:
        raise ValueError(f"min_playlists must be a positive integer, got {min_playlists!r}.")


def label_tracks_from_playlists(
    playlists,
    memberships,
    *,
    keywords=None,
    max_tracks=100,
    max_share=0.25,
    min_playlists=3,
    word_boundaries="unicode",
):
    """Label tracks with contexts from the titles of the playlists holding them.

    The procedure of section 3.1 of Ibrahim et al. (ICASSP 2020):

    1. find the keywords in each playlist title (:func:`match_keywords`);
    2. drop the playlists with more than ``max_tracks`` tracks, and those
       where a single artist or a single album makes up more than
       ``max_share`` of the tracks;
    3. count, for each track i and keyword c, the kept playlists n_{i,c}
       whose title holds c and that contain track i;
    4. label track i with c when ``n_{i,c} >= min_playlists``.

    Parameters
    ----------
    playlists : mapping, structured array or tuple
        The playlists table: columns ``"playlist_id"`` (unique ids) and
        ``"title"``, each 1-D of length n_playlists. Anything indexable by
        column name works (a dict of arrays, a :class:`~sklearn.utils.Bunch`,
        a NumPy structured array, a pandas DataFrame), or a tuple
        ``(playlist_ids, titles)``.
    memberships : mapping, structured array or tuple
        The membership table, one row per (playlist, track): columns
        ``"playlist_id"``, ``"track_id"``, ``"artist_id"`` and ``"album_id"``,
        1-D integer (or string) arrays of equal length, or a tuple of the four
        arrays in that order. A track listed twice in a playlist counts once
        (with the artist and album of its first row).
        Rows of playlists that are absent from ``playlists`` or whose title
        holds no keyword are ignored. Unknown artists or albums should have
        distinct ids: rows sharing an id count as the same artist or album.
    keywords : sequence of str or None, default=None
        The contexts; default the paper's 15 (``sktags.CONTEXTS``).
    max_tracks : int or None, default=100
        Playlists with more distinct tracks are dropped. None: no limit.
    max_share : float in (0, 1] or None, default=0.25
        Playlists where one artist, or one album, has a share of the tracks
        strictly greater than this are dropped. None: no limit. With 0.25 a
        playlist needs at least 4 tracks (and 4 artists and 4 albums) to be
        kept.
    min_playlists : int, default=3
        A track is labelled with c when at least this many kept playlists
        matching c contain it. The released data follows "at least 3" (its
        smallest positive count is 3), the default; the paper's text says
        "more than 3", which is ``min_playlists=4``.
    word_boundaries : {"unicode", "ascii"}, default="unicode"
        Passed to :func:`match_keywords`.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        With attributes:

        track_ids : ndarray of shape (n_tracks,)
            Every track found in at least one kept playlist, sorted.
        counts : ndarray of shape (n_tracks, n_keywords), dtype int64
            The playlist counts n_{i,c}.
        labels : ndarray of shape (n_tracks, n_keywords), dtype uint8
            ``counts >= min_playlists``. Rows may be all zero.
        target_names : list of str
            The keywords, one per column.
        kept_playlist_ids : ndarray of shape (n_kept,)
            Ids of the playlists that passed the filters, sorted.
        playlists : :class:`~sklearn.utils.Bunch`
            One entry per candidate playlist (title holds a keyword), sorted
            by id: ``playlist_id``, ``matches`` (n_candidates, n_keywords)
            bool, ``n_tracks`` (distinct tracks found in ``memberships``),
            ``artist_share`` and ``album_share`` (largest share of one artist
            or album), and ``kept`` (bool).

    Raises
    ------
    ValueError
        On a missing column, duplicated playlist ids, columns of unequal
        lengths or invalid parameters; the message names the culprit.

    Notes
    -----
    Vectorised with NumPy and SciPy: a binary search and one sort of the
    membership rows of candidate playlists (a stable argsort too when some
    (playlist, track) rows repeat), two sparse count matrices for the
    artist and album shares, then a sparse product for the counts. See ``benchmarks/bench_playlists.py`` for timings on 10 million
    rows.

    Examples
    --------
    Four playlists of the same four tracks (four artists). In the "Gym"
    playlist two of the four tracks come from one album, a share of
    0.5 > 0.25, so that playlist is dropped.

    >>> import numpy as np
    >>> from sktags.datasets import label_tracks_from_playlists
    >>> playlists = {"playlist_id": [1, 2, 3, 4],
    ...              "title": ["Dance party", "dance!!", "DANCE hits", "Gym"]}
    >>> pl = np.repeat([1, 2, 3, 4], 4)
    >>> tracks = np.array([10, 11, 12, 13] * 4)
    >>> memberships = {"playlist_id": pl, "track_id": tracks,
    ...                "artist_id": tracks + 100,
    ...                "album_id": np.r_[tracks[:12] + 200, [201, 201, 202, 203]]}
    >>> out = label_tracks_from_playlists(playlists, memberships,
    ...                                   keywords=["dance", "party", "gym"])
    >>> out.track_ids
    array([10, 11, 12, 13])
    >>> out.counts[0]
    array([3, 1, 0])
    >>> out.labels[0]
    array([1, 0, 0], dtype=uint8)
    >>> out.kept_playlist_ids
    array([1, 2, 3])
    """
    _check_params(max_tracks, max_share, min_playlists)
    pid = _id_column(playlists, "playlist_id", "playlists", 0)
    titles = _column(playlists, "title", "playlists", 1)
    if titles.shape[0] != pid.shape[0]:
        raise ValueError(
            f"playlists: 'playlist_id' has {pid.shape[0]} rows but 'title' has {titles.shape[0]}."
        )
    columns = ("playlist_id", "track_id", "artist_id", "album_id")
    m_pl, m_tr, m_ar, m_al = (
        _id_column(memberships, name, "memberships", i) for i, name in enumerate(columns)
    )
    lengths = {name: c.shape[0] for name, c in zip(columns, (m_pl, m_tr, m_ar, m_al))}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"memberships columns have unequal lengths: {lengths}.")

    order = np.argsort(pid, kind="stable")
    pid_sorted = pid[order]
    dup = pid_sorted[1:] == pid_sorted[:-1]
    if dup.any():
        raise ValueError(f"playlists: duplicated playlist_id {pid_sorted[1:][dup][0].item()!r}.")

    matches = match_keywords(titles[order], keywords, word_boundaries=word_boundaries)
    target_names = list(CONTEXTS) if keywords is None else [str(k) for k in keywords]
    candidate = matches.any(axis=1)
    cand_ids = pid_sorted[candidate]
    cand_matches = matches[candidate]
    n_cand, n_kw = cand_matches.shape

    # Membership rows of candidate playlists, as a candidate row number.
    if n_cand:
        prow = np.searchsorted(cand_ids, m_pl)
        np.minimum(prow, n_cand - 1, out=prow)
        rows = np.flatnonzero(cand_ids[prow] == m_pl)
        prow = prow[rows]
    else:
        rows = prow = np.zeros(0, dtype=np.intp)

    # Sort by (track, playlist): repeated (playlist, track) rows become
    # neighbours, and the tracks come out grouped, ready for the counts.
    t_codes, n_t, decode_tracks = _codes(m_tr[rows], max(n_cand, 1))
    key = t_codes * max(n_cand, 1) + prow
    del t_codes
    sorted_key = np.sort(key)
    repeated = sorted_key[1:] == sorted_key[:-1]
    if repeated.any():
        # Keep the first of the repeated rows, in input order (stable sort).
        order = np.argsort(key, kind="stable")
        first = np.r_[True, ~repeated]
        order = order[first]
        sorted_key = sorted_key[first]
        prow = prow[order]
        rows = rows[order]
        del order, first
    del key, repeated
    key = sorted_key

    sizes = np.bincount(prow, minlength=n_cand)
    kept = sizes > 0
    if max_tracks is not None:
        kept &= sizes <= max_tracks
    shares = []
    for ids in (m_ar, m_al):
        codes, n_codes, _ = _codes(ids[rows], max(n_cand, 1))
        shares.append(_group_max_share(prow, codes, n_codes, sizes))
    artist_share, album_share = shares
    del rows
    if max_share is not None:
        kept &= (artist_share <= max_share) & (album_share <= max_share)

    # Counts: (tracks x kept playlists) incidence matrix times the matches.
    del prow  # in input order when nothing was repeated: read it back from the key
    prow, t_sorted = np.divmod(key, max(n_cand, 1))[::-1]
    in_kept = kept[prow]
    prow, t_sorted = prow[in_kept], t_sorted[in_kept]
    del key, in_kept
    new_track = np.ones(t_sorted.size, dtype=bool)
    np.not_equal(t_sorted[1:], t_sorted[:-1], out=new_track[1:])
    track_ids = decode_tracks(t_sorted[new_track])
    n_out = track_ids.shape[0]
    indptr = np.r_[np.flatnonzero(new_track), t_sorted.size]
    incidence = sp.csr_matrix(
        (np.ones(prow.size, dtype=np.int64), prow, indptr), shape=(n_out, n_cand)
    )
    counts = np.asarray(incidence @ cand_matches.astype(np.int64), dtype=np.int64)
    counts = counts.reshape(n_out, n_kw)
    labels = (counts >= min_playlists).astype(np.uint8)

    report = Bunch(
        playlist_id=cand_ids,
        matches=cand_matches,
        n_tracks=sizes,
        artist_share=artist_share,
        album_share=album_share,
        kept=kept,
    )
    return Bunch(
        track_ids=track_ids,
        counts=counts,
        labels=labels,
        target_names=target_names,
        kept_playlist_ids=cand_ids[kept],
        playlists=report,
    )
