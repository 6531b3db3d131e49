"""EmbeddingTagger: a linear head or an MLP on fixed-length vectors, on the shared base."""

import os

import numpy as np
import pytest

from sktags import ContextWeightEstimator, EmbeddingTagger
from sktags.models import NeuralTagger, load_model, save_model


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 12)).astype(np.float32)
    Y = (X[:, :3] + 0.3 * rng.normal(size=(150, 3)) > 0).astype(int)
    return X, Y


def test_shares_the_base_with_cnntagger():
    from sktags import CNNTagger

    assert issubclass(EmbeddingTagger, NeuralTagger) and issubclass(CNNTagger, NeuralTagger)


def test_standardisation_is_fitted_on_the_training_part(data):
    X, Y = data
    tagger = EmbeddingTagger(max_epochs=2, random_state=0).fit(X, Y)
    train = np.setdiff1d(np.arange(len(X)), tagger.valid_indices_)
    np.testing.assert_allclose(tagger.mean_, X[train].astype(np.float64).mean(axis=0))
    np.testing.assert_allclose(tagger.scale_, X[train].astype(np.float64).std(axis=0))
    assert len(train) == 120 and tagger.n_features_in_ == 12


def test_predictions_do_not_depend_on_the_scale_of_the_features(data):
    """Standardised inputs: an affine change of each feature changes nothing."""
    X, Y = data
    a = EmbeddingTagger(max_epochs=5, random_state=0).fit(X, Y)
    shift, scale = np.arange(12) - 6.0, 10.0 ** (np.arange(12) % 4)
    Xs = (X * scale + shift).astype(np.float64)
    b = EmbeddingTagger(max_epochs=5, random_state=0).fit(Xs, Y)
    np.testing.assert_allclose(b.predict_proba(Xs), a.predict_proba(X), atol=1e-4)


def test_linear_head_and_mlp_learn_as_well_as_logistic_regression(data):
    """Oracle: scikit-learn's LogisticRegression, one per tag, on the same split."""
    from sklearn.linear_model import LogisticRegression

    X, Y = data
    train, test = slice(0, 100), slice(100, None)
    reference = np.mean([(LogisticRegression().fit(X[train], Y[train, j]).predict(X[test])
                          == Y[test, j]).mean() for j in range(3)])
    assert reference > 0.8
    linear = EmbeddingTagger(hidden_units=(), lr=1e-2, random_state=0).fit(X[train], Y[train])
    assert (linear.predict(X[test]) == Y[test]).mean() > reference - 0.06
    tagger = EmbeddingTagger(hidden_units=(16,), random_state=0).fit(X[train], Y[train])
    assert (tagger.predict(X[test]) == Y[test]).mean() > 0.7  # chance is about 0.5
    linears = [m for m in tagger.net_.module_.modules() if m.__class__.__name__ == "Linear"]
    assert [(m.in_features, m.out_features) for m in linears] == [(12, 16), (16, 3)]


def test_weighting_and_binary_y(data):
    X, Y = data
    tagger = EmbeddingTagger(weighting=ContextWeightEstimator(), max_epochs=3,
                             random_state=0).fit(X, Y)
    assert tagger.weighting_ is not tagger.weighting
    binary = EmbeddingTagger(max_epochs=3, random_state=0).fit(X, np.where(Y[:, 0], "a", "b"))
    assert binary.predict_proba(X).shape == (150, 2) and set(binary.predict(X)) <= {"a", "b"}


def test_model_file_and_checkpoint_folder(data, tmp_path):
    X, Y = data
    tagger = EmbeddingTagger(hidden_units=(8,), max_epochs=3, random_state=0,
                             checkpoint_dir=tmp_path / "ck").fit(X, Y)
    assert os.path.basename(os.path.dirname(tagger.checkpoint_path_)).startswith(
        "embeddingtagger-")
    save_model(tmp_path / "m.sktags", tagger)
    loaded, _ = load_model(tmp_path / "m.sktags")
    np.testing.assert_array_equal(loaded.predict_proba(X), tagger.predict_proba(X))


@pytest.mark.parametrize("params, match", [
    (dict(hidden_units=(True,)), "hidden_units"),
    (dict(hidden_units=(0,)), "hidden_units"),
    (dict(hidden_units=[8]), "hidden_units"),
    (dict(batch_size=True), "batch_size"),
])
def test_bad_params(data, params, match):
    X, Y = data
    with pytest.raises(ValueError, match=match):
        EmbeddingTagger(**params).fit(X, Y)


def test_input_errors(data):
    X, Y = data
    with pytest.raises(ValueError, match="0 sample"):
        EmbeddingTagger().fit(X[:0], Y[:0])
    tagger = EmbeddingTagger(max_epochs=1, random_state=0).fit(X, Y)
    with pytest.raises(ValueError, match="12 features"):
        tagger.predict(X[:, :5])
