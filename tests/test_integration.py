"""CNNTagger end to end: Pipeline on real audio, GridSearchCV over weighting
schemes with per-fold playlist counts, no test-fold leakage, reproducibility
and persistence.

All networks are tiny (4 filters per block, 8 hidden units, 2 epochs) and the
inputs small (16 mel bands), so the whole module runs in seconds.
"""

import pickle
from pathlib import Path

import joblib
import numpy as np
import pytest
import sklearn
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import Pipeline

from sktags import CNNTagger, ContextWeightEstimator, MelSpectrogramTransformer
from sktags.metrics import (
    neg_hamming_loss_scorer,
    roc_auc_macro_scorer,
    tn_rate_macro_scorer,
)

AUDIO_EXT = {".ogg", ".wav", ".flac", ".mp3"}
TINY = dict(filters=(4, 4, 4, 4), hidden_units=8, max_epochs=2, batch_size=8,
            valid_size=None, device="cpu", random_state=0)


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny nets run fastest on one thread, and do not stall on a loaded machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def tiny_tagger(**params):
    return CNNTagger(**{**TINY, **params})


@pytest.fixture(scope="module")
def audio_paths(fixtures_dir):
    """The committed CC recordings (5 s to 133 s, with their licence texts)."""
    root = Path(fixtures_dir) / "audio"
    paths = sorted(str(p) for p in root.glob("*") if p.suffix.lower() in AUDIO_EXT)
    assert len(paths) >= 3, f"expected the CC audio fixtures in {root}"
    return paths


# ---------------------------------------------------------------------------
# Data for the precomputed-feature tests: labels with a signal in X, and
# playlist counts consistent with the labels (>= 3 where y = 1) whose rows
# are all distinct, so that a row of counts identifies its sample.
N, M = 30, 4
# three known folds of 10; each test fold holds positives and negatives of
# every label, so that every ranking scorer is defined
SPLITS = [(np.setdiff1d(np.arange(N), te), te)
          for te in (np.arange(0, 10), np.arange(10, 20), np.arange(20, 30))]


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    Y = np.zeros((N, M), dtype=np.uint8)
    for fold in range(3):
        for i in range(10):
            # label j on for rows where bit j of (i + fold) is set, plus noise
            Y[fold * 10 + i] = [(i >> j) & 1 for j in range(M)]
    Y[rng.random((N, M)) < 0.1] ^= 1
    for fold in range(3):
        rows = slice(fold * 10, fold * 10 + 10)
        assert (Y[rows].sum(0) > 0).all() and (Y[rows].sum(0) < 10).all()
    X = rng.standard_normal((N, 1, 16, 16)).astype(np.float32)
    X[:, 0, :M, :] += 2.0 * Y[:, :, None]  # label j brightens band j
    C = np.where(Y == 1, 3 + rng.integers(0, 5, (N, M)), rng.integers(0, 3, (N, M)))
    C[:, 0] += 10 * np.arange(N)  # distinct rows
    return X, Y, C.astype(np.float64)


PARAM_GRID = [
    {"tagger__weighting": [None]},
    {
        "tagger__weighting": [ContextWeightEstimator()],
        "tagger__weighting__negative": ["exact_match", "ignore_zeros"],
        "tagger__weighting__positive": [None, "tfidf"],
    },
]
SCORING = {
    "roc_auc": "roc_auc",
    "f1_macro": "f1_macro",
    "average_precision": "average_precision",
    "tn_rate": tn_rate_macro_scorer,
    "neg_hamming": neg_hamming_loss_scorer,
    "roc_auc_sktags": roc_auc_macro_scorer,
}


class SpyWeighting(ContextWeightEstimator):
    """A ContextWeightEstimator that records the rows every fit sees.

    clone() keeps the subclass, so the fits inside GridSearchCV are recorded.
    The log is a class attribute (the searches run in one process).
    """

    log = []

    def fit(self, Y, playlist_counts=None):
        SpyWeighting.log.append((np.array(Y, copy=True),
                                 None if playlist_counts is None
                                 else np.array(playlist_counts, copy=True)))
        return super().fit(Y, playlist_counts=playlist_counts)


