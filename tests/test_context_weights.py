"""ContextWeightEstimator against hand-worked cases and a brute force from the definitions."""

import csv
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from sktags import ContextWeightEstimator
from sktags.weighting import _label_sets as ls

# --------------------------------------------------------------------------
# Brute force, loop by loop from ../shared/reference/authors_protocol.md
# --------------------------------------------------------------------------


def brute_ignore_zeros(Yfit, Yq, fallback=1.0):
    W = np.ones(Yq.shape)
    for i, y in enumerate(Yq):
        S = np.flatnonzero(y == 1)
        contains = np.all(Yfit[:, S] == 1, axis=1)  # all rows when S is empty
        T = contains.sum()
        for c in range(Yq.shape[1]):
            if y[c] == 1:
                continue
            P = np.sum(contains & (Yfit[:, c] == 1))
            W[i, c] = (T - P) / T if T > 0 else fallback
    return W


def brute_exact_match(Yfit, Yq, unseen="ignore_zeros"):
    W = np.ones(Yq.shape)
    for i, y in enumerate(Yq):
        n0 = np.all(Yfit == y, axis=1).sum()
        if n0 == 0:  # unseen vector: documented back-off
            if unseen == "ignore_zeros":
                W[i] = brute_ignore_zeros(Yfit, y[None, :])[0]
            else:
                W[i] = np.where(y == 1, 1.0, unseen)
            continue
        for c in range(Yq.shape[1]):
            if y[c] == 1:
                continue
            y1 = y.copy()
            y1[c] = 1
            n1 = np.all(Yfit == y1, axis=1).sum()
            W[i, c] = n0 / (n0 + n1)
    return W


def brute_raw(Y, C, totals):
    n, m = Y.shape
    raw = np.zeros((n, m))
    for i in range(n):
        k = Y[i].sum()
        for c in range(m):
            if C[i, c] > 0 and 0 < k < m and totals[c] > 0:
                raw[i, c] = C[i, c] / totals[c] * np.log(m / k)
    return raw


def brute_tfidf(Yfit, Cfit, Yq, Cq, clip=(0.0, 2.0)):
    m = Yfit.shape[1]
    totals = Cfit.sum(axis=0)
    rfit = brute_raw(Yfit, Cfit, totals)
    rq = brute_raw(Yq, Cq, totals)
    W = np.zeros(Yq.shape)
    for c in range(m):
        vals = rfit[rfit[:, c] > 0, c]
        ok = vals.size >= 2 and np.ptp(vals) > 0
        for i in range(Yq.shape[0]):
            if rq[i, c] > 0:
                w = (rq[i, c] - vals.mean()) / vals.std(ddof=1) + 1 if ok else 1.0
                W[i, c] = w if clip is None else min(max(w, clip[0]), clip[1])
    return W


def brute_weights(Yfit, Cfit, Yq, Cq, negative, positive, unseen="ignore_zeros"):
    if negative == "exact_match":
        neg = brute_exact_match(Yfit, Yq, unseen)
    elif negative == "ignore_zeros":
        neg = brute_ignore_zeros(Yfit, Yq, 1.0 if unseen == "ignore_zeros" else unseen)
    else:
        neg = np.ones(Yq.shape)
    pos = brute_tfidf(Yfit, Cfit, Yq, Cq) if positive == "tfidf" else np.ones(Yq.shape)
    return np.where(Yq == 1, pos, neg)


def random_labels(rng, n, m, n_proto=6):
    """Correlated labels: noisy copies of a few prototypes, so that vectors repeat."""
    proto = rng.random((n_proto, m)) < 0.4
    Y = proto[rng.integers(n_proto, size=n)]
    flip = rng.random((n, m)) < 0.08
    return (Y ^ flip).astype(np.uint8)


def random_counts(rng, Y):
    C = np.where(Y == 1, rng.integers(0, 40, Y.shape), 0).astype(float)
    stray = rng.random(Y.shape) < 0.03  # y = 0 but n > 0, as in the real data
    C[stray & (Y == 0)] = rng.integers(1, 3, (stray & (Y == 0)).sum())
    return C


# --------------------------------------------------------------------------
# Hand-worked cases
# --------------------------------------------------------------------------

# Five tracks, three contexts.
Y5 = np.array(
    [
        [1, 0, 0],
        [1, 1, 0],
        [1, 1, 0],
        [1, 1, 1],
        [0, 0, 0],
    ]
)


