"""Result files written one row at a time, that a killed run can resume.

A streamed output (CSV or JSON Lines) is appended to row by row; each row is
flushed to the operating system as soon as it is written and the file is
synced to disk every ``sync_every`` seconds. A killed run therefore leaves
complete rows plus, at worst, one torn last row. :func:`read_done` reads such
a file back, finds the byte length of its complete part and the files it
already holds, so that a resumed run truncates the torn row and appends the
files not yet done: no file is ever written twice.
"""

import csv
import io
import json
import os
import time


def _parse(record, fmt):
    """The fields of one complete CSV record, or the object of one JSON line."""
    text = record.decode("utf-8")
    if fmt == "jsonl":
        obj = json.loads(text)
        if not isinstance(obj, dict) or not isinstance(obj.get("file"), str):
            raise ValueError("not an object with a 'file'")
        return obj
    rows = list(csv.reader(io.StringIO(text)))
    if len(rows) != 1:
        raise ValueError("not one CSV record")
    return rows[0]


def iter_records(path, fmt):
    """Complete records of a streamed output, with the byte offset after each.

    A CSV record may span lines (a quoted field holding a line break): it is
    complete at a line end where its count of quote characters is even. The
    last record is dropped when it has no final line break (torn) or does
    not parse; an unreadable record followed by others is an error.

    Parameters
    ----------
    path : str or os.PathLike
    fmt : {"csv", "jsonl"}

    Yields
    ------
    end : int
        Byte offset just after the record.
    record : list of str (CSV) or dict (JSON Lines)
    """
    offset = 0
    with open(path, "rb") as fh:
        buf = b""
        lineno = 0
        for line in fh:
            lineno += 1
            buf += line
            if not line.endswith(b"\n"):
                return  # torn last record
            if fmt == "csv" and buf.count(b'"') % 2:
                continue  # inside a quoted field
            try:
                record = _parse(buf, fmt)
            except ValueError as exc:  # includes UnicodeDecodeError, JSONDecodeError
                if b"\n" in fh.read():
                    raise ValueError(
                        f"{os.fspath(path)!r}, line {lineno}: not a row of this output "
                        f"({exc}); it cannot be resumed"
                    ) from None
                return
            offset += len(buf)
            buf = b""
            yield offset, record


def read_done(path, fmt, header=None):
    """Files already in a streamed summary output and the length of its complete part.

    Parameters
    ----------
    path : str or os.PathLike
        The output; absent or empty gives nothing done.
    fmt : {"csv", "jsonl"}
    header : list of str, default=None
        The CSV header the output must start with (a different model or
        different options would mix rows of two kinds).

    Returns
    -------
    done : set of str
        The ``file`` of every complete row.
    keep : int
        Byte length of the complete part (the header included); the rest is
        a torn row to truncate.

    Examples
    --------
    >>> import os, tempfile
    >>> from sktags.inference import read_done
    >>> path = os.path.join(tempfile.mkdtemp(), "tags.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("file,status\\na.wav,ok\\nb.wav,failed\\nc.wa")
    >>> done, keep = read_done(path, "csv", ["file", "status"])
    >>> sorted(done), keep
    (['a.wav', 'b.wav'], 34)
    """
    done, keep = set(), 0
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return done, 0
    records = iter_records(path, fmt)
    if fmt == "csv":
        first = next(records, None)
        if first is None:
            return done, 0  # a torn header
        if header is not None and first[1] != list(header):
            raise ValueError(
                f"{os.fspath(path)!r} has the columns {first[1][:6]}..., not those of this "
                "model and these options; it cannot be resumed (give another output file)"
            )
        keep = first[0]
    for end, record in records:
        done.add(record[0] if fmt == "csv" else record["file"])
        keep = end
    return done, keep


def prefix_of_files(path, fmt, files):
    """Byte length of the leading records of ``path`` whose file is in ``files``.

    Used for a taggram: its rows for files not in the summary output were
    written by the killed run after the last summary row, so they are cut.
    """
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return 0
    keep = 0
    records = iter_records(path, fmt)
    if fmt == "csv":
        first = next(records, None)
        if first is None:
            return 0
        keep = first[0]
    for end, record in records:
        if (record[0] if fmt == "csv" else record["file"]) not in files:
            break
        keep = end
    return keep


class StreamWriter:
    """Append rows to a file: flushed at once, synced to disk periodically.

    Parameters
    ----------
    path : str or os.PathLike
    header : str, default=""
        Written first when the file starts empty (CSV header line).
    keep : int or None, default=None
        None starts the file afresh; an int resumes it: the file is truncated
        to ``keep`` bytes (from :func:`read_done`) and appended to.
    sync_every : float, default=1.0
        Seconds between ``fsync`` calls.
    """

    def __init__(self, path, *, header="", keep=None, sync_every=1.0):
        self.path = path
        self.sync_every = sync_every
        if keep is None or not os.path.exists(path):
            self._fh = open(path, "wb")
            keep = 0
        else:
            self._fh = open(path, "r+b")
            self._fh.truncate(keep)
            self._fh.seek(keep)
        if keep == 0 and header:
            self.write(header)
        self._synced = time.monotonic()

    def write(self, text):
        """Write ``text`` (whole rows) and flush it to the operating system."""
        self._fh.write(text.encode("utf-8"))
        self._fh.flush()
        if time.monotonic() - getattr(self, "_synced", 0.0) >= self.sync_every:
            self.sync()

    def sync(self):
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._synced = time.monotonic()

    def close(self):
        if not self._fh.closed:
            self.sync()
            self._fh.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
