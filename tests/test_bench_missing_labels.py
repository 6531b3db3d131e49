"""The known-truth benchmark's data loading, hiding rules and scoring (benchmarks/bench_missing_labels.py)."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_missing_labels as bench  # noqa: E402


def random_labels(seed=0, shape=(400, 12), density=0.35):
    return (np.random.default_rng(seed).random(shape) < density).astype(np.uint8)


@pytest.mark.parametrize("p", [0.0, 0.5, 0.75, 1.0])
def test_uniform_hiding_rate_and_no_new_positives(p):
    Y = random_labels()
    obs = bench.hide_positives(Y, f"uniform_{p}", np.random.default_rng(1))
    assert obs.dtype == np.uint8 and obs.shape == Y.shape
    assert not (obs > Y).any()  # only positives are ever changed
    n = Y.sum()
    # a binomial(n, p) count of hidden positives: within 5 sd of n p
    assert abs((n - obs.sum()) - n * p) <= 5 * np.sqrt(n * p * (1 - p)) + 1e-9
    assert bench.hidden_rate(Y, obs) == pytest.approx((n - obs.sum()) / n)


def test_single_keeps_one_true_positive_per_clip():
    Y = random_labels(2)
    Y[0] = 0
    obs = bench.hide_positives(Y, "single", np.random.default_rng(0))
    assert (obs.sum(1) == (Y.sum(1) > 0)).all()
    assert not (obs > Y).any()
    # the kept positive is chosen at random: every label is kept somewhere
    assert (obs.sum(0) > 0).all()


def test_frequent_keeps_the_most_frequent_tag():
    Y = np.array([[1, 1, 0],
                  [0, 1, 1],
                  [1, 1, 1],
                  [0, 0, 1],
                  [0, 0, 0]], dtype=np.uint8)  # column counts 2, 3, 3: ties go to column 1
    expected = np.array([[0, 1, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(bench.hide_positives(Y, "frequent", None), expected)
    # 4 of the 2 + 2 + 3 + 1 = 8 positives kept: hidden rate 4/8
    assert bench.hidden_rate(Y, expected) == pytest.approx(0.5)


def test_unknown_rule():
    with pytest.raises(ValueError, match="Unknown hiding rule 'often'"):
        bench.hide_positives(random_labels(), "often", np.random.default_rng(0))
    with pytest.raises(ValueError, match="rate"):
        bench.hide_positives(random_labels(), "uniform_1.5", np.random.default_rng(0))


def test_macro_scores_by_hand():
    Y = np.array([[1, 1], [0, 1], [1, 1], [0, 1]])  # label 1 has no negative: left out
    P = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.1, 0.4]])
    ap, auc = bench.macro_scores(Y, P)
    # ranking 0.9 (+), 0.8 (-), 0.7 (+), 0.1 (-): AP = (1/1 + 2/3) / 2 = 0.8333
    assert ap == pytest.approx(5 / 6)
    # pairs (pos, neg): (.9,.8) (.9,.1) (.7,.8) (.7,.1): 3 of 4 ordered right
    assert auc == pytest.approx(0.75)
    assert np.isnan(bench.macro_scores(np.ones((3, 2)), np.zeros((3, 2)))[0])


def test_summarize_pairs_by_seed_and_fold():
    rows = [dict(rule="r", method="AN", seed=0, fold=0, ap=0.5),
            dict(rule="r", method="AN", seed=0, fold=1, ap=0.7),
            dict(rule="r", method="em", seed=0, fold=1, ap=0.8),
            dict(rule="r", method="em", seed=0, fold=0, ap=0.4)]
    s = bench.summarize(rows, "ap")
    assert s[("r", "em")]["mean"] == pytest.approx(0.6)
    assert s[("r", "em")]["sd"] == pytest.approx(np.std([0.4, 0.8], ddof=1))
    # differences fold 0: 0.4 - 0.5, fold 1: 0.8 - 0.7 -> mean 0, sd 0.1414
    assert s[("r", "em")]["diff"] == pytest.approx(0.0)
    assert s[("r", "em")]["diff_sd"] == pytest.approx(np.std([-0.1, 0.1], ddof=1))


def test_load_moods_from_a_small_csv(tmp_path):
    (tmp_path / "clips.csv").write_text(
        "path,artist,allmusic_moods\n"
        "a.mp3,X,calm; dark\n"
        "b.mp3,Y,calm\n"
        "c.mp3,Y, dark ;calm;rare\n", encoding="utf-8")
    paths, Y, names, groups = bench.load_moods(tmp_path, min_count=2)
    assert names == ["calm", "dark"]
    np.testing.assert_array_equal(Y, [[1, 1], [1, 0], [1, 1]])
    assert list(groups) == ["X", "Y", "Y"] and paths[0] == str(tmp_path / "a.mp3")


def test_load_moods_on_the_dev_clips(shared_dir):
    root = shared_dir / "data" / "emotion_4q_dev"
    if not (root / "clips.csv").is_file():
        pytest.skip(f"{root} is absent")
    paths, Y, names, groups = bench.load_moods(root)
    assert len(paths) == 251 and Y.shape == (251, len(names))
    assert (Y.sum(0) >= 12).all() and len(names) >= 30


def test_fit_method_selects_on_observed_labels_and_predicts():
    from sklearn.model_selection import GroupShuffleSplit

    from sktags import ContextWeightEstimator, EmbeddingTagger
    from sktags.losses import EntropyMaximization

    budget = dict(max_epochs=3)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4)).astype(np.float32)
    Y = (X[:, :3] > 0).astype(np.uint8)
    Y_obs = Y[:40] * (rng.random((40, 3)) < 0.5)  # half the positives hidden
    groups = np.repeat(np.arange(20), 3)
    P, best = bench.fit_method("em", "ignore_zeros", X[:40], Y_obs, groups[:40], X[40:],
                               seed=0, budget=budget)
    # the same selection by hand: inner artist split, scored on the OBSERVED labels
    itr, iva = next(GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=0).split(
        X[:40], Y_obs, groups[:40]))

    def head(alpha):
        return EmbeddingTagger(loss=EntropyMaximization(alpha=alpha), random_state=0,
                               weighting=ContextWeightEstimator(negative="ignore_zeros"),
                               device="cpu", **budget)

    alphas = bench.GRIDS["em"]["alpha"]
    scores = [bench.macro_scores(Y_obs[iva], head(a).fit(X[:40][itr], Y_obs[itr])
                                 .predict_proba(X[:40][iva]))[0] for a in alphas]
    assert best == {"alpha": alphas[int(np.nanargmax(scores))]}
    np.testing.assert_array_equal(P, head(best["alpha"]).fit(X[:40], Y_obs).predict_proba(X[40:]))
