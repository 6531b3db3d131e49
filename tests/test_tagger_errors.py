"""Bad parameters, fitted state and diverging training of the taggers: one clear error each.

Each case gave a raw traceback, or a silent wrong result, in sktags 0.2.
"""

import json
import os

import numpy as np
import pytest

from sktags.metrics import ContextReport
from sktags.models import CNNTagger, load_model, save_model

TINY = dict(filters=(2, 2), hidden_units=4, max_epochs=1, batch_size=8, random_state=0,
            device="cpu")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 1, 8, 32)).astype(np.float32)
    Y = (rng.random((24, 2)) < 0.5).astype(int)
    return X, Y


@pytest.mark.parametrize("hop", [0, -3])
def test_a_bad_crop_hop_in_a_fitted_model_names_crop_hop(data, tmp_path, hop):
    """A model file whose window_ holds a bad hop (edited, or hostile)."""
    X, Y = data
    path = tmp_path / "m.sktags"
    save_model(path, CNNTagger(**TINY, crop_frames=8).fit(X, Y))
    tagger, _ = load_model(path)
    tagger.window_ = (8, hop)
    with pytest.raises(ValueError, match="crop_hop must be a positive"):
        tagger.predict_proba(X)


@pytest.mark.parametrize("callbacks", [["x"], [("name", "x")], [object()]])
def test_callbacks_that_are_not_callbacks(data, callbacks):
    X, Y = data
    with pytest.raises(TypeError, match="callbacks must hold skorch callbacks"):
        CNNTagger(**TINY, callbacks=callbacks).fit(X, Y)


@pytest.mark.parametrize("filters", [("a",), (), (4, 0), (True, 2), (2.5,)])
def test_bad_filters_name_filters(data, filters):
    X, Y = data
    with pytest.raises(ValueError, match="filters must be a non-empty sequence of positive"):
        CNNTagger(**{**TINY, "filters": filters}).fit(X, Y)


def test_target_names_of_ints_are_refused_at_once():
    with pytest.raises(ValueError, match="target_names must be strings, got 1 "):
        ContextReport([1, 2], np.zeros((2, 6)), np.zeros(6), np.ones(2), np.full(2, 0.5))


def test_clips_of_several_lengths_without_crop_frames_say_set_crop_frames(data):
    X, Y = data
    clips = [X[i, :, :, :n] for i, n in enumerate([32, 20] * 12)]
    with pytest.raises(ValueError, match="set crop_frames"):
        CNNTagger(**TINY).fit(clips, Y)
    tagger = CNNTagger(**TINY).fit(X, Y)
    with pytest.raises(ValueError, match="set crop_frames"):
        tagger.predict_proba(clips)


def test_diverging_training_stops_at_the_first_non_finite_loss(data, tmp_path):
    X, Y = data
    tagger = CNNTagger(**{**TINY, "max_epochs": 3}, optimizer="adamw", lr=1e4,
                       checkpoint_dir=tmp_path)
    with pytest.raises(FloatingPointError, match=r"in epoch 2;.*lower lr.*float32"):
        tagger.fit(X, Y)
    assert not hasattr(tagger, "net_")  # nothing half-fitted
    (run,) = [d for d in os.listdir(tmp_path) if d.startswith("cnntagger-")]
    import torch

    state = torch.load(tmp_path / run / "checkpoint.pt", weights_only=True)
    history = json.loads(state["history"])
    assert len(history) == 1 and np.isfinite(history[0]["train_loss"])  # the last finite one
    assert all(torch.isfinite(v).all() for v in state["module"].values())
