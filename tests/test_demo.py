"""sktags.demo.run_demo, ``sktags demo`` and the Table 2 configurations they share."""

import csv
import json
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import f1_score, hamming_loss, precision_score, recall_score, roc_auc_score

from sktags.cli import main
from sktags.weighting import (
    TABLE2_CONFIGURATIONS,
    ContextWeightEstimator,
    table2_param_grid,
)

NAMES = ["No weights", "Negative (exact match)", "Negative (ignore zeros)",
         "Both (exact match)", "Both (ignore zeros)"]


# ------------------------------------------------------- Table 2 configurations


def test_table2_configurations_are_the_papers():
    assert list(TABLE2_CONFIGURATIONS) == ["none", "exact_match", "ignore_zeros",
                                           "exact_match+tfidf", "ignore_zeros+tfidf"]
    assert [c.name for c in TABLE2_CONFIGURATIONS.values()] == NAMES
    expected = [None, ("exact_match", None), ("ignore_zeros", None),
                ("exact_match", "tfidf"), ("ignore_zeros", "tfidf")]
    for cfg, exp in zip(TABLE2_CONFIGURATIONS.values(), expected):
        est = cfg.make_estimator()
        if exp is None:
            assert est is None and cfg.params is None and not cfg.needs_playlist_counts
            continue
        assert isinstance(est, ContextWeightEstimator)
        assert (est.negative, est.positive) == exp
        assert cfg.needs_playlist_counts == (exp[1] == "tfidf")
        # the other parameters keep the estimator's defaults
        default = ContextWeightEstimator().get_params()
        assert {k: v for k, v in est.get_params().items() if k not in ("negative", "positive")} == {
            k: v for k, v in default.items() if k not in ("negative", "positive")}
        assert est is not cfg.make_estimator()  # fresh every call
        assert cfg.matches(est) and not cfg.matches(None)
        others = [c for c in TABLE2_CONFIGURATIONS.values() if c is not cfg]
        assert not any(o.matches(est) for o in others)
    with pytest.raises(TypeError):
        TABLE2_CONFIGURATIONS["x"] = None  # read-only


def test_table2_param_grid_order_matches_configurations():
    from sklearn.model_selection import ParameterGrid

    grid = list(ParameterGrid(table2_param_grid("tagger__weighting")))
    assert len(grid) == 5
    for params, cfg in zip(grid, TABLE2_CONFIGURATIONS.values()):
        assert list(params) == ["tagger__weighting"]
        assert cfg.matches(params["tagger__weighting"])


# ---------------------------------------------------------- fit_table2 is honest


def test_fit_table2_equals_separate_fits():
    """The demo's predictions are those of each configuration fitted on its own."""
    from sktags.demo import fit_table2
    from sktags.models import CNNTagger

    rng = np.random.RandomState(0)
    X = rng.rand(40, 1, 8, 12).astype(np.float32)
    Y = (rng.rand(40, 3) < 0.4).astype(np.uint8)
    Y[0] = 1
    counts = np.where(Y == 1, 3 + rng.poisson(2, Y.shape), 0).astype(float)
    tagger = CNNTagger(filters=(4,), hidden_units=4, max_epochs=1, valid_size=None,
                       batch_size=16, device="cpu", random_state=0)
    configs = [TABLE2_CONFIGURATIONS["none"], TABLE2_CONFIGURATIONS["ignore_zeros+tfidf"]]
    preds, n_jobs = fit_table2(tagger, X[:30], Y[:30], X[30:], playlist_counts=counts[:30],
                               configurations=configs, n_jobs=1)
    assert list(preds) == ["No weights", "Both (ignore zeros)"] and n_jobs == 1
    assert tagger.weighting is None and not hasattr(tagger, "classes_")  # untouched
    for cfg in configs:
        by_hand = clone(tagger).set_params(weighting=cfg.make_estimator())
        by_hand.fit(X[:30], Y[:30], playlist_counts=counts[:30])
        np.testing.assert_allclose(preds[cfg.name], by_hand.predict_proba(X[30:]), rtol=1e-6)
    assert not np.allclose(preds["No weights"], preds["Both (ignore zeros)"])


# ------------------------------------------------------------- sktags demo --quick


