"""One reader for the released-CSV family: labels, counts, groups and id lists.

The released dataset's files, the authors' companion files and the files
given to the command line share one dialect: UTF-8 (a byte-order mark is
allowed, ``.gz`` is decompressed), comma-separated with the ``csv`` module's
quoting, a header row, the track id in the first column, blank lines
ignored. Every problem is a one-line :class:`ValueError` naming the file,
and the line and column at fault (a missing file is a
:class:`FileNotFoundError`).
"""

import csv
import gzip
import itertools
import os

import numpy as np

from ._messages import first_line

__all__ = ["read_csv_table", "read_id_matrix", "read_id_column"]


def _show(text):
    """``text`` as is when it prints on one line, else its repr."""
    return text if text and text.isprintable() else repr(text)


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_csv_table(path, *, what="CSV", source=None, header=True):
    """Header and data rows of a CSV file of the released family.

    Parameters
    ----------
    path : str or os.PathLike
        The file; ``.gz`` files are decompressed.
    what : str, default="CSV"
        What the file holds ("labels", "counts", ...), used in messages.
    source : str, default=None
        How messages name the file; ``"<what> file '<path>'"`` when None.
    header : bool, default=True
        Whether the first non-blank line is a header (checked). When False,
        every non-blank line is returned as a row and ``header`` is None.

    Returns
    -------
    header : list of str or None
        The header's cells, stripped; every one non-empty and unique.
    rows : list of (int, list of str)
        ``(line number, cells)`` of each non-blank data row, cells as written.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        When it is a folder, not UTF-8 text or not CSV, has no header, or its
        first line looks like data rather than a header.

    Examples
    --------
    >>> import os, tempfile
    >>> from sktags.utils._csv import read_csv_table
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "groups.csv")
    ...     with open(path, "w") as f:
    ...         _ = f.write("song_id,artist_id\\n7,3\\n\\n8,3\\n")
    ...     read_csv_table(path, what="groups")
    (['song_id', 'artist_id'], [(2, ['7', '3']), (4, ['8', '3'])])
    """
    path = os.fspath(path)
    source = source or f"{what} file {path!r}"
    if os.path.isdir(path):
        raise ValueError(f"{source} is a folder; expected a CSV file")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{source} not found")
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
    except (UnicodeDecodeError, csv.Error, EOFError, gzip.BadGzipFile) as exc:
        message = first_line(exc)
        raise ValueError(f"{source} is not a readable CSV file: {message}") from None
    numbered = [
        (n, r) for n, r in enumerate(rows, start=1)
        if r and (r[0].strip() or any(c.strip() for c in r))
    ]
    if not header:
        return None, numbered
    if not numbered:
        raise ValueError(f"{source} is empty; it needs a header row and data rows")
    lineno, header = numbered[0]
    header = [h.strip() for h in header]
    if all(_is_number(h) for h in header[1:]) and len(header) > 1:
        raise ValueError(
            f"{source}: line {lineno} looks like data, not a header "
            f"({_show(','.join(header[:4]))}{',...' if len(header) > 4 else ''}); "
            "add a header row naming the columns "
            "(track id, then the column names)"
        )
    for j, name in enumerate(header):
        if not name:
            raise ValueError(f"{source}: column {j + 1} of the header has no name")
        if name in header[:j]:
            raise ValueError(f"{source}: duplicate column {name!r} in the header")
    return header, numbered[1:]


def _check_id_column(header, id_column, source):
    if id_column is not None and header[0] != id_column:
        raise ValueError(
            f"{source}: the first column must be {id_column!r}, got header {header!r}"
        )


def check_ids(rows, source, id_name):
    ids, first = [], {}
    for lineno, row in rows:
        track = row[0].strip()
        if not track:
            raise ValueError(f"{source}, line {lineno}: empty {_show(id_name)}")
        if track in first:
            raise ValueError(
                f"{source}, line {lineno}: duplicated {_show(id_name)} {track!r} "
                f"(first on line {first[track]})"
            )
        first[track] = lineno
        ids.append(track)
    return ids


