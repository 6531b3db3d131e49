"""Tests of sktags.model_selection: group-disjoint multilabel stratification."""

import csv

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.neighbors import KNeighborsClassifier

from sktags import CONTEXTS
from sktags.model_selection import MultilabelStratifiedGroupKFold, train_valid_test_split

METHODS = ["greedy", "sechidis"]


def folds_of(cv, Y, groups):
    """Fold index of every sample, checking that the folds partition the data."""
    n = Y.shape[0]
    fold = np.full(n, -1)
    for j, (train, test) in enumerate(cv.split(np.zeros((n, 1)), Y, groups)):
        assert np.all(fold[test] == -1), "a sample is in two test folds"
        fold[test] = j
        np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(n))
    assert np.all(fold >= 0), "a sample is in no test fold"
    return fold


def max_prevalence_error(Y, part, n_parts):
    prev = Y.mean(axis=0)
    return max(np.abs(Y[part == j].mean(axis=0) - prev).max() for j in range(n_parts))


def grouped_multilabel(seed, n_groups=150, n_labels=6):
    """Synthetic data whose labels depend strongly on the group."""
    rng = np.random.RandomState(seed)
    sizes = rng.geometric(0.15, size=n_groups)  # 1 to ~40 tracks per group
    groups = np.repeat(np.arange(n_groups), sizes)
    propensity = rng.beta(0.4, 0.6, size=(n_groups, n_labels)) * rng.uniform(0.1, 1, n_labels)
    Y = (rng.uniform(size=(len(groups), n_labels)) < propensity[groups]).astype(np.uint8)
    return Y, groups


# ---------------------------------------------------------------- hand-worked cases


@pytest.mark.parametrize("method", METHODS)
def test_hand_worked_two_folds(method):
    # Group label counts: a=[2,0], b=[0,2], c=[2,2], d=[0,0]; 2 tracks each.
    # Label 0 first: a -> fold 0 (tie); c -> fold 1 (fold 0 needs no more label 0).
    # Label 1: b -> fold 0 (fold 1 got its 2 from c). d, without labels, fills
    # the fold still short of tracks: fold 1.
    Y = np.array([[1, 0], [1, 0], [0, 1], [0, 1], [1, 1], [1, 1], [0, 0], [0, 0]])
    groups = np.array(["a", "a", "b", "b", "c", "c", "d", "d"])
    cv = MultilabelStratifiedGroupKFold(n_splits=2, method=method)
    fold = folds_of(cv, Y, groups)
    np.testing.assert_array_equal(fold, [0, 0, 0, 0, 1, 1, 1, 1])


def test_hand_worked_sechidis_rare_label_first():
    # One track per group. Label 1 (2 positives) is rarer than label 0 (4),
    # so tracks 4 and 5 are placed first, one per fold; then the label 0
    # tracks 0..3 alternate between the folds (largest remaining desire,
    # ties to the fold with more tracks missing, then the lower index).
    Y = np.array([[1, 0], [1, 0], [1, 0], [1, 0], [0, 1], [0, 1]])
    cv = MultilabelStratifiedGroupKFold(n_splits=2, method="sechidis")
    fold = folds_of(cv, Y, None)
    np.testing.assert_array_equal(fold, [0, 1, 0, 1, 0, 1])
    assert (Y[fold == 0].sum(0) == Y[fold == 1].sum(0)).all()


def test_unequal_ratios_three_parts_hand_worked():
    # 20 singleton groups, one label carried by 10; 65/10/25 -> 13/2/5 tracks
    # and 6.5/1/2.5 positives desired: the parts get 13/2/5 tracks exactly.
    Y = np.zeros((20, 1), dtype=int)
    Y[:10] = 1
    tr, va, te = train_valid_test_split(np.arange(20), y=Y, random_state=0)
    assert (len(tr), len(va), len(te)) == (13, 2, 5)
    assert Y[va].sum() == 1
    assert abs(Y[te].sum() - 2.5) == 0.5 and abs(Y[tr].sum() - 6.5) == 0.5


# ------------------------------------------------------------------- properties


@pytest.mark.parametrize("seed", range(25))
def test_folds_are_group_disjoint_partitions(seed):
    rng = np.random.RandomState(seed)
    n = rng.randint(20, 300)
    m = rng.randint(1, 8)
    Y = (rng.uniform(size=(n, m)) < rng.uniform(0, 1, m)).astype(int)
    n_groups = rng.randint(6, n)
    groups = rng.randint(0, n_groups, size=n).astype(str)  # string group labels
    n_splits = rng.randint(2, 6)
    method = METHODS[seed % 2]
    cv = MultilabelStratifiedGroupKFold(n_splits, method=method, shuffle=True, random_state=seed)
    fold = folds_of(cv, Y, groups)
    for g in np.unique(groups):
        assert len(np.unique(fold[groups == g])) == 1, f"group {g} is split"
    assert len(np.unique(fold)) == n_splits