@pytest.fixture(scope="module")
def quick_demo(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("demo") / "out"
    import contextlib
    import io

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(["demo", "--quick", "--out", str(out_dir), "--jobs", "1"])
    return status, stdout.getvalue(), stderr.getvalue(), out_dir


def test_demo_quick_prints_and_writes(quick_demo):
    status, out, err, out_dir = quick_demo
    assert status == 0, err
    for needle in ("REAL", "CONSTRUCTED", "TABLE 2", "TRUE labels", "OBSERVED", "TABLE 1"):
        assert needle in out
    assert "\x1b[" not in out + err  # no terminal colour codes in a pipe
    results = json.loads((out_dir / "results.json").read_text())
    table = results["table2_true_labels"]
    assert list(table) == NAMES
    for row in table.values():
        assert set(row) == {"hamming_loss", "roc_auc", "recall", "precision", "f1", "tn_rate"}
    for name in ("fig1_cooccurrence.png", "released_weights.png", "bundled_logmels.png",
                 "constructed_table2.png", "table2_true_labels.csv", "table2_observed_labels.csv",
                 "table2_predictions.npz", "README.txt"):
        assert (out_dir / name).stat().st_size > 0, name
    assert {str(out_dir / n) for n in ("results.json", "table2_predictions.npz")} <= set(
        results["files"])
    assert not list(out_dir.glob("*.part")) and not list(out_dir.glob(".tmp-*"))
    assert not any(p.name.startswith("sktags-demo-") for p in out_dir.parent.iterdir())


def _macro_by_sklearn(y, proba):
    """The six macro metrics of Table 2, computed with scikit-learn directly."""
    pred = (proba >= 0.5).astype(int)
    present = [j for j in range(y.shape[1]) if 0 < y[:, j].sum() < len(y)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        return {
            "hamming_loss": hamming_loss(y, pred),
            "roc_auc": roc_auc_score(y[:, present], proba[:, present], average="macro"),
            "recall": recall_score(y, pred, average="macro", zero_division=0),
            "precision": precision_score(y, pred, average="macro", zero_division=0),
            "f1": f1_score(y, pred, average="macro", zero_division=0),
            "tn_rate": recall_score(1 - y, 1 - pred, average="macro", zero_division=0),
        }


def test_demo_table2_numbers_match_sklearn(quick_demo):
    """Every number of both Table 2 files, recomputed from the saved predictions."""
    _, out, _, out_dir = quick_demo
    saved = np.load(out_dir / "table2_predictions.npz", allow_pickle=False)
    results = json.loads((out_dir / "results.json").read_text())
    for labels, stem in (("y_true", "true"), ("y_observed", "observed")):
        y = saved[labels].astype(int)
        with open(out_dir / f"table2_{stem}_labels.csv", newline="") as fh:
            rows = {r["weighting"]: r for r in csv.DictReader(fh)}
        assert list(rows) == NAMES
        for key, cfg in TABLE2_CONFIGURATIONS.items():
            expected = _macro_by_sklearn(y, saved[f"proba_{key}"])
            for metric, value in expected.items():
                assert float(rows[cfg.name][metric]) == pytest.approx(value, abs=1e-6), (
                    stem, cfg.name, metric)
                assert results[f"table2_{stem}_labels"][cfg.name][metric] == pytest.approx(value)
    # The printed table shows the same rounded numbers.
    f1 = _macro_by_sklearn(saved["y_true"].astype(int), saved["proba_ignore_zeros+tfidf"])["f1"]
    line = next(li for li in out.splitlines() if li.strip().startswith("Both (ignore zeros)"))
    assert f"{f1:.3f}" in line.split()
    # The best configuration is the argmax of the true macro F1.
    f1s = {c.name: _macro_by_sklearn(saved["y_true"].astype(int), saved[f"proba_{k}"])["f1"]
           for k, c in TABLE2_CONFIGURATIONS.items()}
    assert results["best_by_true_f1"] == max(f1s, key=f1s.get)


def test_run_demo_rejects_bad_arguments(tmp_path):
    from sktags.demo import run_demo

    with pytest.raises(ValueError, match="hidden_share"):
        run_demo(tmp_path, quick=True, hidden_share=1.0)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match="exists and is not a folder"):
        run_demo(blocker, quick=True)
    assert blocker.read_text() == "x"


def test_demo_cli_passes_its_options_to_run_demo_and_prints(capsys, monkeypatch, tmp_path):
    """The command line holds no experiment: its options go to sktags.demo.run_demo as given,
    and a bad one is run_demo's own error (exit status 1)."""
    import types

    import sktags.demo

    calls = []

    def fake_run_demo(out_dir, **kwargs):
        calls.append((out_dir, kwargs))
        if not 0 <= kwargs["hidden_share"] < 1:
            raise ValueError(f"hidden_share must be in [0, 1), got {kwargs['hidden_share']!r}.")
        kwargs["progress"]("step one", None)
        return types.SimpleNamespace(settings={"figures": False}, total_seconds=1.5,
                                     out_dir=out_dir)

    monkeypatch.setattr(sktags.demo, "run_demo", fake_run_demo)
    out = str(tmp_path / "o")
    assert main(["demo", "--quick", "--out", out, "--hidden-share", "0.3", "--jobs", "1",
                 "--random-state", "7", "--no-figures"]) == 0
    printed = capsys.readouterr().out
    (got_out, kwargs), = calls
    kwargs.pop("progress")
    assert got_out == out and kwargs == {"quick": True, "hidden_share": 0.3, "random_state": 7,
                                         "n_jobs": 1, "figures": False}
    assert printed.startswith(sktags.demo.BANNER) and "step one" in printed
    assert f"done: results in {out}/" in printed
    assert main(["demo", "--out", out, "--hidden-share", "1.5"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("sktags demo: error: hidden_share must be in [0, 1), got 1.5.")
