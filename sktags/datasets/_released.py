"""The released context-tags dataset (Zenodo record 3648287)."""

import os
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .._contexts import CONTEXTS
from ..utils import check_ids, read_csv_table, read_id_matrix
from ._download import DownloadError, cached_download

__all__ = ["load_context_tags", "get_data_home", "ZENODO_URL"]

#: Where ``load_context_tags(download=True)`` fetches the label file from.
#: Tests point it at a loopback server; a mirror can be set the same way.
ZENODO_URL = "https://zenodo.org/records/3648287/files/Context_tags_dataset.csv"
FILENAME = "Context_tags_dataset.csv"
#: MD5 of the released file (49,929 tracks, 1,952,361 bytes).
FILE_MD5 = "974e75920696c54f0f5ee887fe6eda15"
FILE_SIZE = 1952361
N_TRACKS = 49929
_DOWNLOAD_BACKOFF = 0.5  # seconds; tests set it to 0

_BUNDLED = Path(__file__).resolve().parent / "data" / (FILENAME + ".gz")

DESCR = """\
Context tags dataset (Deezer, ICASSP 2020)
------------------------------------------

49,929 Deezer tracks, each labelled with one or more of 15 listening contexts:
car, chill, club, dance, gym, happy, night, party, relax, running, sad, sleep,
summer, work, workout. A track carries a context when it appears in at least
3 public Deezer playlists whose title contains the context keyword (after
playlists of more than 100 tracks, or dominated by one artist or album, were
dropped); the dataset was then balanced to about 20,000 tracks per context.
Mean 7.2 labels per track. The audio is not included: 30 s previews can be
fetched from the Deezer API by track id (see ``fetch_deezer_previews``).

Source: Zenodo record 3648287, https://doi.org/10.5281/zenodo.3648287
(file ``Context_tags_dataset.csv``).

Reference: Karim M. Ibrahim, Jimena Royo-Letelier, Elena V. Epure, Geoffroy
Peeters and Gael Richard, "Audio-based auto-tagging with contextual tags for
music", in Proc. IEEE ICASSP 2020, pp. 16-20.
"""


def get_data_home(data_home=None):
    """Return the folder where downloaded sktags data is cached.

    Parameters
    ----------
    data_home : str, path-like or None, default=None
        Explicit folder. When None, the ``SKTAGS_DATA`` environment variable
        is used, else ``~/sktags_data``. ``~`` is expanded.

    Returns
    -------
    path : pathlib.Path
        The folder (not created).

    Examples
    --------
    >>> from sktags.datasets import get_data_home
    >>> str(get_data_home("/tmp/sktags_cache"))
    '/tmp/sktags_cache'
    """
    if data_home is None:
        data_home = os.environ.get("SKTAGS_DATA", "~/sktags_data")
    return Path(os.path.expanduser(str(data_home)))


def _int_ids(ids, source):
    """Track ids as int64; a non-integer id is a one-line ValueError."""
    try:
        return np.asarray([int(i) for i in ids], dtype=np.int64)
    except (ValueError, OverflowError):
        bad = next(i for i in ids if not _is_int64(i))
        raise ValueError(f"{source}: song_id {bad!r} is not an integer.") from None


def _is_int64(text):
    try:
        np.int64(int(text))
    except (ValueError, OverflowError):
        return False
    return True


def _read_id_matrix(path, source, *, kind):
    """Read ``song_id,<15 context columns>`` into (ids, matrix in CONTEXTS order).

    The same reader as the command line's (:mod:`sktags.utils._csv`), with
    the released files' stricter schema: ``song_id`` first, the 15 contexts,
    integer values.
    """
    ids, names, values = read_id_matrix(
        path, kind=kind, integer=True, source=source, id_column="song_id"
    )
    missing = [c for c in CONTEXTS if c not in names]
    extra = [c for c in names if c not in CONTEXTS]
    if missing or extra or len(names) != len(CONTEXTS):
        raise ValueError(
            f"{source}: expected the 15 context columns {list(CONTEXTS)}, "
            f"got {names} (missing {missing}, unexpected {extra})."
        )
    order = [names.index(c) for c in CONTEXTS]
    return _int_ids(ids, source), values[:, order].astype(np.int64)


def _align(ids, other_ids, source):
    """Row of ``other_ids`` for each of ``ids`` (-1 when absent)."""
    order = np.argsort(other_ids, kind="stable")
    pos = np.searchsorted(other_ids, ids, sorter=order)
    pos = np.minimum(pos, len(other_ids) - 1)
    rows = order[pos]
    found = other_ids[rows] == ids
    return np.where(found, rows, -1)


def _read_artists(path, track_ids):
    """Read a ``ground_truth_folds.csv``-style file: song_id, label, artist_id, fold."""
    source = str(path)
    header, rows = read_csv_table(path, what="artists", source=source)
    if header[0] != "song_id" or "artist_id" not in header:
        raise ValueError(
            f"{source}: expected a header with 'song_id' first and an 'artist_id' column, "
            f"got {header!r}."
        )
    i_artist = header.index("artist_id")
    i_fold = header.index("fold") if "fold" in header else None
    ids, artists, folds = [], [], []
    for lineno, row in rows:
        try:
            ids.append(int(row[0]))
            artists.append(int(row[i_artist]))
            folds.append(int(row[i_fold]) if i_fold is not None else -1)
        except (ValueError, IndexError):
            raise ValueError(f"{source}, line {lineno}: could not parse {row!r}.") from None
    check_ids(rows, source, "song_id")
    ids = np.asarray(ids, dtype=np.int64)
    rows = _align(track_ids, ids, source)
    found = rows >= 0
    artist_ids = np.full(track_ids.shape, -1, dtype=np.int64)
    fold_arr = np.full(track_ids.shape, -1, dtype=np.int64)
    artist_ids[found] = np.asarray(artists, dtype=np.int64)[rows[found]]
    fold_arr[found] = np.asarray(folds, dtype=np.int64)[rows[found]]
    return artist_ids, fold_arr, i_fold is not None