def test_exact_match_by_hand():
    W = ContextWeightEstimator(negative="exact_match").fit_transform(Y5)
    expected = np.array(
        [
            # [1,0,0] occurs once (N0=1); [1,1,0] twice -> c=1: 1/(1+2);
            # [1,0,1] never -> c=2: 1 (N1=0).
            [1.0, 1 / 3, 1.0],
            # [1,1,0] twice; [1,1,1] once -> c=2: 2/(2+1).
            [1.0, 1.0, 2 / 3],
            [1.0, 1.0, 2 / 3],
            # all labels: no negative entries.
            [1.0, 1.0, 1.0],
            # [0,0,0] once; [1,0,0] once -> c=0: 1/2; [0,1,0], [0,0,1] never -> 1.
            [1 / 2, 1.0, 1.0],
        ]
    )
    np.testing.assert_allclose(W, expected, rtol=1e-6)


def test_ignore_zeros_by_hand():
    W = ContextWeightEstimator(negative="ignore_zeros").fit_transform(Y5)
    expected = np.array(
        [
            # S={0}: T=4 rows contain label 0; 3 also have 1 -> (4-3)/4;
            # 1 also has 2 -> (4-1)/4.
            [1.0, 1 / 4, 3 / 4],
            # S={0,1}: T=3; 1 has label 2 -> (3-1)/3.
            [1.0, 1.0, 2 / 3],
            [1.0, 1.0, 2 / 3],
            [1.0, 1.0, 1.0],
            # S empty: T=5 (all rows); label 0 in 4 -> 1/5; label 1 in 3 -> 2/5;
            # label 2 in 1 -> 4/5.
            [1 / 5, 2 / 5, 4 / 5],
        ]
    )
    np.testing.assert_allclose(W, expected, rtol=1e-6)


def test_tfidf_by_hand():
    # m = 3 contexts, four tracks.
    Y = np.array([[1, 0, 0], [1, 1, 0], [1, 0, 1], [1, 1, 1]])
    C = np.array([[10, 0, 0], [20, 5, 0], [30, 0, 4], [40, 5, 4]], dtype=float)
    # N = (100, 10, 8). idf = ln(3/1), ln(3/2), ln(3/2), ln(3/3)=0.
    # Context 0 raw: 0.1 ln3, 0.2 ln1.5, 0.3 ln1.5, 0 (all labels).
    r = np.array([0.1 * np.log(3), 0.2 * np.log(1.5), 0.3 * np.log(1.5)])
    z = (r - r.mean()) / r.std(ddof=1) + 1
    # Context 1: a single raw > 0 entry (track 1: 0.5 ln1.5) -> no z-score -> 1.
    # Context 2: a single raw > 0 entry (track 2) -> 1.
    expected = np.array(
        [
            [z[0], 1.0, 1.0],  # negatives: weight 1 (negative=None)
            [z[1], 1.0, 1.0],
            [z[2], 1.0, 1.0],
            [0.0, 0.0, 0.0],  # idf = 0 for a track with all labels
        ]
    )
    est = ContextWeightEstimator(negative=None, positive="tfidf")
    W = est.fit_transform(Y, playlist_counts=C)
    np.testing.assert_allclose(W, np.clip(expected, 0, 2), rtol=1e-6)
    np.testing.assert_allclose(est.playlist_totals_, [100, 10, 8])
    np.testing.assert_allclose(est.tfidf_mean_, [r.mean(), 0, 0])
    np.testing.assert_allclose(est.tfidf_std_, [r.std(ddof=1), 0, 0])


# --------------------------------------------------------------------------
# Brute force on random matrices
# --------------------------------------------------------------------------


