"""save_model / load_model: model files without pickle, refused pickles, identical predictions."""

import functools
import json
import os
import pickle
import zipfile

import joblib
import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from sktags import ContextWeightEstimator, MelSpectrogramTransformer
from sktags.models import CNNTagger, Ibrahim2020CNN, load_model, save_model

TINY = dict(filters=(2, 2), hidden_units=4, batch_size=8, max_epochs=2, random_state=0)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 1, 8, 8)).astype(np.float32)
    Y = (rng.random((30, 3)) < 0.5).astype(np.int64)
    C = rng.integers(1, 5, size=Y.shape) * Y
    return X, Y, C


def test_tagger_with_weighting_round_trip(data, tmp_path):
    X, Y, C = data
    est = CNNTagger(**TINY, threshold="f1", weighting=ContextWeightEstimator(
        negative="exact_match", positive="tfidf")).fit(X, Y, playlist_counts=C)
    path = tmp_path / "model.sktags"
    meta = {"target_names": ["a", "b", "c"], "n": 3, "nested": {"x": [1.5, None]},
            "array": np.arange(3)}
    save_model(path, est, metadata=meta)
    loaded, got = load_model(path)
    assert got["target_names"] == ["a", "b", "c"] and got["nested"] == {"x": [1.5, None]}
    np.testing.assert_array_equal(got["array"], np.arange(3))
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    np.testing.assert_array_equal(loaded.thresholds_, est.thresholds_)
    assert loaded.get_params(deep=False).keys() == est.get_params(deep=False).keys()
    assert loaded.input_shape_ == est.input_shape_ and loaded.n_epochs_ == est.n_epochs_
    assert [r["valid_loss"] for r in loaded.net_.history] == [
        r["valid_loss"] for r in est.net_.history]
    # the fitted weighting travels, and computes the same weights
    w = loaded.weighting_
    assert isinstance(w, ContextWeightEstimator) and w is not loaded.weighting
    np.testing.assert_array_equal(w.transform(Y, playlist_counts=C),
                                  est.weighting_.transform(Y, playlist_counts=C))
    np.testing.assert_array_equal(w.label_names_, est.weighting_.label_names_)
    # no pickle inside: every array loads with allow_pickle=False
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert "manifest.json" in names
        assert all(n == "manifest.json" or n.endswith((".npy", ".pt")) for n in names)
        json.loads(archive.read("manifest.json"))


@pytest.mark.parametrize("labels", [(0, 1), ("no", "yes")])
def test_binary_tagger_keeps_its_labels(data, tmp_path, labels):
    X, Y, _ = data
    y = np.asarray(labels)[Y[:, 0]]
    est = CNNTagger(**TINY).fit(X, y)
    save_model(tmp_path / "m", est)
    loaded, meta = load_model(tmp_path / "m")
    assert meta is None
    np.testing.assert_array_equal(loaded.classes_, est.classes_)
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))


def test_pipeline_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    waves = rng.normal(scale=0.1, size=(12, 2000)).astype(np.float32)
    Y = (rng.random((12, 2)) < 0.5).astype(int)
    pipe = Pipeline([
        ("front", MelSpectrogramTransformer(sr=8000, n_fft=256, hop_length=256, n_mels=8,
                                            offset=0.0, duration=0.25)),
        ("net", CNNTagger(**{**TINY, "valid_size": None})),
    ]).fit(waves, Y)
    save_model(tmp_path / "pipe.sktags", pipe, metadata={"kind": "pipeline"})
    loaded, meta = load_model(tmp_path / "pipe.sktags")
    assert meta == {"kind": "pipeline"} and [n for n, _ in loaded.steps] == ["front", "net"]
    assert loaded.named_steps["front"].get_params() == pipe.named_steps["front"].get_params()
    np.testing.assert_array_equal(loaded.predict_proba(waves), pipe.predict_proba(waves))


