"""Property-based tests of the CSV readers (labels, counts, groups) used by the CLI and datasets.

Any CSV rows give the result an independent, plain-Python reading predicts,
or a one-line ``ValueError`` (``CLIError`` on the command line); never
another exception.
"""

import csv
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sktags.cli._errors import CLIError
from sktags.cli._tables import read_groups_csv, read_matrix_csv
from sktags.utils._csv import read_id_column, read_id_matrix

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

cells = st.one_of(
    st.sampled_from(["0", "1", " 1 ", "1.0", "2", "-1", "0.5", "", " ", "x", "nan", "inf",
                     "1e0", "car", "club", "song_id", "7", "7", "8"]),
    st.text(max_size=6),
)
rows = st.lists(st.lists(cells, min_size=0, max_size=4), min_size=0, max_size=6)


def _write(tmp_path, table):
    path = tmp_path / "t.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(table)
    return path


def _read_back(path):
    """The rows as the csv module reads them back, blank ones dropped; None if unreadable."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            got = list(csv.reader(fh))
    except (csv.Error, UnicodeDecodeError):
        return None
    return [(n, r) for n, r in enumerate(got, start=1) if any(c.strip() for c in r)]


def _number(text):
    try:
        return float(text)
    except ValueError:
        return None


def _header_ok(header):
    header = [h.strip() for h in header]
    if len(header) > 1 and all(_number(h) is not None for h in header[1:]):
        return None
    if any(not h for h in header) or len(set(header)) != len(header):
        return None
    return header


def _expected_matrix(path, kind):
    """The result read_id_matrix must give, computed without it (None: must raise)."""
    table = _read_back(path)
    if not table or len(table) < 2:
        return None
    header = _header_ok(table[0][1])
    if header is None or len(header) < 2:
        return None
    ids, values = [], []
    for _, row in table[1:]:
        if len(row) != len(header) or not row[0].strip() or row[0].strip() in ids:
            return None
        parsed = [_number(c) for c in row[1:]]
        for v in parsed:
            if v is None:
                return None
            if kind == "labels" and v not in (0.0, 1.0):
                return None
            if kind == "counts" and not (math.isfinite(v) and v >= 0):
                return None
        ids.append(row[0].strip())
        values.append(parsed)
    return ids, header[1:], values


def _one_line(exc):
    assert "\n" not in str(exc).strip() and str(exc).strip(), repr(exc)


@SETTINGS
@given(table=rows, kind=st.sampled_from(["labels", "counts"]))
def test_read_id_matrix_is_right_or_one_line_value_error(tmp_path, table, kind):
    path = _write(tmp_path, table)
    expected = _expected_matrix(path, kind)
    try:
        ids, names, values = read_id_matrix(path, kind=kind)
    except ValueError as exc:
        _one_line(exc)
        assert expected is None, (table, str(exc))
        return
    assert expected is not None, table
    assert (ids, names) == (expected[0], expected[1])
    np.testing.assert_array_equal(values, np.asarray(expected[2], dtype=float))


@SETTINGS
@given(table=rows, binary=st.booleans())
def test_cli_matrix_reader_gives_a_result_or_a_cli_error(tmp_path, table, binary):
    path = _write(tmp_path, table)
    try:
        ids, names, values = read_matrix_csv(path, binary=binary)
    except CLIError as exc:
        _one_line(exc)
        return
    assert values.shape == (len(ids), len(names))
    assert values.dtype == (np.uint8 if binary else np.float64)


@SETTINGS
@given(table=rows, column=st.sampled_from([None, "artist_id", "x"]))
def test_groups_reader_is_right_or_one_line_error(tmp_path, table, column):
    path = _write(tmp_path, table)
    try:
        got = read_id_column(path, column, default_column="artist_id")
    except ValueError as exc:
        _one_line(exc)
        with pytest.raises(CLIError):
            read_groups_csv(path, column)
        return
    back = _read_back(path)
    header = [h.strip() for h in back[0][1]]
    col = column if column is not None else ("artist_id" if "artist_id" in header else header[1])
    j = header.index(col)
    expected = {r[0].strip(): r[j].strip() for _, r in back[1:]}
    assert got == expected and len(expected) == len(back) - 1  # no track listed twice
    assert read_groups_csv(path, column) == got


@SETTINGS
@given(blob=st.binary(max_size=64))
def test_any_bytes_give_a_result_or_a_cli_error(tmp_path, blob):
    path = tmp_path / "blob.csv"
    path.write_bytes(blob)
    for read in (lambda: read_matrix_csv(path), lambda: read_matrix_csv(path, binary=False),
                 lambda: read_groups_csv(path)):
        try:
            read()
        except CLIError as exc:
            _one_line(exc)


def test_oracle_agrees_on_a_hand_worked_file(tmp_path):
    """The independent reading above, checked on a case worked by hand."""
    path = tmp_path / "t.csv"
    path.write_text("song_id,club,sad\n\n7, 1 ,0\n8,0,1.0\n")
    assert _expected_matrix(path, "labels") == (["7", "8"], ["club", "sad"], [[1, 0], [0, 1]])
    ids, names, values = read_id_matrix(path)
    assert ids == ["7", "8"] and values.tolist() == [[1, 0], [0, 1]]
    path.write_text("7,1,0\n8,0,1\n")
    assert _expected_matrix(path, "labels") is None
