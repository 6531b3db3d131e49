"""The command line's CSV tables: labels, counts, groups and id lists.

Parsing is the library's (:mod:`sktags.utils._csv`, also used by
:mod:`sktags.datasets`); this module turns its errors into one-line
:class:`CLIError` messages and checks what a command needs of the tables.
"""

import sys
from pathlib import Path

import numpy as np

from ..utils import align_ids, read_id_column, read_id_matrix
from ._errors import CLIError


def _call(reader, path, what, *args, **kwargs):
    try:
        return reader(path, *args, what=what, source=f"{what} file {str(path)!r}", **kwargs)
    except FileNotFoundError:
        raise CLIError(f"{what} file not found: {str(path)!r}") from None
    except ValueError as exc:
        raise CLIError(str(exc)) from None


def read_ids(path):
    """Track ids of a CSV or one-per-line file (:func:`sktags.datasets.read_track_ids`)."""
    from ..datasets import read_track_ids

    return _call(read_track_ids, Path(path), "ids")


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


#: The advice on labelled tracks missing from DATA.
SKIP_MISSING_HINT = "pass --skip-missing to use only the matched ones"


def align(wanted, available, *, what, where, skip_missing=False, hint=None):
    """:func:`sktags.utils.align_ids`, its errors as :class:`CLIError`.

    The advice on missing ids is ``hint``, by default :data:`SKIP_MISSING_HINT`.
    """
    hint = hint or SKIP_MISSING_HINT
    try:
        return align_ids(wanted, available, what=what, where=where,
                         skip_missing=skip_missing, hint=hint)
    except ValueError as exc:
        raise CLIError(str(exc)) from None


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
