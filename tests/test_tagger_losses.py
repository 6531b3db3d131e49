"""The missing-label losses inside the taggers: every loss trains, combines and persists.

The losses themselves are checked against the published formulas in
``test_losses.py``; here they go through ``CNNTagger(loss=...)`` and
``EmbeddingTagger(loss=...)`` with the paper's weights, crops, mixup,
checkpoints, grid search and model files.
"""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from sktags import CNNTagger, ContextWeightEstimator, EmbeddingTagger
from sktags.losses import LOSS_NAMES, LOSSES, AsymmetricLoss, SPLCLoss, TrackConsistency
from sktags.models import load_model, save_model

TINY = dict(filters=(2, 2), hidden_units=4, batch_size=8, device="cpu", random_state=0,
            patience=None)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 1, 8, 12)).astype(np.float32)
    Y = (rng.random((32, 3)) < 0.5).astype(int)
    Y[0] = 1  # every label has positives and negatives
    Y[1] = 0
    return X, Y


def test_the_names_without_torch_are_the_registry():
    assert tuple(LOSSES) == LOSS_NAMES


def test_the_recommendation_is_a_loss_that_both_taggers_and_the_cli_take(data):
    from sktags.losses import RECOMMENDED, LargeLossRejection

    X, Y = data
    tagger = CNNTagger(**TINY, loss=RECOMMENDED, max_epochs=2, valid_size=None).fit(X, Y)
    assert type(tagger.net_.criterion_) is LargeLossRejection  # the benchmark's winner
    assert RECOMMENDED in LOSS_NAMES  # hence a valid ``sktags train --loss`` value


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_every_loss_trains_the_cnn_with_the_papers_weights_crops_and_mixup(data, name):
    X, Y = data
    tagger = CNNTagger(**TINY, loss=name, weighting=ContextWeightEstimator(), crop_frames=8,
                       mixup=0.4, max_epochs=3, valid_size=0.25).fit(X, Y)
    proba = tagger.predict_proba(X)
    assert proba.shape == Y.shape and np.isfinite(proba).all()
    assert type(tagger.net_.criterion_) is LOSSES[name]
    history = tagger.net_.history
    assert np.isfinite(history[:, "train_loss"]).all()
    assert np.isfinite(history[:, "valid_loss"]).all()
    if hasattr(tagger.net_.criterion_, "epoch"):  # set_epoch told the completed epochs
        assert int(tagger.net_.criterion_.epoch) == 2


def test_a_loss_changes_training_and_bce_is_the_default(data):
    X, Y = data
    default = CNNTagger(**TINY, max_epochs=2, valid_size=None).fit(X, Y)
    bce = CNNTagger(**TINY, loss="bce", max_epochs=2, valid_size=None).fit(X, Y)
    asl = CNNTagger(**TINY, loss="asl", max_epochs=2, valid_size=None).fit(X, Y)
    np.testing.assert_array_equal(default.predict_proba(X), bce.predict_proba(X))
    assert np.abs(asl.predict_proba(X) - bce.predict_proba(X)).max() > 1e-4


def test_a_loss_instance_is_copied_never_trained_in_place(data):
    X, Y = data
    loss = SPLCLoss(change_epoch=0)
    tagger = CNNTagger(**TINY, loss=loss, max_epochs=2, valid_size=None).fit(X, Y)
    assert tagger.loss is loss and int(loss.epoch) == 0  # the parameter is untouched
    assert tagger.net_.criterion_ is not loss and int(tagger.net_.criterion_.epoch) == 1
    twin = clone(tagger)
    assert twin.loss is not loss and repr(twin.loss) == repr(loss)


@pytest.mark.parametrize("name", ["ll_r", "splc", "role", "track_consistency"])
def test_epoch_and_sample_state_resume_exactly(data, tmp_path, name):
    X, Y = data
    params = dict(TINY, loss=name, crop_frames=8, mixup=0.4, valid_size=None,
                  weighting=ContextWeightEstimator())
    whole = CNNTagger(**params, max_epochs=4).fit(X, Y)
    CNNTagger(**params, checkpoint_dir=tmp_path, max_epochs=2).fit(X, Y)
    resumed = CNNTagger(**params, checkpoint_dir=tmp_path, max_epochs=4).fit(X, Y)
    np.testing.assert_array_equal(resumed.net_.history[:, "train_loss"],
                                  whole.net_.history[:, "train_loss"])
    np.testing.assert_array_equal(resumed.predict_proba(X), whole.predict_proba(X))
    for key, value in whole.net_.criterion_.state_dict().items():
        torch.testing.assert_close(resumed.net_.criterion_.state_dict()[key], value,
                                   rtol=0, atol=0)


def test_grid_search_over_losses_and_their_parameters():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 5)).astype(np.float32)
    Y = (X[:, :3] + 0.3 * rng.normal(size=(60, 3)) > 0).astype(int)
    grid = {"loss": ["bce", "em", AsymmetricLoss(gamma_neg=1), AsymmetricLoss(gamma_neg=2)]}
    search = GridSearchCV(EmbeddingTagger(random_state=0), grid, cv=2,
                          scoring="roc_auc").fit(X, Y)
    assert len(search.cv_results_["params"]) == 4
    best = search.best_estimator_.loss
    assert all(best is not candidate for candidate in grid["loss"])  # cloned, never shared
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all() and scores.max() > 0.7


@pytest.mark.parametrize("loss", ["em", AsymmetricLoss(gamma_neg=2),
                                  TrackConsistency(base=AsymmetricLoss(gamma_neg=1), beta=0.5)])
def test_losses_round_trip_through_model_files(tmp_path, loss):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 4)).astype(np.float32)
    Y = (rng.random((30, 2)) < 0.5).astype(int)
    tagger = EmbeddingTagger(loss=loss, max_epochs=3, random_state=0).fit(X, Y)
    save_model(tmp_path / "m.sktags", tagger)
    loaded, _ = load_model(tmp_path / "m.sktags")
    assert type(loaded.loss) is type(loss) and repr(loaded.loss) == repr(loss)
    assert loaded.loss is not loss
    np.testing.assert_array_equal(loaded.predict_proba(X), tagger.predict_proba(X))


def test_a_custom_loss_module_is_refused_by_model_files(tmp_path):
    class Custom(torch.nn.Module):
        def forward(self, logits, y, weight=None):
            return torch.nn.functional.binary_cross_entropy_with_logits(logits, y)

    X = np.random.default_rng(3).normal(size=(20, 3)).astype(np.float32)
    Y = np.tile([[0, 1], [1, 0]], (10, 1))
    tagger = EmbeddingTagger(loss=Custom(), max_epochs=2, random_state=0).fit(X, Y)
    with pytest.raises(ValueError, match="custom code"):
        save_model(tmp_path / "m.sktags", tagger)
