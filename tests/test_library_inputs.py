"""The input helpers that the command line uses, tested in the library.

find_audio_files against a brute-force os.walk listing, select_features
and align_ids against hand-built expectations, read_track_ids on a small file.
"""

import os

import numpy as np
import pytest

from sktags.datasets import read_track_ids
from sktags.features import AUDIO_EXTENSIONS, audio_files_by_id, find_audio_files, select_features
from sktags.utils import align_ids


def _tree(root):
    for rel in ("a.wav", "B.MP3", "notes.txt", "sub/c.flac", "sub/deeper/d.ogg", "sub/e.aiff"):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


def test_find_audio_files_matches_a_walk(tmp_path):
    _tree(tmp_path)
    walked = sorted(
        os.path.join(d, f) for d, _, files in os.walk(tmp_path) for f in files
        if os.path.splitext(f)[1].lower() in AUDIO_EXTENSIONS
    )
    assert [str(p) for p in find_audio_files([tmp_path])] == walked
    assert [p.name for p in find_audio_files([tmp_path], recursive=False)] == ["B.MP3", "a.wav"]
    # a file is taken whatever its extension, in the order given
    assert [p.name for p in find_audio_files([tmp_path / "notes.txt", tmp_path / "a.wav"])] == [
        "notes.txt", "a.wav"]


@pytest.mark.parametrize("make, message", [
    (lambda p: [p / "missing.wav"], "no such file or folder"),
    (lambda p: [p / "empty"], "no audio files"),
    (lambda p: [], "no audio files given"),
])
def test_find_audio_files_refuses(tmp_path, make, message):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=message):
        find_audio_files(make(tmp_path))


def test_audio_files_by_id_refuses_two_files_of_one_id(tmp_path):
    _tree(tmp_path)
    assert sorted(audio_files_by_id(tmp_path)) == ["B", "a", "c", "d", "e"]
    (tmp_path / "sub" / "a.flac").write_bytes(b"")
    with pytest.raises(ValueError, match="two audio files for track id 'a'"):
        audio_files_by_id(tmp_path)


def test_align_ids():
    keep, pos = align_ids(["c", "a", "z"], ["a", "b", "c"], what="ids", where="t",
                          skip_missing=True)
    assert keep.tolist() == [0, 1] and pos.tolist() == [2, 0]
    with pytest.raises(ValueError, match=r"^1 of 3 ids have no match in t \('z'\); try again$"):
        align_ids(["c", "a", "z"], ["a", "b", "c"], what="ids", where="t", hint="try again")
    with pytest.raises(ValueError, match="none of the ids match t"):
        align_ids(["z"], ["a"], what="ids", where="t", skip_missing=True)


def test_select_features_against_indexing():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 1, 2, 3))
    meta = {"ids": list("abcde"), "failed": [3]}
    # in order and complete: X itself, no copy
    Xs, ids, keep, failed = select_features(X, {"ids": list("abcde"), "failed": []}, list("abcde"))
    assert Xs is X and ids == list("abcde") and keep.tolist() == [0, 1, 2, 3, 4] and failed == []
    wanted = ["e", "d", "a", "x"]
    Xs, ids, keep, failed = select_features(X, meta, wanted, skip_missing=True)
    assert ids == ["e", "a"] and keep.tolist() == [0, 2] and failed == ["d"]
    np.testing.assert_array_equal(Xs, X[[4, 0]])
    Xs, ids, keep, failed = select_features(X, meta, ["d"])
    assert len(Xs) == 0 and ids == [] and failed == ["d"]


def test_read_track_ids(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text("track_id\n12\n\n34,extra\n")
    assert read_track_ids(path) == [12, 34]
    path.write_text("12\nabc\n")
    with pytest.raises(ValueError, match=r"ids file .*ids\.csv', line 2: 'abc' is not a track id"):
        read_track_ids(path)
    path.write_text("header\n")
    with pytest.raises(ValueError, match="holds no track ids"):
        read_track_ids(path)
    with pytest.raises(FileNotFoundError):
        read_track_ids(tmp_path / "missing.csv")