def test_writes_are_atomic_and_honour_the_umask(data, tmp_path):
    X, Y, _ = data
    est = CNNTagger(**TINY).fit(X, Y)
    path = tmp_path / "m.sktags"
    path.write_bytes(b"old")
    with pytest.raises(ValueError, match="custom code"):
        save_model(path, CNNTagger(**{**TINY, "module": Ibrahim2020CNN}).fit(X, Y))
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["m.sktags"]
    reference = tmp_path / "ref"
    reference.write_bytes(b"")  # the mode open() gives under this umask
    save_model(path, est)
    assert sorted(os.listdir(tmp_path)) == ["m.sktags", "ref"]
    assert (path.stat().st_mode & 0o777) == (reference.stat().st_mode & 0o777)


def test_custom_module_is_refused_with_advice(data, tmp_path):
    X, Y, _ = data
    est = CNNTagger(**{**TINY, "module": functools.partial(Ibrahim2020CNN, filters=(2, 2))}).fit(X, Y)
    with pytest.raises(ValueError, match="pickle or joblib"):
        save_model(tmp_path / "m", est)
    assert not (tmp_path / "m").exists()


class Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("dump", [
    lambda obj, path: path.write_bytes(pickle.dumps(obj)),
    lambda obj, path: joblib.dump(obj, path),
], ids=["pickle", "joblib"])
def test_pickle_files_are_refused_and_never_run(tmp_path, dump):
    marker = tmp_path / "marker"
    path = tmp_path / "model.pkl"
    dump({"pipeline": Payload(str(marker))}, path)
    with pytest.raises(ValueError, match="not an sktags model file") as info:
        load_model(path)
    assert "\n" not in str(info.value)
    assert not marker.exists()


def test_foreign_zip_content_is_refused(data, tmp_path):
    X, Y, _ = data
    marker = tmp_path / "marker"
    # a zip without manifest, with a manifest naming another class, and with a pickled weight
    plain = tmp_path / "plain.zip"
    with zipfile.ZipFile(plain, "w") as z:
        z.writestr("other.txt", "x")
    with pytest.raises(ValueError, match="not an sktags model file"):
        load_model(plain)
    good = tmp_path / "good.sktags"
    save_model(good, CNNTagger(**TINY).fit(X, Y))
    with zipfile.ZipFile(good) as z:
        manifest = json.loads(z.read("manifest.json"))
        files = {n: z.read(n) for n in z.namelist()}
    evil = dict(manifest, estimator=dict(manifest["estimator"], __estimator__="os.system"))
    bad = tmp_path / "bad.sktags"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("manifest.json", json.dumps(evil))
    with pytest.raises(ValueError, match="may not contain"):
        load_model(bad)
    import torch

    weights = [n for n in files if n.endswith(".pt")][0]
    with zipfile.ZipFile(bad, "w") as z:
        for n, content in files.items():
            if n == weights:
                buffer = __import__("io").BytesIO()
                torch.save({"w": Payload(str(marker))}, buffer)
                content = buffer.getvalue()
            z.writestr(n, content)
    with pytest.raises(Exception):
        load_model(bad)
    assert not marker.exists()


def test_crop_model_with_embeddings_round_trips(tmp_path):
    """A short-chunk tagger trained on crops of variable-length clips loads and predicts the same."""
    from sktags import CNNTagger

    rng = np.random.default_rng(0)
    X = [rng.normal(size=(1, 16, n)).astype(np.float32) for n in (40, 50, 33, 64, 20, 45)]
    Y = np.array([[1, 0], [0, 1], [1, 1], [0, 0], [1, 0], [0, 1]])
    tagger = CNNTagger(module="short_chunk", crop_frames=16, optimizer="adamw", mixup=0.4,
                       max_epochs=2, valid_size=None, random_state=0).fit(X, Y)
    save_model(tmp_path / "m.sktags", tagger)
    loaded, _ = load_model(tmp_path / "m.sktags")
    assert tuple(loaded.window_) == (16, 8)
    np.testing.assert_array_equal(loaded.predict_proba(X), tagger.predict_proba(X))
    np.testing.assert_array_equal(loaded.transform(X), tagger.transform(X))
