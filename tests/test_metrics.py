"""sktags.metrics checked number by number against scikit-learn's own functions."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import (
    confusion_matrix,
    f1_score,
    hamming_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.multioutput import MultiOutputClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.linear_model import LogisticRegression

from sktags.metrics import (
    SCORERS,
    context_report,
    neg_hamming_loss_scorer,
    roc_auc_macro,
    roc_auc_macro_scorer,
    roc_auc_per_label,
    tn_rate_macro_scorer,
    true_negative_rate,
    tune_thresholds,
)


def random_case(seed, n=60, m=5):
    rng = np.random.default_rng(seed)
    y_true = (rng.random((n, m)) < rng.uniform(0.2, 0.7, m)).astype(int)
    # Scores correlated with the truth, on a coarse grid so that ties occur.
    y_score = np.clip(np.round(0.5 * y_true + 0.6 * rng.random((n, m)), 2), 0, 1)
    return rng, y_true, y_score


def sk_tnr(t, p, sample_weight=None):
    tn, fp, fn, tp = confusion_matrix(t, p, labels=[0, 1], sample_weight=sample_weight).ravel()
    return tn / (tn + fp)


# --------------------------------------------------------------------------
# true_negative_rate
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_true_negative_rate_matches_sklearn(seed):
    rng, y_true, y_score = random_case(seed)
    y_pred = (y_score >= 0.5).astype(int)
    w = rng.uniform(0.1, 2.0, len(y_true))
    for sw in [None, w]:
        per = true_negative_rate(y_true, y_pred, sample_weight=sw)
        expected = [sk_tnr(y_true[:, j], y_pred[:, j], sw) for j in range(y_true.shape[1])]
        np.testing.assert_allclose(per, expected)
        np.testing.assert_allclose(
            true_negative_rate(y_true, y_pred, average="macro", sample_weight=sw), np.mean(expected)
        )
        # TN rate is the recall of the negative class.
        np.testing.assert_allclose(
            true_negative_rate(y_true, y_pred, average="micro", sample_weight=sw),
            recall_score(1 - y_true, 1 - y_pred, average="micro", sample_weight=sw),
        )


def test_true_negative_rate_zero_division_and_1d():
    y_true = np.array([[1, 0], [1, 1], [1, 0]])  # label 0 has no negatives
    y_pred = np.array([[1, 1], [0, 1], [1, 0]])
    with pytest.warns(UndefinedMetricWarning):
        np.testing.assert_allclose(true_negative_rate(y_true, y_pred), [0.0, 0.5])
    np.testing.assert_allclose(true_negative_rate(y_true, y_pred, zero_division=1.0), [1.0, 0.5])
    # NaN labels are left out of the macro average.
    assert true_negative_rate(y_true, y_pred, average="macro", zero_division=np.nan) == 0.5
    # 1-D input is one label.
    assert true_negative_rate([0, 0, 1, 0], [1, 0, 1, 0]) == pytest.approx([2 / 3])
    with pytest.raises(ValueError, match="average must be"):
        true_negative_rate(y_true, y_pred, average="weighted")
    with pytest.raises(ValueError, match="y_pred has 1 label columns, expected 2"):
        true_negative_rate(y_true, y_pred[:, :1])
    with pytest.raises(ValueError, match="y_true has 3 rows but y_pred has 2"):
        true_negative_rate(y_true, y_pred[:2])
    with pytest.raises(ValueError, match="zero_division"):
        true_negative_rate(y_true, y_pred, zero_division=0.5)


# --------------------------------------------------------------------------
# ROC-AUC
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_roc_auc_matches_sklearn(seed):
    rng, y_true, y_score = random_case(seed)
    w = rng.uniform(0.1, 2.0, len(y_true))
    for sw in [None, w]:
        per = roc_auc_per_label(y_true, y_score, sample_weight=sw)
        expected = [roc_auc_score(y_true[:, j], y_score[:, j], sample_weight=sw) for j in range(5)]
        np.testing.assert_allclose(per, expected)
        np.testing.assert_allclose(
            roc_auc_macro(y_true, y_score, sample_weight=sw),
            roc_auc_score(y_true, y_score, average="macro", sample_weight=sw),
        )


def test_roc_auc_macro_skips_single_class_labels():
    _, y_true, y_score = random_case(3)
    y_true[:, 1] = 0
    y_true[:, 3] = 1
    per = roc_auc_per_label(y_true, y_score)
    assert np.isnan(per[[1, 3]]).all()
    ok = [0, 2, 4]
    expected = np.mean([roc_auc_score(y_true[:, j], y_score[:, j]) for j in ok])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning while some label is scorable
        assert roc_auc_macro(y_true, y_score) == pytest.approx(expected)
    with pytest.warns(UndefinedMetricWarning, match="No label has both classes"):
        assert np.isnan(roc_auc_macro(y_true[:, [1, 3]], y_score[:, [1, 3]]))


def test_roc_auc_accepts_list_of_proba():
    _, y_true, y_score = random_case(4)
    proba = [np.column_stack([1 - s, s]) for s in y_score.T]
    assert roc_auc_macro(y_true, proba) == pytest.approx(roc_auc_macro(y_true, y_score))
    with pytest.raises(ValueError, match="y_score has shape"):
        roc_auc_macro(y_true, y_score[:, :2])
    bad = y_score.copy()
    bad[2, 3] = np.nan
    with pytest.raises(ValueError, match="NaN or inf at row 2, column 3"):
        roc_auc_macro(y_true, bad)


# --------------------------------------------------------------------------
# tune_thresholds
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed, grid", [(0, None), (1, np.linspace(0.05, 0.95, 13)), (2, [0.9, 0.5, 0.1, 0.3])])
def test_tune_thresholds_against_sklearn_f1(seed, grid):
    _, y_true, y_score = random_case(seed, n=40, m=4)
    y_true[:, 3] = 0  # a label without positives
    tuned = tune_thresholds(y_true, y_score, grid=grid)
    grid = np.arange(100) / 100 if grid is None else np.asarray(grid)
    expected = []
    for j in range(4):
        f1s = [
            f1_score(y_true[:, j], (y_score[:, j] >= t).astype(int), zero_division=1.0)
            for t in grid
        ]
        expected.append(grid[int(np.argmax(f1s))])  # first maximum
    np.testing.assert_array_equal(tuned, expected)


def test_tune_thresholds_by_hand():
    # Label 0: positives 0.8, 0.35; negatives 0.3, 0.1. Any t in (0.30, 0.35]
    # separates them (F1 = 1); the first such grid value is 0.31.
    # Label 1: F1 = 1 for t in (0.2, 0.6]; first: 0.21.
    y_true = [[1, 0], [1, 1], [0, 0], [0, 1]]
    y_score = [[0.8, 0.1], [0.35, 0.6], [0.3, 0.2], [0.1, 0.7]]
    np.testing.assert_array_equal(tune_thresholds(y_true, y_score), [0.31, 0.21])
    # Ties go to the first grid value in the given order.
    np.testing.assert_array_equal(tune_thresholds(y_true, y_score, grid=[0.5, 0.32, 0.4]), [0.32, 0.5])
    # A label without positives: F1 = 1 only when nothing is predicted.
    np.testing.assert_array_equal(tune_thresholds([[0], [0]], [[0.2], [0.45]]), [0.46])
    with pytest.raises(ValueError, match="grid must be"):
        tune_thresholds(y_true, y_score, grid=[])


# --------------------------------------------------------------------------
# context_report
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_context_report_matches_sklearn(seed):
    rng, y_true, y_score = random_case(seed)
    y_true[:, 2] = 0  # no positives: recall/precision/F1 undefined, AUC NaN
    thr = rng.uniform(0.3, 0.7, 5)
    rep = context_report(y_true, y_score, threshold=thr)
    y_pred = (y_score >= thr).astype(int)
    for j in range(5):
        t, p = y_true[:, j], y_pred[:, j]
        row = dict(zip(rep.metrics, rep.values[j]))
        assert row["hamming_loss"] == pytest.approx(hamming_loss(t, p))
        if j == 2:
            assert np.isnan(row["roc_auc"])
        else:
            assert row["roc_auc"] == pytest.approx(roc_auc_score(t, y_score[:, j]))
        assert row["recall"] == pytest.approx(recall_score(t, p, zero_division=0.0))
        assert row["precision"] == pytest.approx(precision_score(t, p, zero_division=0.0))
        assert row["f1"] == pytest.approx(f1_score(t, p, zero_division=0.0))
        assert row["tn_rate"] == pytest.approx(sk_tnr(t, p))
    macro = dict(zip(rep.metrics, rep.macro))
    assert macro["hamming_loss"] == pytest.approx(hamming_loss(y_true, y_pred))
    assert macro["recall"] == pytest.approx(recall_score(y_true, y_pred, average="macro", zero_division=0.0))
    assert macro["precision"] == pytest.approx(
        precision_score(y_true, y_pred, average="macro", zero_division=0.0)
    )
    assert macro["f1"] == pytest.approx(f1_score(y_true, y_pred, average="macro", zero_division=0.0))
    assert macro["roc_auc"] == pytest.approx(
        roc_auc_score(y_true[:, [0, 1, 3, 4]], y_score[:, [0, 1, 3, 4]], average="macro")
    )
    assert macro["tn_rate"] == pytest.approx(
        recall_score(1 - y_true, 1 - y_pred, average="macro", zero_division=0.0)
    )
    np.testing.assert_array_equal(rep.threshold, thr)
    np.testing.assert_array_equal(rep.support, y_true.sum(0))


def test_context_report_by_hand():
    # Four tracks, two contexts, threshold 0.5.
    y_true = np.array([[1, 0], [1, 1], [0, 1], [0, 0]])
    y_score = np.array([[0.9, 0.6], [0.4, 0.7], [0.6, 0.2], [0.1, 0.3]])
    # car:   pred [1,0,1,0] vs true [1,1,0,0]: TP=1 FN=1 FP=1 TN=1
    #        HL 2/4; AUC: pos {0.9,0.4} vs neg {0.6,0.1}: 3 of 4 pairs -> 0.75;
    #        recall 1/2, precision 1/2, F1 1/2, TNR 1/2.
    # chill: pred [1,1,0,0] vs true [0,1,1,0]: TP=1 FN=1 FP=1 TN=1
    #        HL 2/4; AUC: pos {0.7,0.2} vs neg {0.6,0.3}: 0.7 beats both, 0.2
    #        none -> 2/4; recall 1/2, precision 1/2, F1 1/2, TNR 1/2.
    rep = context_report(y_true, y_score, target_names=["car", "chill"])
    np.testing.assert_allclose(rep.values, [[0.5, 0.75, 0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]])
    np.testing.assert_allclose(rep.macro, [0.5, 0.625, 0.5, 0.5, 0.5, 0.5])
    # Per-label thresholds: car at 0.35 -> pred [1,1,1,0]: TP=2 FP=1 FN=0 TN=1;
    # recall 1, precision 2/3, F1 4/5, TNR 1/2, HL 1/4.
    rep = context_report(y_true, y_score, threshold=[0.35, 0.5], target_names=["car", "chill"])
    np.testing.assert_allclose(rep.values[0], [0.25, 0.75, 1.0, 2 / 3, 0.8, 0.5])
    d = rep.to_dict()
    assert d["car"]["precision"] == pytest.approx(2 / 3)
    assert d["macro avg"]["recall"] == pytest.approx(0.75)
    assert d["macro avg"]["support"] == 4
    text = str(rep)
    assert text.splitlines()[0].split() == [*rep.metrics, "support"]
    assert "macro avg" in text and "car" in text
    assert "0.67" in text.splitlines()[2]
    assert rep.metrics == ("hamming_loss", "roc_auc", "recall", "precision", "f1", "tn_rate")


def test_context_report_errors():
    y_true = [[1, 0], [0, 1]]
    y_score = [[0.9, 0.1], [0.2, 0.8]]
    with pytest.raises(ValueError, match="threshold must be"):
        context_report(y_true, y_score, threshold=[0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="target_names has 1 names"):
        context_report(y_true, y_score, target_names=["a"])
    with pytest.raises(ValueError, match="y_true must contain only 0 and 1"):
        context_report([[2, 0], [0, 1]], y_score)


# --------------------------------------------------------------------------
# Scorers
# --------------------------------------------------------------------------


def _blobs(seed=0, n=80, m=3):
    rng = np.random.default_rng(seed)
    Y = (rng.random((n, m)) < 0.5).astype(int)
    X = Y + 0.8 * rng.standard_normal((n, m))
    return X, Y


@pytest.mark.parametrize(
    "est",
    [
        KNeighborsClassifier(n_neighbors=5),  # predict_proba: list of (n, 2)
        MLPClassifier(hidden_layer_sizes=(5,), max_iter=50, random_state=0),  # (n, m)
        MultiOutputClassifier(LogisticRegression()),
    ],
)
def test_scorers_equal_functions(est):
    X, Y = _blobs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLP convergence
        est.fit(X[:60], Y[:60])
    Xt, Yt = X[60:], Y[60:]
    proba = est.predict_proba(Xt)
    scores = np.column_stack([p[:, 1] for p in proba]) if isinstance(proba, list) else proba
    pred = est.predict(Xt)
    assert roc_auc_macro_scorer(est, Xt, Yt) == pytest.approx(roc_auc_score(Yt, scores))
    assert neg_hamming_loss_scorer(est, Xt, Yt) == pytest.approx(-hamming_loss(Yt, pred))
    assert tn_rate_macro_scorer(est, Xt, Yt) == pytest.approx(
        recall_score(1 - Yt, 1 - pred, average="macro", zero_division=0.0)
    )
    assert set(SCORERS) == {"tn_rate_macro", "neg_hamming_loss", "roc_auc_macro"}


def test_scorers_in_grid_search_with_absent_label():
    X, Y = _blobs(1, n=60, m=3)
    Y[:30, 2] = 0  # label 2 absent from the first fold's test rows
    with warnings.catch_warnings():
        warnings.simplefilter("error", UndefinedMetricWarning)
        res = cross_validate(
            KNeighborsClassifier(n_neighbors=3), X, Y, cv=KFold(2), scoring=SCORERS
        )
    assert np.isfinite(res["test_roc_auc_macro"]).all()
    # The first fold's AUC is the mean over labels 0 and 1 only.
    knn = KNeighborsClassifier(n_neighbors=3).fit(X[30:], Y[30:])
    s = np.column_stack([p[:, 1] for p in knn.predict_proba(X[:30])])
    assert res["test_roc_auc_macro"][0] == pytest.approx(roc_auc_score(Y[:30, :2], s[:, :2]))

    candidates = [1, 3, 5, 9]
    grid = GridSearchCV(
        KNeighborsClassifier(), {"n_neighbors": candidates}, scoring=SCORERS,
        refit="roc_auc_macro", cv=KFold(3),
    ).fit(X, Y)
    assert np.isfinite(grid.cv_results_["mean_test_tn_rate_macro"]).all()
    # Independently: each candidate's mean macro AUC over the same folds, computed by
    # hand with roc_auc_score on the held-out probabilities; best_params_ is the argmax.
    by_hand = []
    for k in candidates:
        fold_scores = []
        for train, test in KFold(3).split(X):
            knn = KNeighborsClassifier(n_neighbors=k).fit(X[train], Y[train])
            s = np.column_stack([p[:, 1] for p in knn.predict_proba(X[test])])
            present = [j for j in range(Y.shape[1]) if len(np.unique(Y[test, j])) == 2]
            fold_scores.append(roc_auc_score(Y[test][:, present], s[:, present]))
        by_hand.append(np.mean(fold_scores))
    np.testing.assert_allclose(grid.cv_results_["mean_test_roc_auc_macro"], by_hand)
    assert grid.best_params_["n_neighbors"] == candidates[int(np.argmax(by_hand))]
    assert grid.best_score_ == pytest.approx(max(by_hand))
    assert "roc_auc_macro" in repr(roc_auc_macro_scorer)