def _zenodo_file(data_home):
    home = get_data_home(data_home)
    path = home / FILENAME
    # A cached copy is checked (size, then MD5) and downloaded again if it changed.
    try:
        cached_download(ZENODO_URL, path, md5=FILE_MD5, size=FILE_SIZE,
                        backoff=_DOWNLOAD_BACKOFF)
    except DownloadError as exc:
        raise DownloadError(
            exc.url,
            f"{exc.reason}. Are you offline? load_context_tags() without "
            "download=True uses the copy bundled with sktags.",
            retryable=exc.retryable,
        ) from None
    return path


def load_context_tags(
    *, counts_file=None, artists_file=None, data_home=None, download=False, return_X_y=False
):
    """Load the released context-tags dataset of Ibrahim et al. (ICASSP 2020).

    49,929 Deezer track ids with 15 binary context labels, from Zenodo record
    3648287 (https://doi.org/10.5281/zenodo.3648287). By default the copy
    bundled with sktags is read (the same bytes, gzip-compressed), so this
    works offline.

    =================   ==============
    Tracks              49,929
    Contexts (labels)   15
    Labels per track    7.2 on average
    Positives           about 24k per context
    =================   ==============

    Parameters
    ----------
    counts_file : str, path-like or None, default=None
        Optional per-track playlist counts n_{i,c}, in the format of the
        authors' ``balanced_ground_truth_track_count.csv``: a ``song_id``
        column then the 15 context columns (any order), non-negative integers.
        It is aligned on ``song_id``; every released track must be present
        (extra rows are ignored). May be gzip-compressed (``.gz``).
    artists_file : str, path-like or None, default=None
        Optional artist ids, in the format of the authors'
        ``ground_truth_folds.csv``: columns ``song_id``, ``label`` (tab-joined
        context names, ignored), ``artist_id`` and optionally ``fold``.
        Aligned on ``song_id``; tracks absent from the file (1,347 of the
        released ones for the authors' file) get artist id and fold ``-1``.
    data_home : str, path-like or None, default=None
        Cache folder for ``download=True``; see :func:`get_data_home`.
    download : bool, default=False
        If True, read ``Context_tags_dataset.csv`` from ``data_home``, first
        downloading it from Zenodo (atomically, MD5-checked) when absent.
        If False, read the bundled copy.
    return_X_y : bool, default=False
        If True, return ``(track_ids, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        track_ids : ndarray of shape (n_tracks,), dtype int64
            Deezer track ids, in the order of the released file.
        target : ndarray of shape (n_tracks, 15), dtype uint8
            Context labels, columns in ``target_names`` order.
        target_names : list of str
            The 15 contexts (``sktags.CONTEXTS``).
        DESCR : str
            Description of the dataset, with its citation.
        playlist_counts : ndarray of shape (n_tracks, 15), dtype int64
            Only with ``counts_file``: playlist counts aligned with
            ``track_ids``. Real data is messy: a few entries have a label
            but a count of 0, or the reverse.
        artist_ids : ndarray of shape (n_tracks,), dtype int64
            Only with ``artists_file``: artist ids, ``-1`` where unknown.
        folds : ndarray of shape (n_tracks,), dtype int64
            Only with an ``artists_file`` that has a ``fold`` column: the
            authors' fold (0 to 3, fold 0 is their test set), ``-1`` where
            unknown.
    (track_ids, target) : tuple
        When ``return_X_y`` is True.

    Raises
    ------
    ValueError
        When a file is malformed; the message names the file, row and column.
    sktags.datasets.DownloadError
        When ``download=True``, the file is not cached and cannot be fetched
        (for example offline); the message is one line.

    Notes
    -----
    The labelling rule of the released data is "at least 3 playlists"; the
    paper's text says "more than 3". See
    :func:`~sktags.datasets.label_tracks_from_playlists`.

    Examples
    --------
    >>> from sktags.datasets import load_context_tags
    >>> data = load_context_tags()
    >>> data.target.shape
    (49929, 15)
    >>> data.target_names[:3]
    ['car', 'chill', 'club']
    >>> int(data.track_ids[0])
    92310738
    >>> round(float(data.target.sum(axis=1).mean()), 1)
    7.2
    """
    if download:
        path = _zenodo_file(data_home)
        source = str(path)
    else:
        path = _BUNDLED
        source = f"bundled {FILENAME}"
    track_ids, target = _read_id_matrix(path, source, kind="labels")
    target = target.astype(np.uint8)
    if return_X_y:
        return track_ids, target
    bunch = Bunch(
        track_ids=track_ids,
        target=target,
        target_names=list(CONTEXTS),
        DESCR=DESCR,
    )
    if counts_file is not None:
        c_ids, counts = _read_id_matrix(counts_file, str(counts_file), kind="counts")
        rows = _align(track_ids, c_ids, str(counts_file))
        if (rows < 0).any():
            miss = track_ids[rows < 0]
            raise ValueError(
                f"{counts_file}: {miss.size} track(s) of the dataset have no row, "
                f"e.g. song_id {miss[:5].tolist()}."
            )
        bunch.playlist_counts = counts[rows]
    if artists_file is not None:
        artist_ids, folds, has_fold = _read_artists(artists_file, track_ids)
        bunch.artist_ids = artist_ids
        if has_fold:
            bunch.folds = folds
    return bunch
