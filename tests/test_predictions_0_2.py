"""The paper's configuration and the real-music recipe train exactly as in sktags 0.2.

``tests/fixtures/predictions_0_2.npz`` holds ``predict_proba`` of both,
computed by sktags 0.2.0 (before the models package was restructured) on the
synthetic data below, on the CPU. Retraining with the same data and seed must
give the same probabilities: a refactoring of the training path that changes
what is computed (the order of random draws, the loss, the schedule, the
validation split, the crops or the windows) fails here.
Regenerate only for an intended change: ``python tests/test_predictions_0_2.py``.

``tests/fixtures/model_0_2.sktags`` (with ``model_0_2_proba.npy``) is a model
file written by sktags 0.2.0: it must keep loading and predicting the same.
"""

import json
import os
import zipfile

import numpy as np
import pytest

from sktags import ContextWeightEstimator
from sktags.models import REAL_MUSIC_RECIPE, CNNTagger, load_model

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "predictions_0_2.npz")


def _data():
    rng = np.random.default_rng(20260101)
    n, n_mels, n_frames, m = 48, 12, 40, 3
    Y = (rng.random((n, m)) < 0.4).astype(int)
    Y[0] = 1  # every tag has positives
    X = rng.normal(size=(n, 1, n_mels, n_frames)).astype(np.float32)
    X[:, 0, :4, :] += 1.5 * Y[:, [0]][:, :, None]  # learnable: tag 0 lights the low bands
    counts = Y * rng.integers(1, 5, size=Y.shape)
    groups = np.arange(n) // 3
    return X, Y, counts, groups


def _paper():
    X, Y, counts, groups = _data()
    tagger = CNNTagger(filters=(4, 4, 4, 4), hidden_units=8, max_epochs=4, batch_size=8,
                       lr_decay_steps=5, weighting=ContextWeightEstimator(),
                       valid_size=0.25, patience=2, device="cpu", random_state=0)
    tagger.fit(X, Y, playlist_counts=counts, groups=groups)
    return tagger.predict_proba(X)


def _real_music():
    X, Y, counts, _ = _data()
    params = {**REAL_MUSIC_RECIPE, "max_epochs": 3, "crop_frames": 16}
    tagger = CNNTagger(**params, batch_size=8, weighting=ContextWeightEstimator(),
                       device="cpu", random_state=0)
    tagger.fit(X, Y, playlist_counts=counts)
    # windows over clips of several lengths (the ragged prediction path)
    clips = [X[i, :, :, :n] for i, n in zip(range(6), (40, 33, 16, 9, 25, 40))]
    return np.vstack([tagger.predict_proba(X), tagger.predict_proba(clips)])


@pytest.mark.parametrize("name, train", [("paper", _paper), ("real_music", _real_music)])
def test_predictions_match_0_2(name, train):
    expected = np.load(FIXTURE)[name]
    got = train()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    assert np.ptp(expected) > 1e-3  # the figures are not a constant


MODEL_0_2 = os.path.join(os.path.dirname(__file__), "fixtures", "model_0_2.sktags")


def _model_data():
    rng = np.random.default_rng(7)
    return rng.normal(size=(24, 1, 8, 16)).astype(np.float32)


def test_a_model_file_of_0_2_loads_and_predicts_as_it_did():
    """``model_0_2.sktags``: a tiny paper-configuration CNNTagger saved by sktags 0.2.0."""
    tagger, metadata = load_model(MODEL_0_2)
    assert metadata == {"tags": ["a", "b"]}
    expected = np.load(MODEL_0_2.replace(".sktags", "_proba.npy"))
    np.testing.assert_array_equal(tagger.predict_proba(_model_data()), expected)


def test_a_model_file_this_version_cannot_read_names_its_version(tmp_path):
    """A 0.2 file whose tagger has a parameter this version lacks: one line, with the version."""
    path = tmp_path / "edited.sktags"
    with zipfile.ZipFile(MODEL_0_2) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "manifest.json":
                manifest = json.loads(data)
                manifest["estimator"]["params"]["removed_option"] = 1
                data = json.dumps(manifest)
            dst.writestr(item, data)
    with pytest.raises(ValueError, match=r"sktags 0\.2\.0, which sktags .* cannot read") as info:
        load_model(path)
    assert "\n" not in str(info.value) and "edited.sktags" in str(info.value)


if __name__ == "__main__":
    np.savez(FIXTURE, paper=_paper(), real_music=_real_music())
    print("wrote", FIXTURE)
