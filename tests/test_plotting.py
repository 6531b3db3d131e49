"""Tests of sktags.plotting (Agg backend; skipped without matplotlib)."""

import csv
import itertools
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sktags import CONTEXTS  # noqa: E402
from sktags.plotting import (  # noqa: E402
    plot_context_report,
    plot_cooccurrence,
    plot_weight_distributions,
)

METRICS = ("hamming_loss", "roc_auc", "recall", "precision", "f1", "tn_rate")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def brute_force_cooccurrence(Y):
    Y = np.asarray(Y)
    m = Y.shape[1]
    C = np.zeros((m, m), dtype=int)
    for row in Y:
        for a, b in itertools.product(range(m), repeat=2):
            C[a, b] += int(row[a] == 1 and row[b] == 1)
    return C


def tick_texts(ax, axis="x"):
    ticks = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    return [t.get_text() for t in ticks]


def assert_no_overlap(ax, axis="x"):
    """Tick labels of the drawn figure do not overlap one another."""
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ticks = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    boxes = [t.get_window_extent(renderer) for t in ticks if t.get_text()]
    assert boxes
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), (a, b)


def random_labels(seed, n=60, m=5):
    rng = np.random.RandomState(seed)
    return (rng.uniform(size=(n, m)) < rng.uniform(0.1, 0.8, m)).astype(int)


# ------------------------------------------------------------------ co-occurrence


def test_cooccurrence_counts_labels_and_colorbar():
    Y = random_labels(0)
    names = ["car", "chill", "club", "dance", "gym"]
    ax = plot_cooccurrence(Y, target_names=names)
    im = ax.images[0]
    np.testing.assert_array_equal(im.get_array(), brute_force_cooccurrence(Y))
    assert im.colorbar is not None and im.colorbar.ax in ax.figure.axes
    assert im.colorbar.ax.get_ylabel()
    assert tick_texts(ax, "x") == names and tick_texts(ax, "y") == names
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    # One annotation per cell, with the count.
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text()
             for t in ax.texts}
    C = brute_force_cooccurrence(Y)
    assert len(ax.texts) == 25
    assert all(texts[a, b] == str(C[a, b]) for a in range(5) for b in range(5))


def test_cooccurrence_normalisations():
    Y = random_labels(1)
    Y[:, 2] = 0  # a label without samples
    C = brute_force_cooccurrence(Y)
    ax = plot_cooccurrence(Y, normalize="row", annotate=False)
    expected = np.zeros((5, 5))
    for a in range(5):
        if C[a, a]:
            expected[a] = [np.mean(Y[Y[:, a] == 1, b]) for b in range(5)]
    np.testing.assert_allclose(ax.images[0].get_array(), expected)
    assert not ax.texts
    assert tick_texts(ax) == ["0", "1", "2", "3", "4"]
    ax = plot_cooccurrence(Y, normalize="all", diagonal=False)
    arr = ax.images[0].get_array()
    np.testing.assert_array_equal(arr.mask, np.eye(5, dtype=bool))
    np.testing.assert_allclose(arr.data[~np.eye(5, dtype=bool)],
                               (C / len(Y))[~np.eye(5, dtype=bool)])
    assert len(ax.texts) == 20


def test_cooccurrence_inputs():
    Y = random_labels(2)
    fig, given = plt.subplots()
    ax = plot_cooccurrence(sp.csr_matrix(Y), ax=given)
    assert ax is given
    np.testing.assert_array_equal(ax.images[0].get_array(), brute_force_cooccurrence(Y))
    big = random_labels(3, n=30, m=25)
    assert not plot_cooccurrence(big).texts  # "auto" annotation stops above 20 labels
    with pytest.raises(ValueError, match="target_names has 2 names for 5 labels"):
        plot_cooccurrence(Y, target_names=["a", "b"])
    with pytest.raises(ValueError, match="normalize must be one of"):
        plot_cooccurrence(Y, normalize="column")
    with pytest.raises(ValueError, match="row 0, column 0"):
        plot_cooccurrence([[2, 0]])


def test_missing_matplotlib_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install \"sktags\[plot\]\""):
        plot_cooccurrence([[1, 0]])
    with pytest.raises(ImportError, match="plot_context_report requires matplotlib"):
        plot_context_report(SimpleNamespace(target_names=["a"], metrics=["f1"],
                                            values=np.ones((1, 1)), macro=np.ones(1)))


