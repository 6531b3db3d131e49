"""Where a tagging run writes: a locked, resumable output with a record of its run."""

import json
import os
import sys
from pathlib import Path

from ..utils import atomic_path, write_text_atomic
from ._rows import check_tag_names, csv_line, parse_summary, parse_taggram, render, taggram_rows
from ._stream import ENCODING, StreamWriter, iter_records

__all__ = ["OUTPUT_FORMATS", "TagOutput"]

#: The formats of a tagging output.
OUTPUT_FORMATS = ("csv", "jsonl", "json", "table")
STREAMED = ("csv", "jsonl")
_OPENING = {"json": "[\n"}
_CLOSING = {"json": "\n]\n", "table": "(* = above the model's decision threshold)\n"}


def run_record_path(path):
    """The sidecar that records what wrote an output: ``<out>.sktags-run.json``."""
    return Path(f"{os.fspath(path)}.sktags-run.json")


class TagOutput:
    """The output of a tagging run: one row per file, resumable, locked while written.

    A CSV or JSON Lines output is written row by row as files complete (a
    killed run leaves complete rows and at most one torn row); a JSON or
    table output is written atomically when the run ends (to stdout when
    ``path`` is None). While a CSV or JSON Lines output (or a taggram) is
    open, ``<path>.lock`` is held (``filelock``; the empty file stays): a
    second run on the same output is refused. Beside a streamed output,
    ``<path>.sktags-run.json`` records what produced its rows: the format,
    the tag names, ``top_k``, the taggram file and ``provenance`` (e.g. the
    model's checksum).

    With ``resume=True`` the rows already in the output are kept and their
    files are in ``done``, so that the caller tags only the others. A
    resume whose record differs from the output's is refused, naming the
    difference. Only complete, well-formed rows count as done (the right
    columns, finite probabilities in [0, 1], no NUL byte, each file once):
    damaged rows are dropped, the output rewritten without them (atomically)
    and their files tagged again; ``dropped`` counts them.

    Parameters
    ----------
    path : str or os.PathLike or None
        The output file; None writes to stdout.
    target_names : sequence of str
        The tags (see :func:`check_tag_names`).
    format : {"csv", "jsonl", "json", "table"}, default="csv"
    top_k : int or None, default=None
        Only the ``top_k`` most probable tags in the ``top`` column (and in
        JSON's ``tags``).
    taggram : str or os.PathLike or None, default=None
        Also write one CSV row per (file, window): file, window start in
        seconds, one probability per tag.
    seconds_per_frame : float, default=None
        Converts window starts to seconds (needed with ``taggram``).
    resume : bool, default=False
        Keep the rows already in a CSV or JSON Lines output.
    provenance : dict, default=None
        More of what produces the rows, JSON-serialisable, recorded and
        compared on resume.

    Attributes
    ----------
    done : set of str
        Files already in the output (empty unless resuming).
    dropped : int
        Damaged rows dropped on resume.
    n_written, n_failed : int
        Rows written by this run, and how many of them are failures.

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> from sktags.inference import TagOutput, TagResult
    >>> path = os.path.join(tempfile.mkdtemp(), "tags.csv")
    >>> r = TagResult(0, "a.wav", None, np.array([0.9, 0.2]), np.array([True, False]))
    >>> with TagOutput(path, target_names=["party", "sleep"]) as out:
    ...     out.write(r)
    >>> print(open(path).read(), end="")
    file,status,error,top,predicted,party,sleep
    a.wav,ok,,party;sleep,party,0.900000,0.200000
    >>> with TagOutput(path, target_names=["party", "sleep"], resume=True) as out:
    ...     sorted(out.done)
    ['a.wav']
    """

    def __init__(self, path=None, *, target_names, format="csv", top_k=None, taggram=None,
                 seconds_per_frame=None, resume=False, provenance=None):
        self.path = path
        self.target_names = target_names
        self.format = format
        self.top_k = top_k
        self.taggram = taggram
        self.seconds_per_frame = seconds_per_frame
        self.resume = resume
        self.provenance = provenance

    # ------------------------------------------------------------------ opening

    def __enter__(self):
        self.names = check_tag_names(self.target_names)
        fmt = self.format
        if fmt not in OUTPUT_FORMATS:
            raise ValueError(f"format must be one of {OUTPUT_FORMATS}, got {fmt!r}.")
        if self.resume and (self.path is None or fmt not in STREAMED):
            raise ValueError("resume needs an output file in csv or jsonl format.")
        if self.top_k is not None and (isinstance(self.top_k, bool) or int(self.top_k) < 1):
            raise ValueError(f"top_k must be a positive integer or None, got {self.top_k!r}.")
        self.done, self.dropped, self.n_written, self.n_failed = set(), 0, 0, 0
        self._sink = self._gram = self._atomic = None
        self._locks = []
        streamed = [self.path] if self.path is not None and fmt in STREAMED else []
        try:
            for path in streamed + ([self.taggram] if self.taggram is not None else []):
                self._lock(path)
        except BaseException:
            self._release()
            raise
        try:
            self._open()
        except BaseException:
            self._release()
            raise
        return self

    def _record(self):
        taggram = None if self.taggram is None else os.path.abspath(self.taggram)
        # provenance first: a resume with another model names it, not its tags
        return {**(self.provenance or {}), "format": self.format, "target_names": self.names,
                "top_k": self.top_k, "taggram": taggram}

    def _open(self):
        fmt, header, keep, tkeep = self.format, "", None, None
        if fmt == "csv":
            header = csv_line(["file", "status", "error", "top", "predicted", *self.names])
        record = self._record()
        if self.resume and os.path.exists(self.path) and os.path.getsize(self.path):
            self._check_record(record)
            keep = self._keep_rows(self.path, fmt, header, self._summary_file, unique=True)
            if self.taggram is not None and os.path.exists(self.taggram):
                tkeep = self._keep_rows(self.taggram, "csv", self._gram_header(),
                                        self._gram_file, unique=False)
        elif fmt in STREAMED and self.path is not None:
            write_text_atomic(run_record_path(self.path), json.dumps(record, indent=1))
        if self.taggram is not None:
            self._gram = StreamWriter(self.taggram, header=self._gram_header(), keep=tkeep)
        if self.path is None:
            self._stdout(header + _OPENING.get(fmt, ""))
        elif fmt in STREAMED:
            self._sink = StreamWriter(self.path, header=header, keep=keep)
        else:
            self._atomic = atomic_path(self.path, prefix=f".{Path(self.path).name}.", suffix=".part")
            self._sink = open(self._atomic.__enter__(), "w", **ENCODING)
            self._sink.write(_OPENING.get(fmt, ""))
        self._first = True

    def _gram_header(self):
        return csv_line(["file", "start", *self.names])

    def _check_record(self, record):
        where = run_record_path(self.path)
        try:
            old = json.loads(where.read_text(encoding="utf-8"))
        except FileNotFoundError:
            old = None
        except (ValueError, RecursionError):
            old = "damaged"
        if not isinstance(old, dict):
            raise ValueError(
                f"{os.fspath(self.path)!r} cannot be resumed: {str(where)!r}, the record of the "
                f"run that wrote it, is {'missing' if old is None else 'not a JSON object'} "
                "(give another output file)")
        for key in [*record, *(k for k in old if k not in record)]:
            if old.get(key) != record.get(key):
                raise ValueError(
                    f"{os.fspath(self.path)!r} was written with {key}={old.get(key)!r}, this run "
                    f"has {key}={record.get(key)!r}; it cannot be resumed (run as before, or "
                    "give another output file)")

    def _summary_file(self, parsed):
        return parse_summary(parsed, self.format, len(self.names), self.top_k)

    def _gram_file(self, parsed):
        file = parse_taggram(parsed, len(self.names))
        if file not in self.done:
            raise ValueError("a file not done")
        return file

    def _keep_rows(self, path, fmt, header, file_of, unique):
        """Keep the well-formed rows of ``path``; return the byte length to keep."""
        kept, clean_end, damaged, done = [], 0, 0, set()
        for lineno, raw, parsed in iter_records(path, fmt):
            if header and not kept:
                if raw.decode(**ENCODING) != header:
                    raise ValueError(f"{os.fspath(path)!r}, line {lineno}: not the header of this "
                                     "output; it cannot be resumed (give another output file)")
            else:
                try:
                    if parsed is None:
                        raise ValueError("does not parse")
                    file = file_of(parsed)
                    if unique and file in done:
                        raise ValueError("a file twice")
                except (ValueError, TypeError, AttributeError):
                    damaged += 1
                    continue
                done.add(file)
            kept.append(raw)
            if not damaged:
                clean_end += len(raw)
        if unique:
            self.done, self.dropped = done, damaged
        if not damaged:
            return clean_end
        with atomic_path(path, prefix=f".{Path(path).name}.", suffix=".part") as tmp:
            Path(tmp).write_bytes(b"".join(kept))
        return sum(map(len, kept))

    # ------------------------------------------------------------------ writing

    def _stdout(self, text):
        try:
            sys.stdout.write(text)
        except UnicodeEncodeError:  # a name that is not UTF-8: its own bytes
            sys.stdout.flush()
            sys.stdout.buffer.write(text.encode(**ENCODING))
        sys.stdout.flush()

    def write(self, result):
        """Write one :class:`TagResult` (and its taggram rows)."""
        if self._gram is not None:
            self._gram.write(taggram_rows(result, self.seconds_per_frame))
        text = render(result, self.names, self.format, self.top_k)
        if self.format == "json":
            text = ("" if self._first else ",\n") + text
        self._first = False
        if self._sink is None:
            self._stdout(text)
        else:
            self._sink.write(text)
        self.n_written += 1
        self.n_failed += not result.ok

    def __exit__(self, exc_type, exc, tb):
        try:
            if self._gram is not None:
                self._gram.close()
            closing = _CLOSING.get(self.format, "")
            if self.path is None:
                if exc_type is None:
                    self._stdout(closing)
            elif self._atomic is not None:
                self._sink.write(closing)
                self._sink.close()
                self._atomic.__exit__(exc_type, exc, tb)
            elif self._sink is not None:
                self._sink.close()
        finally:
            self._release()
        return False

    def _lock(self, path):
        """Hold ``<path>.lock`` (an empty file, left in place) for as long as this run writes."""
        from filelock import FileLock, Timeout

        lock = FileLock(f"{os.fspath(path)}.lock", timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise RuntimeError(
                f"another run is writing {os.fspath(path)!r} (it is locked); wait for it to "
                "finish, or give this one another output file") from None
        self._locks.append(lock)

    def _release(self):
        while self._locks:
            self._locks.pop().release()