@pytest.mark.parametrize("seed", range(25))
def test_three_parts_are_group_disjoint_partitions(seed):
    rng = np.random.RandomState(seed)
    n = rng.randint(30, 300)
    Y = (rng.uniform(size=(n, 4)) < 0.3).astype(int)
    groups = rng.randint(0, rng.randint(5, n), size=n)
    valid_size = [0.10, 0.0, 0.2][seed % 3]
    X = rng.normal(size=(n, 2))
    Xtr, Xva, Xte, itr, iva, ite = train_valid_test_split(
        X, np.arange(n), y=Y, groups=groups, valid_size=valid_size,
        method=METHODS[seed % 2], random_state=seed)
    np.testing.assert_array_equal(np.sort(np.concatenate([itr, iva, ite])), np.arange(n))
    np.testing.assert_array_equal(Xtr, X[itr])
    np.testing.assert_array_equal(Xte, X[ite])
    sets = [set(groups[i]) for i in (itr, iva, ite)]
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])
    assert len(itr) and len(ite)
    assert (len(iva) == 0) == (valid_size == 0)


def test_better_than_random_group_splits():
    # Mean over seeds of the largest prevalence error over labels and folds.
    errors = {"greedy": [], "sechidis": [], "random": [], "GroupKFold": [], "3 parts": [],
              "random 3 parts": []}
    for seed in range(6):
        Y, groups = grouped_multilabel(seed, n_groups=400)
        n = len(Y)
        rng = np.random.RandomState(seed)
        for name, cv in (("greedy", MultilabelStratifiedGroupKFold(4)),
                         ("sechidis", MultilabelStratifiedGroupKFold(4, method="sechidis")),
                         ("GroupKFold", GroupKFold(4, shuffle=True, random_state=seed))):
            errors[name].append(max_prevalence_error(Y, folds_of(cv, Y, groups), 4))
        random_fold = rng.randint(0, 4, size=groups.max() + 1)[groups]
        errors["random"].append(max_prevalence_error(Y, random_fold, 4))
        tr, va, te = train_valid_test_split(np.arange(n), y=Y, groups=groups, random_state=seed)
        part = np.zeros(n, dtype=int)
        part[va], part[te] = 1, 2
        errors["3 parts"].append(max_prevalence_error(Y, part, 3))
        random_part = rng.choice(3, p=[0.65, 0.10, 0.25], size=groups.max() + 1)[groups]
        errors["random 3 parts"].append(max_prevalence_error(Y, random_part, 3))
    e = {k: np.mean(v) for k, v in errors.items()}
    assert e["greedy"] < 0.25 * min(e["random"], e["GroupKFold"]), e
    assert e["sechidis"] < e["random"], e
    assert e["3 parts"] < 0.25 * e["random 3 parts"], e


def test_fold_sizes_are_balanced():
    Y, groups = grouped_multilabel(3, n_groups=400)
    fold = folds_of(MultilabelStratifiedGroupKFold(5), Y, groups)
    sizes = np.bincount(fold) / len(Y)
    assert np.abs(sizes - 0.2).max() < 0.01, sizes


# ------------------------------------------------------------ determinism, API


def test_determinism():
    Y, groups = grouped_multilabel(1)
    a = folds_of(MultilabelStratifiedGroupKFold(4, shuffle=True, random_state=7), Y, groups)
    b = folds_of(MultilabelStratifiedGroupKFold(4, shuffle=True, random_state=7), Y, groups)
    np.testing.assert_array_equal(a, b)
    c = folds_of(MultilabelStratifiedGroupKFold(4, shuffle=True, random_state=8), Y, groups)
    assert (a != c).any()
    d = folds_of(MultilabelStratifiedGroupKFold(4), Y, groups)
    e = folds_of(MultilabelStratifiedGroupKFold(4), Y, groups)
    np.testing.assert_array_equal(d, e)
    s1 = train_valid_test_split(np.arange(len(Y)), y=Y, groups=groups, random_state=3)
    s2 = train_valid_test_split(np.arange(len(Y)), y=Y, groups=groups, random_state=3)
    for u, v in zip(s1, s2):
        np.testing.assert_array_equal(u, v)


def test_group_labels_only_matter_through_their_partition():
    # Renaming the groups with a monotone map gives the same folds.
    Y, groups = grouped_multilabel(2)
    a = folds_of(MultilabelStratifiedGroupKFold(3), Y, groups)
    renamed = np.char.add("artist", (groups + 1000).astype(str))
    b = folds_of(MultilabelStratifiedGroupKFold(3), Y, renamed)
    np.testing.assert_array_equal(a, b)


def test_sparse_and_1d_targets():
    Y, groups = grouped_multilabel(4)
    cv = MultilabelStratifiedGroupKFold(3)
    np.testing.assert_array_equal(
        folds_of(cv, Y, groups), folds_of(cv, sp.csr_matrix(Y), groups))
    fold = folds_of(cv, Y[:, 0], groups)
    f2 = folds_of(cv, Y[:, :1], groups)
    np.testing.assert_array_equal(fold, f2)


def test_samples_without_any_label():
    # Only the sizes are left to balance: 12 groups of 1..12 samples in 3 folds.
    groups = np.repeat(np.arange(12), np.arange(1, 13))
    Y = np.zeros((len(groups), 2), dtype=int)
    fold = folds_of(MultilabelStratifiedGroupKFold(3), Y, groups)
    assert sorted(np.bincount(fold)) == [26, 26, 26]