# ------------------------------------------------------------------------ weights


def weight_fixture(seed=0):
    rng = np.random.RandomState(seed)
    Y = random_labels(seed, n=200, m=4)
    W = {
        "exact match": np.where(Y == 1, 1.0, rng.uniform(0.5, 1, Y.shape)),
        "ignore zeros": np.where(Y == 1, 1.0, rng.uniform(0, 0.6, Y.shape)),
        "tf-idf": np.where(Y == 1, rng.uniform(0, 2, Y.shape), rng.uniform(0, 0.6, Y.shape)),
    }
    return Y, W


def test_weight_histograms_hold_the_entries():
    Y, W = weight_fixture()
    neg_ax, pos_ax = plot_weight_distributions(W, Y, bins=10)
    for ax, mask in ((neg_ax, Y == 0), (pos_ax, Y == 1)):
        assert ax.get_xlabel() == "weight" and ax.get_ylabel() == "fraction of entries"
        assert f"{mask.sum():,} entries" in ax.get_title()
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert legend == [f"{k} (mean {w[mask].mean():.2f})" for k, w in W.items()]
        lo = min(w[mask].min() for w in W.values())
        hi = max(w[mask].max() for w in W.values())
        edges = np.linspace(lo, hi, 11)
        assert len(ax.patches) == len(W)
        for patch, w in zip(ax.patches, W.values()):
            counts, _ = np.histogram(w[mask], bins=edges)
            heights = patch.get_xy()[1:20:2, 1]
            np.testing.assert_allclose(heights, counts / mask.sum())


def test_weight_boxes_per_context():
    Y, W = weight_fixture(1)
    names = ["car", "chill", "club", "dance"]
    neg_ax, pos_ax = plot_weight_distributions(W, Y, target_names=names, by_context=True)
    for ax, value in ((neg_ax, 0), (pos_ax, 1)):
        assert tick_texts(ax) == names
        assert ax.get_xlabel() == "context" and ax.get_ylabel() == "weight"
        assert [t.get_text() for t in ax.get_legend().get_texts()] == list(W)
        flat = [line.get_ydata() for line in ax.lines]
        levels = np.array([y[0] for y in flat if len(y) == 2 and y[0] == y[1]])
        for w in W.values():
            for c in range(4):
                med = np.median(w[Y[:, c] == value, c])
                assert np.isclose(levels, med).any(), (c, med)
        assert_no_overlap(ax)


def test_weight_inputs():
    Y, W = weight_fixture()
    fig, axes = plt.subplots(1, 2)
    out = plot_weight_distributions({"a": W["tf-idf"]}, Y, ax=axes)
    assert out[0] is axes[0] and out[1] is axes[1]
    with pytest.raises(ValueError, match=r"weights\['a'\] has shape \(3, 4\)"):
        plot_weight_distributions({"a": np.ones((3, 4))}, Y)
    bad = W["tf-idf"].copy()
    bad[5, 2] = np.nan
    with pytest.raises(ValueError, match="row 5, column 2"):
        plot_weight_distributions({"a": bad}, Y)
    with pytest.raises(ValueError, match="non-empty dict"):
        plot_weight_distributions([W["tf-idf"]], Y)
    with pytest.raises(ValueError, match="two Axes"):
        plot_weight_distributions(W, Y, ax=axes[0])
    # all-positive labels: the negative panel says so instead of failing
    neg_ax, _ = plot_weight_distributions({"a": np.ones((3, 2))}, np.ones((3, 2)))
    assert neg_ax.texts[0].get_text() == "no entries"


# ------------------------------------------------------------------------- report


def fake_report(n_labels=15, seed=0):
    rng = np.random.RandomState(seed)
    values = rng.uniform(size=(n_labels, len(METRICS)))
    return SimpleNamespace(target_names=list(CONTEXTS[:n_labels]), metrics=METRICS,
                           values=values, macro=values.mean(axis=0))


def test_report_bars():
    report = fake_report()
    ax = plot_context_report(report)
    assert tick_texts(ax) == list(CONTEXTS) + ["macro"]
    assert len(ax.containers) == len(METRICS)
    for j, bars in enumerate(ax.containers):
        heights = [b.get_height() for b in bars]
        np.testing.assert_allclose(heights, np.append(report.values[:, j], report.macro[j]))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == "hamming loss (lower is better)" and legend[1:] == [
        "roc auc", "recall", "precision", "f1", "tn rate"]
    assert ax.get_ylim() == (0.0, 1.0)
    assert ax.get_xlabel() == "context" and ax.get_ylabel() == "score"
    assert_no_overlap(ax)