@pytest.mark.parametrize("negative", ["ignore_zeros", "exact_match", None])
@pytest.mark.parametrize("positive", [None, "tfidf"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fit_transform_matches_brute_force(negative, positive, seed):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(2, 8))
    Y = random_labels(rng, 80, m)
    Y[0] = 1  # an all-label row
    Y[1] = 0  # a row without labels
    C = random_counts(rng, Y)
    est = ContextWeightEstimator(negative=negative, positive=positive)
    W = est.fit_transform(Y, playlist_counts=C)
    assert W.dtype == np.float32 and W.shape == Y.shape
    assert np.isfinite(W).all()
    np.testing.assert_allclose(W, brute_weights(Y, C, Y, C, negative, positive), atol=1e-6)


@pytest.mark.parametrize("negative", ["ignore_zeros", "exact_match"])
@pytest.mark.parametrize("unseen", ["ignore_zeros", 0.5])
@pytest.mark.parametrize("seed", [3, 4])
def test_transform_new_rows_matches_brute_force(negative, unseen, seed):
    rng = np.random.default_rng(seed)
    m = 6
    Yfit = random_labels(rng, 60, m)
    Yq = np.vstack([random_labels(rng, 40, m, n_proto=10), np.ones((1, m)), np.zeros((1, m))])
    Yq = Yq.astype(np.uint8)
    Cfit, Cq = random_counts(rng, Yfit), random_counts(rng, Yq)
    est = ContextWeightEstimator(negative=negative, positive="tfidf", unseen=unseen)
    W = est.fit(Yfit, playlist_counts=Cfit).transform(Yq, playlist_counts=Cq)
    expected = brute_weights(Yfit, Cfit, Yq, Cq, negative, "tfidf", unseen)
    np.testing.assert_allclose(W, expected, atol=1e-6)
    # The query really contains vectors unseen at fit.
    fit_rows = {tuple(r) for r in Yfit}
    assert any(tuple(r) not in fit_rows for r in Yq)


@pytest.mark.parametrize("negative", ["ignore_zeros", "exact_match"])
def test_pairwise_path_equals_table_path(negative, monkeypatch):
    rng = np.random.default_rng(5)
    Yfit = random_labels(rng, 70, 7)
    Yq = random_labels(rng, 50, 7, n_proto=12)
    W_table = ContextWeightEstimator(negative=negative).fit(Yfit).transform(Yq)
    monkeypatch.setattr(ls, "SOS_MAX_LABELS", 0)
    est = ContextWeightEstimator(negative=negative).fit(Yfit)
    assert est._superset_table is None
    np.testing.assert_array_equal(est.transform(Yq), W_table)
    np.testing.assert_allclose(W_table, brute_weights(Yfit, None, Yq, None, negative, None))


def test_superset_table_against_definition():
    rng = np.random.default_rng(6)
    Y = random_labels(rng, 50, 5)
    _, bits, counts, _ = ls.distinct_rows(Y)
    table = ls.superset_table(bits, counts)
    for s in range(32):
        S = [(s >> b) & 1 for b in range(5)]
        assert table[s] == np.all(Y >= np.array(S), axis=1).sum()


@pytest.mark.parametrize("negative", ["ignore_zeros", "exact_match"])
def test_more_than_64_labels(negative):
    rng = np.random.default_rng(7)
    m = 70
    Yfit = random_labels(rng, 40, m, n_proto=4)
    Yq = random_labels(rng, 20, m, n_proto=4)
    est = ContextWeightEstimator(negative=negative).fit(Yfit)
    assert est._superset_table is None
    W = est.transform(Yq)
    np.testing.assert_allclose(W, brute_weights(Yfit, None, Yq, None, negative, None), atol=1e-6)


@pytest.mark.parametrize("negative", ["ignore_zeros", "exact_match"])
def test_single_label(negative):
    Y = np.array([[1], [0], [0], [1], [1]])
    W = ContextWeightEstimator(negative=negative).fit_transform(Y)
    # exact match: [0] twice, [1] three times -> 2/5; ignore zeros: T=5, P=3 -> 2/5.
    np.testing.assert_allclose(W.ravel(), [1, 2 / 5, 2 / 5, 1, 1], rtol=1e-6)


# --------------------------------------------------------------------------
# Edge cases
# --------------------------------------------------------------------------


def test_unseen_backoffs_by_hand():
    est = ContextWeightEstimator(negative="exact_match").fit(Y5)
    # [0,1,0] never occurs at fit. Back-off to ignore zeros: S={1} is contained
    # in 3 fitted rows, all with label 0 -> 0; one with label 2 -> 2/3.
    np.testing.assert_allclose(est.transform([[0, 1, 0]]), [[0.0, 1.0, 2 / 3]], rtol=1e-6)
    # [0,1,1]: S={1,2} contained in one row ([1,1,1]) that has label 0 -> 0.
    np.testing.assert_allclose(est.transform([[0, 1, 1]]), [[0.0, 1.0, 1.0]])
    est.set_params(unseen=0.25)
    np.testing.assert_allclose(est.transform([[0, 1, 0]]), [[0.25, 1.0, 0.25]])

    # Ignore zeros with T = 0: no fitted row contains S={2} except [1,1,1];
    # fit on rows without label 2 so that T = 0 for S={2}.
    est = ContextWeightEstimator(negative="ignore_zeros").fit(Y5[[0, 1, 4]])
    np.testing.assert_array_equal(est.transform([[0, 0, 1]]), [[1.0, 1.0, 1.0]])
    est.set_params(unseen=0.0)
    np.testing.assert_array_equal(est.transform([[0, 0, 1]]), [[0.0, 0.0, 1.0]])


def test_tfidf_edge_cases():
    Y = np.array([[1, 1, 0], [1, 0, 0], [1, 0, 0], [0, 0, 0], [1, 1, 1]])
    C = np.array([[0, 4, 0], [3, 0, 0], [3, 2, 0], [0, 7, 0], [5, 5, 5]], dtype=float)
    # idf per row: ln(3/2), ln 3, ln 3, 0 (no labels: defined as 0), 0 (all labels).
    # Context 0 (N=11): row 0 is a positive with zero count -> raw 0 -> weight 0;
    #   rows 1, 2 have the same raw 3/11 ln 3: no spread -> weight 1; row 4: idf 0 -> 0.
    # Context 1 (N=18): raw > 0 at row 0 (a = 4/18 ln 1.5, positive) and row 2
    #   (b = 2/18 ln 3, y=0 with a stray count, still in the statistics). The
    #   empty row 3 has idf 0. Two values: mean (a+b)/2, std |a-b|/sqrt(2), so
    #   row 0 gets (a - mean)/std + 1 = 1 - 1/sqrt(2) (a < b).
    # Context 2 (N=5): the only count is in the all-label row -> no raw > 0 entry.
    est = ContextWeightEstimator(negative=None, positive="tfidf")
    W = est.fit_transform(Y, playlist_counts=C)
    expected = [
        [0.0, 1 - 1 / np.sqrt(2), 1.0],
        [1.0, 1.0, 1.0],
        [1.0, 1.0, 1.0],
        [1.0, 1.0, 1.0],
        [0.0, 0.0, 0.0],
    ]
    np.testing.assert_allclose(W, expected, rtol=1e-6)
    np.testing.assert_array_equal(est.tfidf_std_[[0, 2]], 0.0)  # no z-score
    # New rows with counts in context 2: no z-score there -> weight 1.
    np.testing.assert_array_equal(est.transform([[0, 0, 1]], playlist_counts=[[0, 0, 9]]), [[1.0, 1.0, 1.0]])


def test_tfidf_clip_and_new_rows_use_fit_statistics():
    rng = np.random.default_rng(8)
    Y = random_labels(rng, 60, 4)
    C = random_counts(rng, Y)
    est = ContextWeightEstimator(negative=None, positive="tfidf", clip=None).fit(Y, playlist_counts=C)
    Cq = C * 10.0  # larger counts than ever seen: z-scores beyond 2
    W = est.transform(Y, playlist_counts=Cq)
    np.testing.assert_allclose(W, brute_tfidf(Y, C, Y, Cq, clip=None) * (Y == 1) + (Y == 0), rtol=1e-5)
    assert W.max() > 2
    W2 = est.set_params(clip=(0.5, 1.5)).transform(Y, playlist_counts=Cq)
    raw_pos = (Y == 1) & (brute_raw(Y, Cq, C.sum(0)) > 0)
    assert W2[raw_pos].min() >= 0.5 and W2[raw_pos].max() <= 1.5


def test_input_types_agree():
    rng = np.random.default_rng(9)
    Y = random_labels(rng, 30, 5)
    C = random_counts(rng, Y)
    ref = ContextWeightEstimator(positive="tfidf").fit_transform(Y, playlist_counts=C)
    for Yv, Cv in [
        (Y.astype(bool), C),
        (Y.astype(float), C.astype(np.float32)),
        (sp.csr_matrix(Y), sp.csr_matrix(C)),
        (Y.tolist(), C.tolist()),
    ]:
        np.testing.assert_array_equal(ContextWeightEstimator(positive="tfidf").fit_transform(Yv, playlist_counts=Cv), ref)


def test_fitted_attributes():
    est = ContextWeightEstimator(label_names=["a", "b", "c"]).fit(Y5)
    assert est.n_labels_ == 3 and est.n_features_in_ == 3 and est.n_samples_fit_ == 5
    np.testing.assert_array_equal(est.cooccurrence_, Y5.T @ Y5)
    assert list(est.label_names_) == ["a", "b", "c"]
    assert list(est.get_feature_names_out()) == ["a", "b", "c"]
    assert est.label_vectors_.shape == (4, 3) and est.label_vector_counts_.sum() == 5
    assert list(ContextWeightEstimator().fit(Y5).label_names_) == ["y0", "y1", "y2"]


def test_refit_without_tfidf_drops_the_old_statistics():
    C5 = np.arange(15, dtype=float).reshape(5, 3) * Y5
    est = ContextWeightEstimator(positive="tfidf").fit(Y5, playlist_counts=C5)
    assert hasattr(est, "playlist_totals_")
    est.set_params(positive=None).fit(Y5[:3])
    assert not hasattr(est, "playlist_totals_") and not hasattr(est, "tfidf_mean_")
    # Switching TF-IDF back on without a refit must not reuse the first fit.
    with pytest.raises(ValueError, match="set after fit"):
        est.set_params(positive="tfidf").transform(Y5[:3], playlist_counts=C5[:3])


def test_clone_and_grid_search_params():
    est = ContextWeightEstimator(negative="exact_match", clip=(0.0, 3.0))
    c = clone(est)
    assert c.get_params() == est.get_params()
    assert {"negative", "positive", "unseen", "clip", "label_names"} <= set(est.get_params())

    # Nested parameter names as a tagger would expose them.
    pipe = Pipeline([("weighting", ContextWeightEstimator())])
    grid = GridSearchCV(pipe, {"weighting__negative": ["ignore_zeros", "exact_match"]})
    assert "weighting__negative" in grid.estimator.get_params()
    pipe.set_params(weighting__negative="exact_match", weighting__positive="tfidf")
    assert pipe.named_steps["weighting"].positive == "tfidf"


def test_estimator_properties_on_binary_data():
    """The sklearn common checks that need binary input, done by hand."""
    rng = np.random.default_rng(10)
    Y = random_labels(rng, 50, 5)
    Yq = random_labels(rng, 30, 5, n_proto=9)
    C, Cq = random_counts(rng, Y), random_counts(rng, Yq)
    Y_before = Y.copy()
    for negative in ["ignore_zeros", "exact_match"]:
        est = ContextWeightEstimator(negative=negative, positive="tfidf")
        W = est.fit(Y, playlist_counts=C).transform(Yq, playlist_counts=Cq)
        np.testing.assert_array_equal(Y, Y_before)  # input untouched
        # pickling
        est2 = pickle.loads(pickle.dumps(est))
        np.testing.assert_array_equal(est2.transform(Yq, playlist_counts=Cq), W)
        # fitting twice, or on shuffled rows, learns the same statistics
        perm = rng.permutation(len(Y))
        np.testing.assert_array_equal(est.fit(Y[perm], playlist_counts=C[perm]).transform(Yq, playlist_counts=Cq), W)
        # sample order and subsets of the transformed rows
        perm = rng.permutation(len(Yq))
        np.testing.assert_array_equal(est.transform(Yq[perm], playlist_counts=Cq[perm]), W[perm])
        np.testing.assert_array_equal(est.transform(Yq[:7], playlist_counts=Cq[:7]), W[:7])
        # read-only input
        Yr, Cr = Yq.copy(), Cq.copy()
        Yr.flags.writeable = Cr.flags.writeable = False
        np.testing.assert_array_equal(est.transform(Yr, playlist_counts=Cr), W)


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, match",
    [
        ({"negative": "exact"}, "'negative' parameter of ContextWeightEstimator must be"),
        ({"positive": "idf"}, "'positive' parameter of ContextWeightEstimator must be"),
        ({"unseen": "zeros"}, "'unseen' parameter"),
        ({"unseen": 1.5}, "'unseen' parameter"),
        ({"unseen": True}, "'unseen' parameter"),
        ({"clip": (2.0, 0.0)}, "clip must be finite with low <= high"),
        ({"clip": 3}, "'clip' parameter"),
        ({"clip": (1.0,)}, "clip must be None or a pair"),
        ({"label_names": ["a"]}, "label_names has 1 names"),
    ],
)
def test_invalid_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        ContextWeightEstimator(**params).fit(Y5)