def test_api_surface():
    cv = MultilabelStratifiedGroupKFold(3, shuffle=True, random_state=0)
    assert cv.get_n_splits() == 3
    assert "n_splits=3" in repr(cv) and "random_state=0" in repr(cv)
    assert cv.get_metadata_routing().split.requests["groups"] is True


@pytest.mark.parametrize(
    "params, kwargs, match",
    [
        ({"n_splits": 1}, {}, "at least 2"),
        ({"n_splits": 2.5}, {}, "integer"),
        ({"n_splits": 5}, {}, "from 4 groups"),
        ({"random_state": 0}, {}, "shuffle is False"),
        ({"method": "magic"}, {}, "method must be one of"),
        ({}, {"y": None}, "needs y"),
        ({}, {"y": [[0, 2]] * 8}, "row 0, column 1"),
        ({}, {"groups": [0, 1, 2]}, "inconsistent numbers of samples"),
    ],
)
def test_kfold_errors(params, kwargs, match):
    Y = np.eye(2, dtype=int)[np.arange(8) % 2]
    args = {"y": Y, "groups": np.arange(8) // 2, **kwargs}
    cv = MultilabelStratifiedGroupKFold(**{"n_splits": 2, **params})
    with pytest.raises(ValueError, match=match):
        next(cv.split(np.zeros((8, 1)), args["y"], args["groups"]))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"test_size": 0}, r"test_size must be in \(0, 1\)"),
        ({"valid_size": -0.1}, r"valid_size must be in \[0, 1\)"),
        ({"test_size": 0.6, "valid_size": 0.4}, "below 1"),
        ({"test_size": "0.2"}, "must be a float"),
        ({"groups": np.zeros(8)}, "from 1 groups"),
        ({"groups": np.zeros(3)}, "groups has 3 entries"),
        ({"groups": np.zeros((8, 2))}, "groups must be 1-D"),
    ],
)
def test_split_errors(kwargs, match):
    Y = np.eye(2, dtype=int)[np.arange(8) % 2]
    with pytest.raises(ValueError, match=match):
        train_valid_test_split(np.arange(8), y=Y, **kwargs)
    with pytest.raises(ValueError, match="At least one array"):
        train_valid_test_split(y=Y)


# --------------------------------------------------------------- GridSearchCV


@pytest.mark.parametrize("routing", [False, True])
def test_gridsearchcv_uses_the_groups(routing):
    # The features identify the group and every track of a group has the same
    # labels: 1-NN is perfect when a group's tracks are on both sides of a
    # split, and blind when the splits are group-disjoint.
    rng = np.random.RandomState(0)
    groups = np.repeat(np.arange(40), 5)
    group_labels = rng.randint(0, 2, size=(40, 3))
    group_labels[:, 0] = np.arange(40) % 2  # no empty label column
    Y = group_labels[groups]
    X = groups[:, None] + 0.01 * rng.normal(size=(200, 1))
    search = GridSearchCV(
        KNeighborsClassifier(), {"n_neighbors": [1]},
        cv=MultilabelStratifiedGroupKFold(4, shuffle=True, random_state=0))
    with sklearn.config_context(enable_metadata_routing=routing):
        search.fit(X, Y, groups=groups)
        leaky = GridSearchCV(KNeighborsClassifier(), {"n_neighbors": [1]},
                             cv=MultilabelStratifiedGroupKFold(4)).fit(X, Y)
    assert search.n_splits_ == 4
    assert leaky.best_score_ == 1.0
    assert search.best_score_ < 0.5, search.best_score_


# ----------------------------------------------------------------- real data


def load_real(deezer_dir):
    index = {c: i for i, c in enumerate(CONTEXTS)}
    rows, artists = [], []
    with open(deezer_dir / "ground_truth_folds.csv", newline="") as f:
        for r in csv.DictReader(f):
            y = np.zeros(len(CONTEXTS), dtype=np.uint8)
            y[[index[c] for c in r["label"].split("\t") if c]] = 1
            rows.append(y)
            artists.append(int(r["artist_id"]))
    return np.array(rows), np.array(artists)


def test_quality_targets_on_the_released_data(deezer_dir):
    Y, artists = load_real(deezer_dir)
    assert Y.shape == (48582, 15)
    n = len(Y)
    tr, va, te = train_valid_test_split(np.arange(n), y=Y, groups=artists, random_state=0)
    part = np.zeros(n, dtype=int)
    part[va], part[te] = 1, 2
    sets = [set(artists[i]) for i in (tr, va, te)]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    assert max_prevalence_error(Y, part, 3) <= 0.02
    sizes = np.array([len(tr), len(va), len(te)]) / n
    assert np.abs(sizes - [0.65, 0.10, 0.25]).max() <= 0.015, sizes
    fold = folds_of(MultilabelStratifiedGroupKFold(4), Y, artists)
    assert max_prevalence_error(Y, fold, 4) <= 0.02
    assert np.abs(np.bincount(fold) / n - 0.25).max() <= 0.015
