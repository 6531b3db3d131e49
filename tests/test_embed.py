"""The embeddings file (sktags.inference._embed): embed_to_file and load_embeddings."""

import json

import numpy as np
import pytest
import soundfile as sf
from sklearn.pipeline import Pipeline

from sktags import CNNTagger, MelSpectrogramTransformer
from sktags.inference import embed_to_file, load_embeddings


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    root = tmp_path_factory.mktemp("emb")
    rng = np.random.default_rng(0)
    files = []
    for i in range(5):
        files.append(str(root / f"c{i}.wav"))
        sf.write(files[-1], rng.normal(0, 0.1, 22050).astype(np.float32), 22050)
    pipe = Pipeline([("mel", MelSpectrogramTransformer(offset=0.0, duration=1.0, n_mels=16)),
                     ("tagger", CNNTagger(filters=(2, 2, 2, 2), hidden_units=6, max_epochs=1,
                                          valid_size=None, random_state=0))])
    return pipe.fit(files, rng.integers(0, 2, (5, 3))), files, root


def test_rows_are_transform_and_failures_are_nan(fitted, tmp_path):
    pipe, files, root = fitted
    inputs = [str(root / "gone.wav"), *files[:2], str(root / "also_gone.wav"), *files[2:]]
    E, index = embed_to_file(pipe, inputs, tmp_path / "e.npy", batch_size=2)
    good = [i for i in range(len(inputs)) if "gone" not in inputs[i]]
    np.testing.assert_allclose(E[good], pipe.transform(files), atol=1e-6)  # the oracle
    assert np.isnan(E[[0, 3]]).all() and index["failed"] == [0, 3]
    assert index["ids"][1:3] == ["c0", "c1"] and index["shape"] == [7, 6]
    assert json.loads((tmp_path / "e.json").read_text()) == index
    assert not E.flags.writeable


def test_nothing_decoded_writes_nothing(fitted, tmp_path):
    pipe, _, root = fitted
    with pytest.raises(ValueError, match="none of the 2 files"):
        embed_to_file(pipe, [str(root / "a.wav"), str(root / "b.wav")], tmp_path / "n.npy")
    assert list(tmp_path.iterdir()) == []


def test_a_damaged_embeddings_file_is_one_line(fitted, tmp_path):
    pipe, files, _ = fitted
    embed_to_file(pipe, files, tmp_path / "e.npy")
    index = tmp_path / "e.json"
    good = index.read_text()
    for text, needle in (("{", "not a readable embeddings file"),
                         ('{"format": "sktags-features"}', "not that of an embeddings file"),
                         (json.dumps({**json.loads(good), "ids": ["a"]}), "does not describe")):
        index.write_text(text)
        with pytest.raises(ValueError, match=needle) as info:
            load_embeddings(tmp_path / "e.npy")
        assert "\n" not in str(info.value)