def test_invalid_inputs():
    with pytest.raises(ValueError, match="needs playlist_counts in fit"):
        ContextWeightEstimator(positive="tfidf").fit(Y5)
    est = ContextWeightEstimator(positive="tfidf").fit(Y5, playlist_counts=np.ones((5, 3)))
    with pytest.raises(ValueError, match="needs playlist_counts in transform"):
        est.transform(Y5)
    with pytest.raises(ValueError, match=r"playlist_counts has shape \(5, 2\)"):
        ContextWeightEstimator(positive="tfidf").fit(Y5, playlist_counts=np.ones((5, 2)))
    with pytest.raises(ValueError, match="non-negative.*row 0, column 1"):
        ContextWeightEstimator(positive="tfidf").fit(Y5, playlist_counts=-np.eye(5, 3, k=1))
    with pytest.raises(ValueError, match="only 0 and 1.*row 0, column 1"):
        ContextWeightEstimator().fit([[0, 2], [1, 1]])
    with pytest.raises(ValueError, match="NaN.*row 1, column 0"):
        ContextWeightEstimator().fit([[0.0, 1.0], [np.nan, 1.0]])
    with pytest.raises(ValueError, match="3 features"):
        ContextWeightEstimator().fit(Y5).transform([[1, 0]])
    with pytest.raises(ValueError, match="was set after fit"):
        ContextWeightEstimator().fit(Y5).set_params(positive="tfidf").transform(Y5, playlist_counts=np.ones((5, 3)))


