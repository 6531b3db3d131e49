"""TagOutput and the rows of tagging outputs (sktags.inference._tag_output, ._rows).

The oracle of every resume test is the output of one clean, uninterrupted run
of the same results: a resumed output must hold exactly its rows.
"""

import csv
import io
import json
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sktags.inference import TagOutput, TagResult, check_tag_names, display_name

NAMES = ["party", "sleep", "work"]

# file names: any text, with undecodable bytes (surrogateescape) and line breaks
file_names = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
                     | st.sampled_from(["\udcff", "\udce9", "\n", "\r", '"', ","]),
                     min_size=1, max_size=10)


def _results(files, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for i, f in enumerate(files):
        if i % 5 == 3:
            out.append(TagResult(i, f, "could not be decoded: truncated"))
        else:
            p = rng.random(len(NAMES))
            out.append(TagResult(i, f, None, p, p >= 0.5))
    return out


def _write(path, results, **kw):
    with TagOutput(path, target_names=NAMES, **kw) as out:
        for r in results:
            if r.file not in out.done:
                out.write(r)
    return out


def _rows_by_file(path, fmt):
    text = path.read_bytes().decode("utf-8", "surrogateescape")
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(text, newline="")))[1:]
        return {r[0]: r for r in rows}, [r[0] for r in rows]
    rows = [json.loads(line) for line in text.splitlines()]
    return {r["file"]: r for r in rows}, [r["file"] for r in rows]


@settings(max_examples=60, deadline=None)
@given(files=st.lists(file_names, min_size=0, max_size=8, unique=True),
       cut=st.integers(0, 10_000), fmt=st.sampled_from(["csv", "jsonl"]))
def test_any_killed_prefix_resumes_to_the_clean_output(tmp_path_factory, files, cut, fmt):
    """A run killed after any byte, resumed, gives byte for byte the clean run's output."""
    d = tmp_path_factory.mktemp("cut")
    results = _results(files)
    clean = d / f"clean.{fmt}"
    _write(clean, results, format=fmt)
    full = clean.read_bytes()
    path = d / f"out.{fmt}"
    _write(path, results, format=fmt)
    path.write_bytes(full[: min(cut, len(full))])  # what a SIGKILL leaves
    out = _write(path, results, format=fmt, resume=True)
    assert path.read_bytes() == full
    assert out.dropped == 0
    # names are kept exactly: the bytes of a name that is not UTF-8 come back
    got, _ = _rows_by_file(path, fmt)
    assert set(got) == set(files)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize("damage", ["nul", "torn", "bad_probability", "duplicate", "columns"])
def test_damaged_rows_are_dropped_and_redone(tmp_path, fmt, damage):
    """Issue 17 class 3: only well-formed rows count as done; the others are redone."""
    files = [f"/music/{i:02d}.wav" for i in range(10)]
    results = _results(files)
    clean = tmp_path / f"clean.{fmt}"
    _write(clean, results, format=fmt)
    expected, _ = _rows_by_file(clean, fmt)
    path = tmp_path / f"out.{fmt}"
    _write(path, results[:6], format=fmt)
    lines = path.read_bytes().splitlines(keepends=True)
    k = 3 if fmt == "csv" else 2  # the row of files[2]
    bad = {"nul": b"\x00" * 40 + b"\n",
           "torn": lines[k][: len(lines[k]) // 2] + b"\n",
           "bad_probability": lines[k].replace(b"0.", b"9.", 1) if fmt == "csv"
           else lines[k].replace(b'"probability": 0.', b'"probability": 9.', 1),
           "duplicate": lines[k] + lines[k + 1],
           "columns": lines[k].replace(b",", b";", 1) if fmt == "csv"
           else b'{"file": "/music/02.wav", "status": "ok"}\n'}[damage]
    lines[k] = bad
    path.write_bytes(b"".join(lines))
    out = _write(path, results, format=fmt, resume=True)
    redone = files[2:3] if damage != "duplicate" else []
    assert out.done == set(files[:6]) - set(redone)
    assert out.dropped == (1 if damage != "duplicate" else 1)
    got, order = _rows_by_file(path, fmt)
    assert sorted(order) == sorted(files)  # each file exactly once
    assert got == expected


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path):
    path = tmp_path / "tags.csv"
    with TagOutput(path, target_names=NAMES):
        with pytest.raises(RuntimeError, match="locked"):
            with TagOutput(path, target_names=NAMES, resume=True):
                pass
    with TagOutput(path, target_names=NAMES, resume=True):  # released
        pass


