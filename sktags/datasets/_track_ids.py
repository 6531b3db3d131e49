"""Lists of Deezer track ids, as ``sktags fetch-previews --ids`` reads them."""

from ..utils import read_csv_table


def read_track_ids(path, *, what="ids", source=None):
    """Deezer track ids from a CSV file (the first column) or a one-per-line text file.

    Blank lines and rows whose first cell is empty are skipped; the first of
    the others may be a header (any cell that is not an integer).

    Parameters
    ----------
    path : str or os.PathLike
        The file; ``.gz`` files are decompressed.
    what : str, default="ids"
        What the file holds, used in messages.
    source : str, default=None
        How messages name the file; ``"ids file '<path>'"`` when None.

    Returns
    -------
    ids : list of int
        The track ids, in the file's order.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        When the file is not CSV text, a cell after the first is not a track
        id (naming it and its row among the non-blank ones), or it holds no
        track id.

    Examples
    --------
    >>> import os, tempfile
    >>> from sktags.datasets import read_track_ids
    >>> path = os.path.join(tempfile.mkdtemp(), "ids.csv")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write("track_id,title\\n3135556,Harder\\n\\n916424,Without\\n")
    >>> read_track_ids(path)
    [3135556, 916424]
    """
    source = source or f"ids file {str(path)!r}"
    _, rows = read_csv_table(path, what=what, source=source, header=False)
    cells = [row[0].strip() for _, row in rows if row and row[0].strip()]
    ids = []
    for number, cell in enumerate(cells, start=1):
        if not cell.isdigit():
            if number == 1:  # a header
                continue
            raise ValueError(f"{source}, line {number}: {cell!r} is not a track id")
        ids.append(int(cell))
    if not ids:
        raise ValueError(f"{source} holds no track ids")
    return ids