def test_pipeline_y_is_not_taken_as_playlist_counts():
    """``make_pipeline(...).fit(Y, y)`` passes y along; it must not become the counts."""
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(3)
    Y = (rng.random((30, 4)) < 0.4).astype(int)
    C = rng.integers(0, 5, size=Y.shape) * Y
    ref = ContextWeightEstimator().fit_transform(Y)
    # a 2-D y of the right shape used to be read as counts (tfidf then ran on it)
    np.testing.assert_array_equal(make_pipeline(ContextWeightEstimator()).fit(Y, C).transform(Y), ref)
    with pytest.raises(ValueError, match="needs playlist_counts in fit"):
        make_pipeline(ContextWeightEstimator(positive="tfidf")).fit(Y, C)
    # the counts are a keyword, routed by name
    W = ContextWeightEstimator(positive="tfidf").fit_transform(Y, playlist_counts=C)
    assert W.shape == Y.shape and np.isfinite(W).all()
    with pytest.raises(TypeError):
        ContextWeightEstimator(positive="tfidf").transform(Y, C)


# --------------------------------------------------------------------------
# The released dataset
# --------------------------------------------------------------------------


def _read_matrix(path):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    ids = np.array([int(r[0]) for r in body])
    return header[1:], ids, np.array([[int(v) for v in r[1:]] for r in body])


