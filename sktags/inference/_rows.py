"""The rows of a tagging output: CSV, JSON Lines, JSON and table, one file each.

The CSV summary has the columns :data:`SUMMARY_COLUMNS` then one probability
column per tag; the taggram CSV ``file``, ``start`` then one column per tag.
Tag names that equal one of these columns (:data:`RESERVED_COLUMNS`) are
refused by :func:`check_tag_names`, rather than prefixed: a reader of the CSV
finds each tag's probability under its own name.

File names are kept exactly in CSV and JSON Lines: a name that is not valid
UTF-8 (read by Python with ``surrogateescape``) is written back as its
original bytes in CSV, and as ``\\udcXX`` escapes in JSON, so that
``os.fsencode(name)`` gives the file back. The table, for people, escapes
control characters and undecodable bytes, so that one file is one block.
"""

import csv
import io
import json
import math

import numpy as np

__all__ = ["RESERVED_COLUMNS", "SUMMARY_COLUMNS", "check_tag_names", "display_name"]

#: The columns of the CSV summary before the probabilities.
SUMMARY_COLUMNS = ("file", "status", "error", "top", "predicted")

#: Every column name of a tagging output other than the tags: no tag may take one.
RESERVED_COLUMNS = (*SUMMARY_COLUMNS, "start")


def check_tag_names(names):
    """Check that tag names can be output columns; return them as a list of str.

    A tagger calls this at ``fit`` on its ``target_names``; ``sktags tag``
    calls it before writing anything.

    Parameters
    ----------
    names : sequence of str

    Returns
    -------
    names : list of str

    Raises
    ------
    ValueError
        A name that is not a non-empty string, repeated, holds ``;`` (the
        separator of the ``top`` and ``predicted`` columns) or a line break,
        or equals one of :data:`RESERVED_COLUMNS`.

    Examples
    --------
    >>> from sktags.inference import check_tag_names
    >>> check_tag_names(("party", "sleep"))
    ['party', 'sleep']
    >>> check_tag_names(["party", "status"])
    Traceback (most recent call last):
    ...
    ValueError: tag name 'status' is also an output column (file, status, error, top, predicted, start); rename the tag.
    """
    names = list(names)
    seen = set()
    for name in names:
        if not isinstance(name, str) or not name:
            raise ValueError(f"tag names must be non-empty strings, got {name!r}.")
        if name in RESERVED_COLUMNS:
            raise ValueError(f"tag name {name!r} is also an output column "
                             f"({', '.join(RESERVED_COLUMNS)}); rename the tag.")
        if ";" in name or "\n" in name or "\r" in name:
            raise ValueError(f"tag name {name!r} holds ';' or a line break, which separate "
                             "tags and rows in the outputs; rename the tag.")
        if name in seen:
            raise ValueError(f"tag name {name!r} is given twice.")
        seen.add(name)
    return names


def display_name(name):
    """A file name for the table output: control characters and undecodable bytes escaped.

    Examples
    --------
    >>> from sktags.inference import display_name
    >>> print(display_name("a\\nb\\udcff.wav"))
    a\\nb\\xff.wav
    """
    if name.isprintable():
        return name
    out = []
    for ch in name:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte (surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    return "".join(out)


def csv_line(fields):
    """One CSV row ending in ``\n``; a field holding ``\r`` or ``\n`` is quoted."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(fields)  # quotes fields with \r too
    return buf.getvalue()[:-2] + "\n"


def _order(proba, top_k):
    return np.argsort(-proba, kind="stable")[: top_k or len(proba)]


def render(result, names, fmt, top_k=None):
    """One file's summary as text in ``fmt`` (csv and jsonl: exactly one line)."""
    if fmt == "csv":
        if not result.ok:
            return csv_line([result.file, "failed", result.error, "", "", *[""] * len(names)])
        passed = [names[j] for j in _order(result.proba, None) if result.predicted[j]]
        return csv_line([result.file, "ok", "", ";".join(names[j] for j in _order(result.proba, top_k)),
                         ";".join(passed), *(f"{v:.6f}" for v in result.proba)])
    if fmt in ("json", "jsonl"):
        if not result.ok:
            obj = {"file": result.file, "status": "failed", "error": result.error}
        else:
            obj = {"file": result.file, "status": "ok",
                   "tags": [{"context": names[j], "probability": round(float(result.proba[j]), 6),
                             "predicted": bool(result.predicted[j])}
                            for j in _order(result.proba, top_k)],
                   "predicted": [names[j] for j in _order(result.proba, None) if result.predicted[j]]}
        return json.dumps(obj, indent=None if fmt == "jsonl" else 1) + ("\n" if fmt == "jsonl" else "")
    shown = display_name(result.file)
    if not result.ok:
        return f"{shown}\n  FAILED: {display_name(result.error)}\n"
    width = max(len(c) for c in names)
    lines = [shown]
    for j in _order(result.proba, top_k):
        p = result.proba[j]
        lines.append(f"  {names[j]:<{width}}  {p:6.3f}  {'*' if result.predicted[j] else ' '} "
                     + "#" * int(round(p * 20)))
    return "\n".join(lines) + "\n"


def taggram_rows(result, seconds_per_frame):
    """CSV rows of one file's taggram: file, window start (s), probabilities."""
    if not result.ok or result.window_proba is None:
        return ""
    return "".join(
        csv_line([result.file, f"{s * seconds_per_frame:.3f}", *(f"{v:.6f}" for v in p)])
        for s, p in zip(result.window_starts, result.window_proba))


def _probability(text):
    value = float(text)
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"probability {text!r} is not in [0, 1]")
    return value


def parse_summary(fields, fmt, n_tags, top_k):
    """The file of one well-formed summary row, else ValueError saying what is wrong."""
    if fmt == "jsonl":
        obj = fields
        if not isinstance(obj, dict) or not isinstance(obj.get("file"), str):
            raise ValueError("not an object with a 'file'")
        if obj.get("status") == "failed":
            if not isinstance(obj.get("error"), str):
                raise ValueError("a failed row without an error")
        elif obj.get("status") == "ok":
            tags = obj.get("tags")
            if not isinstance(tags, list) or len(tags) != min(top_k or n_tags, n_tags):
                raise ValueError("not the tags of this model and --top-k")
            for tag in tags:
                if not isinstance(tag, dict) or not isinstance(tag.get("probability"), (int, float)):
                    raise ValueError("a tag without a probability")
                _probability(tag["probability"])
        else:
            raise ValueError("status is neither 'ok' nor 'failed'")
        return obj["file"]
    if len(fields) != len(SUMMARY_COLUMNS) + n_tags:
        raise ValueError(f"{len(fields)} columns instead of {len(SUMMARY_COLUMNS) + n_tags}")
    file, status, error, *_ = fields
    values = fields[len(SUMMARY_COLUMNS):]
    if status == "ok":
        for v in values:
            _probability(v)
    elif status != "failed" or not error or any(values):
        raise ValueError("neither a tagged nor a failed row")
    return file


def parse_taggram(fields, n_tags):
    """The file of one well-formed taggram row, else ValueError."""
    if len(fields) != 2 + n_tags:
        raise ValueError(f"{len(fields)} columns instead of {2 + n_tags}")
    if not math.isfinite(float(fields[1])):
        raise ValueError("a start that is not a number")
    for v in fields[2:]:
        _probability(v)
    return fields[0]
