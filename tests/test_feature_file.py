"""The feature file and its index (sktags.features._feature_file).

The oracle is the front end itself: the rows of a feature file must be what
``MelSpectrogramTransformer.transform`` gives for each file.
"""

import json
import os

import numpy as np
import pytest
import soundfile as sf

from sktags.features import (
    MelSpectrogramTransformer,
    check_front_end,
    features_index_path,
    load_features,
    write_features,
)

MEL = {"offset": 0.0, "duration": 1.0, "n_mels": 16}


@pytest.fixture(scope="module")
def audio(tmp_path_factory):
    root = tmp_path_factory.mktemp("ff")
    rng = np.random.default_rng(0)
    files = []
    for i, seconds in enumerate((1.0, 0.6, 1.4)):
        files.append(str(root / f"clip{i}.wav"))
        sf.write(files[-1], rng.normal(0, 0.1, int(22050 * seconds)).astype(np.float32), 22050)
    broken = root / "broken.wav"
    broken.write_bytes(b"RIFF....WAVEfmt not really" * 10)
    return files, str(broken)


def test_rows_are_the_front_end_and_failures_are_listed(audio, tmp_path):
    files, broken = audio
    inputs = [files[0], broken, files[1], files[2]]
    mel = MelSpectrogramTransformer(**MEL, on_error="zeros")
    with pytest.warns(Warning):
        X, index = write_features(inputs, tmp_path / "f.npy", transformer=mel, dtype="float32")
    np.testing.assert_array_equal(np.delete(np.asarray(X), 1, axis=0),
                                  MelSpectrogramTransformer(**MEL).transform(files))
    assert not np.asarray(X[1]).any()
    assert index["ids"] == ["clip0", "broken", "clip1", "clip2"] and index["files"] == inputs
    assert index["failed"] == [1] and "broken.wav" in index["errors"][0]
    assert index["transformer"]["n_mels"] == 16 and index["shape"] == list(X.shape)
    Y, again = load_features(tmp_path / "f.npy")
    assert again == json.loads(features_index_path(tmp_path / "f.npy").read_text())
    np.testing.assert_array_equal(Y, X)
    assert not Y.flags.writeable


def test_whole_tracks_are_ragged(audio, tmp_path):
    files, _ = audio
    whole = MelSpectrogramTransformer(offset=0.0, duration=None, n_mels=16)
    X, index = write_features(files, tmp_path / "w.npy", transformer=whole)
    assert index["layout"] == "ragged" and index["offsets"] == "w.offsets.npy"
    for clip, path in zip(X, files):
        np.testing.assert_allclose(clip, whole.transform([path])[0], rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="holds whole tracks"):
        load_features(tmp_path / "w.npy")
    assert len(load_features(tmp_path / "w.npy", ragged=True)[0]) == 3


def test_reuse_is_a_resumable_cache(audio, tmp_path, monkeypatch):
    files, _ = audio
    mel = MelSpectrogramTransformer(**MEL)
    path = tmp_path / "c.npy"
    write_features(files, path, transformer=mel, reuse=True)
    stamp = path.stat().st_mtime_ns
    from sktags.features import _extract

    def fail(*a, **k):
        raise AssertionError("computed again")

    monkeypatch.setattr(_extract, "extract_to_file", fail)
    X, index = write_features(files, path, transformer=mel, reuse=True)
    assert path.stat().st_mtime_ns == stamp and index["ids"] == ["clip0", "clip1", "clip2"]
    for changed in ({"transformer": MelSpectrogramTransformer(**{**MEL, "n_mels": 8})},
                    {"transformer": mel, "ids": ["a", "b", "c"]}):
        with pytest.raises(AssertionError, match="computed again"):
            write_features(files, path, reuse=True, **changed)


@pytest.mark.parametrize("index, needle", [
    ("not json", "is not valid JSON"),
    ("[1, 2]", "not a JSON object"),
    ('{"ids": ["a"], "transformer": {}}', "lists 1 tracks"),
    ('{"ids": ["a", "b", "c"]}', "'transformer' is missing"),
    ('{"ids": ["a", "b", "c"], "transformer": {}, "failed": [3]}', "'failed' must list"),
    ('{"ids": ["a", "b", "c"], "transformer": {}, "failed": ["a"]}', "'failed' must list"),
    ("[" * 100_000, "is not valid JSON"),
])
def test_a_damaged_index_is_one_line_naming_it(audio, tmp_path, index, needle):
    files, _ = audio
    path = tmp_path / "d.npy"
    write_features(files, path, transformer=MelSpectrogramTransformer(**MEL))
    features_index_path(path).write_text(index)
    with pytest.raises(ValueError, match=needle) as info:
        load_features(path)
    assert "d.json" in str(info.value) and "\n" not in str(info.value)


def test_missing_files_and_another_front_end(audio, tmp_path):
    files, _ = audio
    with pytest.raises(ValueError, match="not found"):
        load_features(tmp_path / "absent.npy")
    np.save(tmp_path / "bare.npy", np.zeros((1, 1, 2, 2), np.float32))
    with pytest.raises(ValueError, match="has no index"):
        load_features(tmp_path / "bare.npy")
    _, index = write_features(files, tmp_path / "e.npy", transformer=MelSpectrogramTransformer(**MEL))
    check_front_end(index, MelSpectrogramTransformer(**MEL), "e.npy")
    with pytest.raises(ValueError, match="extracted with n_mels=16, but the model expects n_mels=8"):
        check_front_end(index, MelSpectrogramTransformer(**{**MEL, "n_mels": 8}), "e.npy")
    assert os.path.exists(tmp_path / "e.json")