@pytest.mark.parametrize("change, needle", [
    ({"top_k": 2}, "top_k=None"),
    ({"provenance": {"model_sha256": "other"}}, "model_sha256='abc'"),
    ({"taggram": "gram.csv"}, "taggram=None"),
    ({"format": "jsonl"}, "format='csv'"),
])
def test_a_resume_with_another_run_is_refused_naming_the_difference(tmp_path, change, needle):
    """Issue 17 class 2: the record of what wrote the output must match."""
    path = tmp_path / "tags.out"
    first = {"format": "csv", "provenance": {"model_sha256": "abc"}}
    _write(path, _results(["a.wav", "b.wav"]), **first)
    before = path.read_bytes()
    kw = {**first, **change}
    if "taggram" in kw:
        kw.update(taggram=tmp_path / kw["taggram"], seconds_per_frame=0.05)
    with pytest.raises(ValueError, match="cannot be resumed") as info:
        _write(path, _results(["a.wav", "b.wav", "c.wav"]), resume=True, **kw)
    assert needle in str(info.value) and "\n" not in str(info.value)
    assert path.read_bytes() == before


def test_an_output_without_its_record_is_not_resumed(tmp_path):
    path = tmp_path / "tags.csv"
    path.write_text("file,status,error,top,predicted,party,sleep,work\n")
    with pytest.raises(ValueError, match="sktags-run.json.*missing"):
        _write(path, [], resume=True)


def test_taggram_rows_of_files_not_done_are_cut(tmp_path):
    files = ["a.wav", "b.wav", "c.wav"]
    results = _results(files)
    for r in results:
        if r.ok:
            r.window_starts, r.window_proba = np.array([0, 8]), np.vstack([r.proba, r.proba])
    clean, gram_clean = tmp_path / "clean.csv", tmp_path / "clean_gram.csv"
    _write(clean, results, taggram=gram_clean, seconds_per_frame=0.5)
    path, gram = tmp_path / "t.csv", tmp_path / "gram.csv"
    _write(path, results, taggram=gram, seconds_per_frame=0.5)
    # killed after the taggram rows of c.wav, before its summary row
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:3]))
    _write(path, results, taggram=gram, seconds_per_frame=0.5, resume=True)
    assert path.read_bytes() == clean.read_bytes()
    assert gram.read_bytes() == gram_clean.read_bytes()
    assert gram.read_text().count("\nc.wav,4.000,") == 1


def test_tag_names_that_are_output_columns_are_refused(tmp_path):
    """Issue 17 class 4: no tag may be named like an output column."""
    for bad in ("file", "status", "top", "error", "predicted", "start"):
        with pytest.raises(ValueError, match=f"tag name '{bad}' is also an output column"):
            check_tag_names(["party", bad])
        with pytest.raises(ValueError, match="output column"):
            TagOutput(tmp_path / "x.csv", target_names=[bad]).__enter__()
    for bad, needle in (([""], "non-empty"), (["a;b"], "';'"), (["a", "a"], "twice"),
                        ([3], "strings")):
        with pytest.raises(ValueError, match=needle):
            check_tag_names(bad)
    assert not (tmp_path / "x.csv").exists()


def test_table_escapes_names_one_block_per_file(tmp_path):
    """Issue 17 class 10: a newline or an undecodable byte in a name stays on one line."""
    files = ["a\nb.wav", "caf\udce9.wav", "ok.wav"]
    path = tmp_path / "t.txt"
    _write(path, _results(files), format="table")
    text = path.read_text(encoding="utf-8")
    blocks = [line for line in text.splitlines() if not line.startswith(" ")]
    assert blocks[:3] == ["a\\nb.wav", "caf\\xe9.wav", "ok.wav"]
    assert display_name("plain name.wav") == "plain name.wav"
    # CSV keeps the original bytes of the name
    _write(tmp_path / "t.csv", _results(files))
    assert b"caf\xe9.wav" in (tmp_path / "t.csv").read_bytes()
    assert os.fsdecode(b"caf\xe9.wav") == files[1]