def test_released_dataset_against_brute_force(deezer_dir):
    names, ids, Y = _read_matrix(deezer_dir / "Context_tags_dataset.csv")
    names_c, ids_c, C = _read_matrix(deezer_dir / "balanced_ground_truth_track_count.csv")
    assert names == names_c
    order = np.argsort(ids_c)
    C = C[order[np.searchsorted(ids_c, ids, sorter=order)]].astype(float)

    rng = np.random.default_rng(0)
    rows = rng.choice(len(Y), 25, replace=False)
    for negative in ["ignore_zeros", "exact_match"]:
        W = ContextWeightEstimator(negative=negative, positive="tfidf").fit_transform(Y, playlist_counts=C)
        assert np.isfinite(W).all()
        neg_brute = (
            brute_ignore_zeros(Y, Y[rows])
            if negative == "ignore_zeros"
            else brute_exact_match(Y, Y[rows])
        )
        np.testing.assert_allclose(W[rows][Y[rows] == 0], neg_brute[Y[rows] == 0], rtol=1e-6)
    # TF-IDF, vectorised directly from the formula (every track has a label).
    totals = C.sum(axis=0)
    idf = np.log(15 / Y.sum(1))
    raw = np.where(C > 0, C / totals * idf[:, None], 0.0)
    expected = np.zeros_like(raw)
    for c in range(15):
        v = raw[raw[:, c] > 0, c]
        expected[:, c] = np.where(raw[:, c] > 0, np.clip((raw[:, c] - v.mean()) / v.std(ddof=1) + 1, 0, 2), 0)
    pos = Y == 1
    np.testing.assert_allclose(W[pos], expected[pos], rtol=1e-5, atol=1e-6)
    # The protocol's measured fact: the normalised positive weights average about 0.9.
    assert 0.85 < W[pos & (raw > 0)].mean() < 0.95
