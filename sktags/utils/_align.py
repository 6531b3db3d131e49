"""Matching one list of track ids against another."""

import numpy as np


def align_ids(wanted, available, *, what, where, skip_missing=False, hint=None):
    """Positions of the ``wanted`` ids in ``available``.

    Parameters
    ----------
    wanted : sequence of str
        The ids to find, e.g. the tracks of a labels file.
    available : sequence of str
        The ids to find them in, e.g. a feature file's.
    what : str
        What ``wanted`` are, for messages (``"labelled tracks"``).
    where : str
        What ``available`` belongs to, for messages (a file name).
    skip_missing : bool, default=False
        Whether ids missing from ``available`` are left out rather than an error.
    hint : str, default=None
        Advice appended to the message about missing ids.

    Returns
    -------
    keep : ndarray of shape (n_found,), dtype intp
        The indices into ``wanted`` of the ids found, in order.
    positions : ndarray of shape (n_found,), dtype intp
        Their positions in ``available``.

    Raises
    ------
    ValueError
        One line counting and naming (the first three) missing ids unless
        ``skip_missing``; also when no id is found.

    Examples
    --------
    >>> from sktags.utils import align_ids
    >>> keep, pos = align_ids(["b", "x", "a"], ["a", "b"], what="ids", where="t",
    ...                       skip_missing=True)
    >>> keep.tolist(), pos.tolist()
    ([0, 2], [1, 0])
    """
    index = {k: i for i, k in enumerate(available)}
    keep = [i for i, k in enumerate(wanted) if k in index]
    missing = [k for k in wanted if k not in index]
    if missing and not skip_missing:
        shown = ", ".join(repr(m) for m in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise ValueError(
            f"{len(missing)} of {len(wanted)} {what} have no match in {where} "
            f"({shown}{more})" + (f"; {hint}" if hint else "")
        )
    if not keep:
        raise ValueError(f"none of the {what} match {where}")
    return np.asarray(keep, dtype=np.intp), np.asarray(
        [index[wanted[i]] for i in keep], dtype=np.intp
    )