def spy_grid():
    grid = [dict(g) for g in PARAM_GRID]
    grid[1]["tagger__weighting"] = [SpyWeighting()]
    return grid


def rows_of(C_seen, C):
    """The sample indices of each row of C_seen (rows of C are distinct)."""
    idx = [int(np.flatnonzero((C == row).all(axis=1))[0]) for row in C_seen]
    assert len(idx) == len(C_seen)
    return np.array(idx)


def check_fits_saw_train_rows_only(X, Y, C, log, n_fits):
    """Each recorded weighting fit saw exactly one split's training rows (or
    all rows for the final refit), with counts aligned to the labels."""
    train_sets = [set(tr.tolist()) for tr, _ in SPLITS]
    assert len(log) == n_fits
    n_refit = 0
    for Y_seen, C_seen in log:
        assert C_seen is not None, "playlist_counts did not reach the weighting"
        idx = rows_of(C_seen, C)
        assert_array_equal(Y_seen, Y[idx])  # counts sliced along with labels
        if len(idx) == N:
            n_refit += 1
            continue
        assert set(idx.tolist()) in train_sets, "a fit saw rows of its test fold"
    return n_refit


# ---------------------------------------------------------------------------
def test_pipeline_on_real_audio(audio_paths):
    paths = audio_paths * 2  # two rows per recording
    Y = np.zeros((len(paths), 3), dtype=np.uint8)
    Y[::2, 0] = 1
    Y[1::2, 1] = 1
    Y[: len(paths) // 2, 2] = 1
    mel = MelSpectrogramTransformer(offset=0.0, duration=2.0, n_mels=16)
    pipe = Pipeline([
        ("mel", mel),
        ("tagger", tiny_tagger(weighting=ContextWeightEstimator())),
    ])
    assert pipe.fit(paths, Y) is pipe
    pred = pipe.predict(paths)
    proba = pipe.predict_proba(paths)
    assert pred.shape == proba.shape == Y.shape
    assert set(np.unique(pred)) <= {0, 1}
    assert ((proba >= 0) & (proba <= 1)).all()
    assert_array_equal(pred, (proba >= 0.5).astype(pred.dtype))  # default threshold
    # the pipeline is the composition of its steps
    X = MelSpectrogramTransformer(offset=0.0, duration=2.0, n_mels=16).transform(paths)
    assert X.shape[:3] == (len(paths), 1, 16)
    assert_allclose(pipe[-1].predict_proba(X), proba, rtol=0, atol=1e-6)
    # the fitted weighting is a clone, the parameter untouched
    assert pipe[-1].weighting_ is not pipe[-1].weighting
    assert not hasattr(pipe[-1].weighting, "n_features_in_")


@pytest.mark.parametrize("routing", [False, True], ids=["legacy", "metadata_routing"])
def test_grid_search_over_weighting_schemes(routing):
    X, Y, C = make_data()
    SpyWeighting.log.clear()
    with sklearn.config_context(enable_metadata_routing=routing):
        tagger = tiny_tagger()
        if routing:
            tagger = tagger.set_fit_request(playlist_counts=True)
        search = GridSearchCV(
            Pipeline([("tagger", tagger)]),
            spy_grid(),
            scoring=SCORING,
            refit="roc_auc_sktags",
            cv=SPLITS,
            error_score="raise",
        )
        if routing:
            search.fit(X, Y, playlist_counts=C)
        else:
            search.fit(X, Y, tagger__playlist_counts=C)

    res = search.cv_results_
    assert len(res["params"]) == 5  # None + 2 negative x 2 positive schemes
    for name in SCORING:
        scores = res[f"mean_test_{name}"]
        assert np.isfinite(scores).all(), name
    # the scorers are not constant: the label signal in X is learnable
    assert res["mean_test_roc_auc"].max() > 0.5
    assert_allclose(res["mean_test_roc_auc"], res["mean_test_roc_auc_sktags"])
    negs = [p.get("tagger__weighting__negative") for p in res["params"]]
    assert negs.count("exact_match") == negs.count("ignore_zeros") == 2

    # 4 weighted candidates x 3 folds, plus the refit when it picked one
    best_weighted = search.best_params_["tagger__weighting"] is not None
    n_refit = check_fits_saw_train_rows_only(
        X, Y, C, SpyWeighting.log, 4 * 3 + int(best_weighted))
    assert n_refit == int(best_weighted)
    best = search.best_estimator_
    assert best.predict(X).shape == Y.shape
    assert search.best_index_ == np.argmax(res["mean_test_roc_auc_sktags"])


@pytest.mark.parametrize("negative", ["exact_match", "ignore_zeros"])
@pytest.mark.parametrize("routing", [False, True], ids=["legacy", "metadata_routing"])
def test_fitted_weights_come_from_training_rows(negative, routing):
    """Recompute each fold's weights from its training indices alone."""
    X, Y, C = make_data()
    weighting = ContextWeightEstimator(negative=negative, positive="tfidf")
    with sklearn.config_context(enable_metadata_routing=routing):
        tagger = tiny_tagger(weighting=weighting)
        if routing:
            tagger.set_fit_request(playlist_counts=True)
        cv = cross_validate(tagger, X, Y, cv=SPLITS, params={"playlist_counts": C},
                            scoring="roc_auc", return_estimator=True,
                            return_indices=True, error_score="raise")
    folds = zip(cv["estimator"], cv["indices"]["train"], cv["indices"]["test"], SPLITS)
    for est, tr, te, (tr_known, te_known) in folds:
        assert_array_equal(tr, tr_known)
        assert_array_equal(te, te_known)
        fitted = est.weighting_
        # label statistics: co-occurrence counts of the training rows only
        assert_array_equal(fitted.cooccurrence_, Y[tr].T.astype(np.int64) @ Y[tr])
        ref = ContextWeightEstimator(negative=negative, positive="tfidf").fit(Y[tr], playlist_counts=C[tr])
        leaky = ContextWeightEstimator(negative=negative, positive="tfidf").fit(Y, playlist_counts=C)
        W_fold = fitted.transform(Y[te], playlist_counts=C[te])
        assert_allclose(W_fold, ref.transform(Y[te], playlist_counts=C[te]))
        # the check can fail: statistics that include the test fold differ
        assert not np.allclose(leaky.transform(Y[te], playlist_counts=C[te]), W_fold)
        assert weighting is not fitted and not hasattr(weighting, "cooccurrence_")


def test_same_random_state_same_predictions():
    X, Y, C = make_data()
    params = dict(weighting=ContextWeightEstimator(), valid_size=0.2, max_epochs=3)
    a = tiny_tagger(**params).fit(X, Y, playlist_counts=C).predict_proba(X)
    b = tiny_tagger(**params).fit(X, Y, playlist_counts=C).predict_proba(X)
    assert_array_equal(a, b)
    c = tiny_tagger(**params, random_state=1).fit(X, Y, playlist_counts=C).predict_proba(X)
    assert not np.array_equal(a, c)  # the seed matters: the check above can fail


def test_fitted_pipeline_round_trips(audio_paths, tmp_path):
    Y = np.array([[i % 2, (i // 2) % 2] for i in range(len(audio_paths))], dtype=np.uint8)
    Y[0] = [1, 1]
    pipe = Pipeline([
        ("mel", MelSpectrogramTransformer(offset=0.0, duration=2.0, n_mels=16)),
        ("tagger", tiny_tagger(weighting=ContextWeightEstimator(positive=None))),
    ]).fit(audio_paths, Y)
    proba = pipe.predict_proba(audio_paths)
    pred = pipe.predict(audio_paths)

    restored = pickle.loads(pickle.dumps(pipe))
    assert_array_equal(restored.predict_proba(audio_paths), proba)
    assert_array_equal(restored.predict(audio_paths), pred)

    joblib.dump(pipe, tmp_path / "pipe.joblib")
    restored = joblib.load(tmp_path / "pipe.joblib")
    assert_array_equal(restored.predict_proba(audio_paths), proba)
    assert_array_equal(restored.predict(audio_paths), pred)
