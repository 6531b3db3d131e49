"""Files written one row at a time, that a killed run can resume (private helpers).

A streamed output (CSV or JSON Lines) is appended to row by row; each row is
flushed to the operating system as soon as it is written and the file is
synced to disk every ``sync_every`` seconds. A killed run therefore leaves
complete rows plus, at worst, one torn last row. :func:`iter_records` reads
such a file back record by record; :class:`~sktags.inference.TagOutput`
decides which records count. These helpers are private: the public face of
a resumable output is :class:`~sktags.inference.TagOutput`.

Text is written as UTF-8 with ``surrogateescape``, so that a file name that
is not valid UTF-8 is written back as its original bytes.
"""

import csv
import io
import json
import os
import time

ENCODING = {"encoding": "utf-8", "errors": "surrogateescape"}


def _parse(record, fmt):
    text = record.decode(**ENCODING)
    if "\x00" in text:
        raise ValueError("NUL bytes")
    if fmt == "jsonl":
        return json.loads(text)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if len(rows) != 1:
        raise ValueError("not one CSV record")
    return rows[0]


def iter_records(path, fmt):
    """Every complete record of a streamed output (a torn last one is left out).

    A CSV record may span lines (a quoted field holding a line break): it is
    complete at a line end where its count of quote characters is even.

    Yields
    ------
    lineno : int
        The line where the record starts (1-based).
    raw : bytes
        The record, its final line break included.
    parsed : list of str (CSV), object (JSON Lines), or None
        None when the record does not parse (damage).
    """
    with open(path, "rb") as fh:
        buf, start, lineno = b"", 1, 0
        for line in fh:
            lineno += 1
            buf += line
            if not line.endswith(b"\n"):
                return  # torn last record
            if fmt == "csv" and buf.count(b'"') % 2 and b"\x00" not in buf:
                continue  # inside a quoted field
            try:
                parsed = _parse(buf, fmt)
            except (ValueError, RecursionError):  # includes JSONDecodeError
                parsed = None
            yield start, buf, parsed
            buf, start = b"", lineno + 1


class StreamWriter:
    """Append rows to a file: flushed at once, synced to disk periodically.

    Parameters
    ----------
    path : str or os.PathLike
    header : str, default=""
        Written first when the file starts empty (CSV header line).
    keep : int or None, default=None
        None starts the file afresh; an int resumes it: the file is
        truncated to ``keep`` bytes and appended to.
    sync_every : float, default=1.0
        Seconds between ``fsync`` calls.
    """

    def __init__(self, path, *, header="", keep=None, sync_every=1.0):
        self.path = path
        self.sync_every = sync_every
        self._synced = time.monotonic()
        if keep is None or not os.path.exists(path):
            self._fh = open(path, "wb")
            keep = 0
        else:
            self._fh = open(path, "r+b")
            self._fh.truncate(keep)
            self._fh.seek(keep)
        if keep == 0 and header:
            self.write(header)

    def write(self, text):
        """Write ``text`` (whole rows) and flush it to the operating system."""
        self._fh.write(text.encode(**ENCODING))
        self._fh.flush()
        if time.monotonic() - self._synced >= self.sync_every:
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