def read_id_matrix(path, *, kind="labels", integer=False, what=None, source=None, id_column=None):
    """Read a track id column and one numeric column per context.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file (see :func:`read_csv_table`).
    kind : {"labels", "counts"}, default="labels"
        Labels must be 0 or 1; counts finite and non-negative.
    integer : bool, default=False
        Whether values must be written as integers (``"1"``, not ``"1.0"``).
    what, source : str, default=None
        How messages name the file (``what`` defaults to ``kind``).
    id_column : str, default=None
        When given, the required name of the first column.

    Returns
    -------
    ids : list of str
        Track ids (stripped), unique, in file order.
    names : list of str
        The context columns of the header.
    values : ndarray of shape (n_rows, n_columns), dtype float64

    Raises
    ------
    FileNotFoundError, ValueError
        One line naming the file, line and column at fault.

    Examples
    --------
    >>> import os, tempfile
    >>> from sktags.utils._csv import read_id_matrix
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "labels.csv")
    ...     with open(path, "w") as f:
    ...         _ = f.write("song_id,club,sad\\n7,1,0\\n8,0,1\\n")
    ...     ids, names, Y = read_id_matrix(path)
    >>> ids, names, Y.tolist()
    (['7', '8'], ['club', 'sad'], [[1.0, 0.0], [0.0, 1.0]])
    """
    if kind not in ("labels", "counts"):
        raise ValueError(f"kind must be 'labels' or 'counts', got {kind!r}")
    what = what or kind
    source = source or f"{what} file {os.fspath(path)!r}"
    header, rows = read_csv_table(path, what=what, source=source)
    _check_id_column(header, id_column, source)
    if len(header) < 2:
        raise ValueError(
            f"{source}: expected a track id column and one column per context, "
            f"got header {header!r}"
        )
    if not rows:
        raise ValueError(f"{source} has no data rows")
    for lineno, row in rows:
        if len(row) != len(header):
            raise ValueError(
                f"{source}, line {lineno} has {len(row)} fields, the header has {len(header)}"
            )
    ids = check_ids(rows, source, header[0])
    names = header[1:]
    cells = itertools.chain.from_iterable(row[1:] for _, row in rows)
    expected = "0 or 1" if kind == "labels" else (
        "a non-negative integer" if integer else "a non-negative number")
    try:
        values = np.fromiter(
            map(int if integer else float, cells), dtype=np.float64, count=len(rows) * len(names)
        ).reshape(len(rows), len(names))
    except (ValueError, OverflowError):
        values = None
    if values is None:
        for (lineno, row) in rows:
            for name, cell in zip(names, row[1:]):
                try:
                    int(cell) if integer else float(cell)
                except (ValueError, OverflowError):
                    raise ValueError(
                        f"{source}: could not parse the {kind} as "
                        f"{'integers' if integer else 'numbers'}: {cell.strip()!r} at line "
                        f"{lineno}, column {name!r} (expected {expected})"
                    ) from None
        raise ValueError(f"{source}: could not parse the {kind}")  # pragma: no cover
    if kind == "labels":
        bad = (values != 0) & (values != 1)
    else:
        bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        lineno, row = rows[i]
        raise ValueError(
            f"{source}, line {lineno}: invalid {kind} value {_show(row[j + 1].strip())} for "
            f"{_show(header[0])} {_show(ids[i])} (column {names[j]!r}; expected {expected})"
        )
    return ids, names, values


def read_id_column(path, column=None, *, what="groups", source=None, default_column=None):
    """Read a track id -> value table (e.g. the artist of each track).

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file (see :func:`read_csv_table`).
    column : str, default=None
        The value column; when None, ``default_column`` if the header has it,
        else the second column.
    what, source : str, default=None
        How messages name the file.
    default_column : str, default=None
        Preferred column when ``column`` is None.

    Returns
    -------
    table : dict of str to str
        Track id -> value (stripped), in file order. A track listed twice is
        a ``ValueError`` naming it and both lines.

    Examples
    --------
    >>> import os, tempfile
    >>> from sktags.utils._csv import read_id_column
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "groups.csv")
    ...     with open(path, "w") as f:
    ...         _ = f.write("song_id,label,artist_id\\n7,x,3\\n8,y,4\\n")
    ...     read_id_column(path, default_column="artist_id")
    {'7': '3', '8': '4'}
    """
    source = source or f"{what} file {os.fspath(path)!r}"
    header, rows = read_csv_table(path, what=what, source=source)
    if len(header) < 2:
        raise ValueError(f"{source} needs a header with at least two columns, got {header!r}")
    if column is None:
        column = default_column if default_column in header else header[1]
    if column not in header[1:]:
        raise ValueError(f"{source} has no column {column!r}; it has {header}")
    j = header.index(column)
    for lineno, row in rows:
        if len(row) <= j:
            raise ValueError(f"{source}, line {lineno}: missing column {column!r}")
    ids = check_ids(rows, source, header[0])
    return {track: row[j].strip() for track, (_, row) in zip(ids, rows)}