def test_report_subset_and_errors():
    report = fake_report(4)
    report.values[1, 1] = np.nan  # an undefined ROC-AUC leaves its bar out
    ax = plot_context_report(report, metrics=["f1", "roc_auc"], macro=False)
    assert tick_texts(ax) == list(CONTEXTS[:4])
    np.testing.assert_allclose([b.get_height() for b in ax.containers[0]], report.values[:, 4])
    np.testing.assert_allclose([b.get_height() for b in ax.containers[1]], report.values[:, 1])
    with pytest.raises(ValueError, match=r"\['auc'\] are not in the report"):
        plot_context_report(report, metrics=["auc"])
    with pytest.raises(TypeError, match="target_names, metrics, values and macro"):
        plot_context_report(object())
    report.values = report.values[:, :3]
    with pytest.raises(ValueError, match=r"expected \(4, 6\)"):
        plot_context_report(report)


def test_report_bars_from_the_real_context_report():
    from sktags.metrics import context_report, tune_thresholds

    rng = np.random.RandomState(3)
    Y = random_labels(3, n=80, m=5)
    Y[:, 4] = 0  # a context without positives: ROC-AUC NaN, its bar left out
    scores = np.clip(0.6 * Y + 0.5 * rng.uniform(size=Y.shape), 0, 1)
    names = list(CONTEXTS[:5])
    report = context_report(Y, scores, threshold=tune_thresholds(Y, scores),
                            target_names=names)
    ax = plot_context_report(report)
    assert tick_texts(ax) == names + ["macro"]
    assert len(ax.containers) == len(report.metrics) == 6
    # Independent numbers: sklearn on the thresholded predictions.
    from sklearn.metrics import f1_score, roc_auc_score

    pred = (scores >= report.threshold).astype(int)
    f1 = [f1_score(Y[:, j], pred[:, j], zero_division=0.0) for j in range(5)]
    auc = [roc_auc_score(Y[:, j], scores[:, j]) for j in range(4)] + [np.nan]
    i_f1, i_auc = report.metrics.index("f1"), report.metrics.index("roc_auc")
    f1_bars = [b.get_height() for b in ax.containers[i_f1]]
    np.testing.assert_allclose(f1_bars, f1 + [np.mean(f1)])
    auc_bars = [b.get_height() for b in ax.containers[i_auc]]
    np.testing.assert_allclose(auc_bars, auc + [np.mean(auc[:4])])
    assert ax.get_ylim() == (0.0, 1.0)
    assert_no_overlap(ax)


def test_weight_distributions_of_the_estimator():
    from sktags import ContextWeightEstimator

    Y = random_labels(4, n=120, m=4)
    W = {neg: ContextWeightEstimator(negative=neg).fit_transform(Y)
         for neg in ("exact_match", "ignore_zeros")}
    neg_ax, pos_ax = plot_weight_distributions(W, Y)
    legend = [t.get_text() for t in neg_ax.get_legend().get_texts()]
    assert legend == [f"{k} (mean {w[Y == 0].mean():.2f})" for k, w in W.items()]
    # Positive weights are all 1 without TF-IDF.
    assert [t.get_text() for t in pos_ax.get_legend().get_texts()] == [
        f"{k} (mean 1.00)" for k in W]


# ---------------------------------------------------------------------- real data


def test_cooccurrence_on_the_released_dataset(deezer_dir, tmp_path):
    with open(deezer_dir / "Context_tags_dataset.csv", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        Y = np.array([row[1:] for row in reader], dtype=np.uint8)
    names = header[1:]
    assert names == list(CONTEXTS) and Y.shape == (49929, 15)
    ax = plot_cooccurrence(Y, target_names=names)
    expected = np.array([[np.count_nonzero(Y[:, a] & Y[:, b]) for b in range(15)]
                         for a in range(15)])
    np.testing.assert_array_equal(ax.images[0].get_array(), expected)
    assert expected[0, 0] == Y[:, 0].sum()
    assert_no_overlap(ax, "x")
    assert_no_overlap(ax, "y")
    ax.figure.savefig(tmp_path / "cooccurrence.png", dpi=60)
    assert (tmp_path / "cooccurrence.png").stat().st_size > 10_000
