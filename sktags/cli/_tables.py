"""The command line's CSV tables: labels, counts, groups and id lists.

Parsing is the library's (:mod:`sktags.utils._csv`, also used by
:mod:`sktags.datasets`); this module turns its errors into one-line
:class:`CLIError` messages and checks what a command needs of the tables.
"""

import sys
from pathlib import Path

import numpy as np

from ..utils import read_csv_table, read_id_column, read_id_matrix
from ._errors import CLIError


def _call(reader, path, what, *args, **kwargs):
    try:
        return reader(path, *args, what=what, source=f"{what} file {str(path)!r}", **kwargs)
    except FileNotFoundError:
        raise CLIError(f"{what} file not found: {str(path)!r}") from None
    except ValueError as exc:
        raise CLIError(str(exc)) from None


def read_csv_rows(path, what, *, kind="CSV"):
    """All non-blank rows of a CSV file (no header check), as lists of cells."""
    _, rows = _call(read_csv_table, Path(path), what, header=False)
    return [row for _, row in rows]


def read_matrix_csv(path, *, what="labels", binary=True):
    """Read a table in the released dataset's format.

    The first column is the track id; every other column is one context, with
    0/1 values (``binary=True``) or non-negative counts.

    Returns
    -------
    ids : list of str
    names : list of str
    values : ndarray of shape (n_rows, n_columns)
        uint8 for labels, float64 for counts.
    """
    kind = "labels" if binary else "counts"
    ids, names, values = _call(read_id_matrix, Path(path), what, kind=kind)
    return ids, names, values.astype(np.uint8 if binary else np.float64)


def read_groups_csv(path, column=None):
    """Read a track id -> group (e.g. artist id) table.

    The first column is the track id. The group is ``column`` when given, else
    a column named ``artist_id`` when present, else the second column. A
    track listed twice is an error naming it and both lines.
    """
    return _call(read_id_column, Path(path), "groups", column, default_column="artist_id")


def align(wanted, available, *, what, where, skip_missing=False, hint=None):
    """Positions of ``wanted`` ids in ``available``.

    Returns ``(keep, positions)``: the indices into ``wanted`` that were found
    and their positions in ``available``. Missing ids raise :class:`CLIError`
    (ending with ``hint``, by default the ``--skip-missing`` advice) unless
    ``skip_missing``.
    """
    index = {k: i for i, k in enumerate(available)}
    keep = [i for i, k in enumerate(wanted) if k in index]
    missing = [k for k in wanted if k not in index]
    if missing and not skip_missing:
        shown = ", ".join(repr(m) for m in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        hint = hint or "pass --skip-missing to use only the matched ones"
        raise CLIError(
            f"{len(missing)} of {len(wanted)} {what} have no match in {where} "
            f"({shown}{more}); {hint}"
        )
    if not keep:
        raise CLIError(f"none of the {what} match {where}")
    return np.asarray(keep, dtype=np.intp), np.asarray(
        [index[wanted[i]] for i in keep], dtype=np.intp
    )


def check_training_labels(Y, names, source):
    """Refuse labels with no positive at all; warn (stderr) about contexts without one."""
    Y = np.asarray(Y)
    if Y.size == 0 or not Y.any():
        raise CLIError(
            f"labels file {str(source)!r}: no track has any context (every label of the "
            "training tracks is 0); nothing can be learnt"
        )
    empty = [n for n, s in zip(names, Y.sum(axis=0)) if s == 0]
    if empty:
        print(
            f"warning: no training track has the context(s) {', '.join(map(repr, empty))} "
            f"in {str(source)!r}; the model cannot learn them",
            file=sys.stderr,
        )
    return empty
