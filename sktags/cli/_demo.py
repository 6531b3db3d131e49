"""``sktags demo``: the whole system end to end, offline, on what sktags ships."""

import json
import platform
import time
from pathlib import Path

import numpy as np

from ._common import CLIError, atomic_path, write_text_atomic

HELP = "offline end-to-end demo on the bundled data (1-3 minutes on 2 CPU cores)"

BANNER = """\
sktags demo -- what is real and what is constructed
  REAL       the released label matrix (49,929 Deezer tracks x 15 contexts, Zenodo 3648287),
             bundled with sktags: used for the co-occurrences, the weight statistics, and
             as the source of the label vectors in part 3.
  REAL       five freely licensed recordings bundled with sktags (librosa's examples,
             CC BY 3.0 / public domain): decoded and turned into log-mels in part 2,
             and mixed into the clips of part 3.
  CONSTRUCTED  part 3's clips: each tag is made audible by mixing in one recording (or a
             synthetic beat), an arbitrary assignment; a share of the true positives is then
             HIDDEN from the training labels. Because the truth is known, part 3 measures
             what the confidence weights recover -- which the paper could not measure.
  No Deezer audio is used: this demo says nothing about how well contexts are predicted
  from real music; see the examples for the paper's protocol on real previews."""

CONFIGS = [
    ("No weights", None),
    ("Negative (exact match)", ("exact_match", None)),
    ("Negative (ignore zeros)", ("ignore_zeros", None)),
    ("Both (exact match)", ("exact_match", "tfidf")),
    ("Both (ignore zeros)", ("ignore_zeros", "tfidf")),
]

FULL = {
    "n_train": 300,
    "n_test": 160,
    "clip_duration": 3.0,
    "n_mels": 48,
    "max_epochs": 30,
    "patience": 8,
    "filters": (16, 32, 64),
    "hidden_units": 64,
    "released_rows": None,
}
QUICK = {
    "n_train": 48,
    "n_test": 32,
    "clip_duration": 1.5,
    "n_mels": 32,
    "max_epochs": 2,
    "patience": 2,
    "filters": (8, 16),
    "hidden_units": 16,
    "released_rows": 5000,
}


def add_parser(sub):
    p = sub.add_parser(
        "demo",
        help=HELP,
        description=(
            "Run sktags end to end, offline, on what the package ships: (1) the released "
            "label matrix: co-occurrences (the paper's Figure 1) and the confidence weights "
            "of each scheme; (2) log-mel extraction from the bundled real recordings, with "
            "the feature cache; (3) GridSearchCV over the five weighting configurations of "
            "the paper's Table 2 on a constructed set whose true labels are known and some "
            "of whose positives are hidden, scored against the TRUE labels of held-out "
            "clips, and against the incomplete ones as the paper had to. Prints the Table 1 "
            "and Table 2 style reports; writes figures, CSV and JSON to --out."
        ),
    )
    p.add_argument("-o", "--out", default="demo_out", metavar="DIR", help="output folder (default demo_out)")
    p.add_argument("--quick", action="store_true", help="a tiny run for smoke tests (seconds; results meaningless)")
    p.add_argument("--hidden-share", type=float, default=0.4, help="share of true positives hidden (default 0.4)")
    p.add_argument("--random-state", type=int, default=0)
    p.add_argument("--jobs", "-j", type=int, default=None, help="parallel processes (default: one per core, at most 5)")
    p.add_argument("--no-figures", action="store_true", help="skip the matplotlib figures")
    p.set_defaults(run=run)
    return p


# ------------------------------------------------------------------------ helpers


class _Log:
    def __init__(self):
        self.start = time.perf_counter()

    def __call__(self, msg=""):
        print(msg, flush=True)

    def step(self, msg):
        print(f"\n[{time.perf_counter() - self.start:6.1f} s] {msg}", flush=True)


def _savefig(fig, path):
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)


def _pyplot_or_none(no_figures, log):
    if no_figures:
        return None
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("  (matplotlib is not installed: no figures; pip install 'sktags[plot]')")
        return None
    return plt


def _table(rows, columns, row_header, fmt="{:.3f}"):
    """Plain-text table: ``rows`` is a list of (name, values)."""
    width = max(len(row_header), *(len(r[0]) for r in rows))
    head = f"{row_header:<{width}}  " + "  ".join(f"{c:>9}" for c in columns)
    lines = [head, "-" * len(head)]
    for name, values in rows:
        lines.append(f"{name:<{width}}  " + "  ".join(f"{fmt.format(v):>9}" for v in values))
    return "\n".join(lines)


def _csv(rows, columns, row_header):
    lines = [",".join([row_header, *columns])]
    for name, values in rows:
        lines.append(",".join([f'"{name}"', *(f"{v:.6f}" for v in values)]))
    return "\n".join(lines) + "\n"


def _auc(pos, neg):
    """P(score of a random ``pos`` > score of a random ``neg``), ties counting half."""
    from sklearn.metrics import roc_auc_score

    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    return float(roc_auc_score(np.r_[np.ones(len(pos)), np.zeros(len(neg))], np.r_[pos, neg]))


# ------------------------------------------------------------------------ part 1


def _part_released(out, plt, cfg, log):
    from ..datasets import load_context_tags
    from ..weighting import ContextWeightEstimator

    tags = load_context_tags()
    Y = np.asarray(tags.target)
    names = list(tags.target_names)
    log(f"  loaded {Y.shape[0]:,} tracks x {Y.shape[1]} contexts (bundled copy of Zenodo 3648287)")
    log(f"  labels per track: mean {Y.sum(1).mean():.2f}; tracks with all 15: {(Y.sum(1) == 15).sum():,}")
    log("  positives per context: " + ", ".join(f"{n} {int(c):,}" for n, c in zip(names, Y.sum(0))))
    if cfg["released_rows"]:
        rng = np.random.RandomState(0)
        Y = Y[rng.choice(len(Y), cfg["released_rows"], replace=False)]
        log(f"  (--quick: weights on a random {len(Y):,}-track subset)")
    C = np.triu(Y.T.astype(np.int64) @ Y.astype(np.int64), k=1)
    a, b = np.unravel_index(np.argsort(-C, axis=None)[:3], C.shape)
    log("  most frequent pairs: " + ", ".join(f"{names[i]}+{names[j]} {C[i, j]:,}" for i, j in zip(a, b)))

    weights, rows, stats = {}, [], {}
    for scheme in ("exact_match", "ignore_zeros"):
        t0 = time.perf_counter()
        W = ContextWeightEstimator(negative=scheme, positive=None).fit_transform(Y)
        dt = time.perf_counter() - t0
        neg = W[Y == 0]
        weights[f"negative: {scheme}"] = W
        per_context = [float(W[:, c][Y[:, c] == 0].mean()) for c in range(len(names))]
        stats[scheme] = {
            "seconds": dt,
            "mean_negative_weight": float(neg.mean()),
            "share_below_0.5": float((neg < 0.5).mean()),
            "share_equal_1": float((neg == 1.0).mean()),
            "mean_negative_weight_per_context": dict(zip(names, per_context)),
        }
        rows.append((scheme, [neg.mean(), np.median(neg), (neg < 0.5).mean(), (neg == 1.0).mean(), dt]))
    log("\n  Negative weights P(y_c = 0 | y_i) on the released matrix (fit and transform on it, as the authors did):")
    log("  " + _table(rows, ["mean", "median", "<0.5", "==1", "fit+tf s"], "scheme").replace("\n", "\n  "))
    log("  (TF-IDF positive weights need per-track playlist counts, which Zenodo does not publish:")
    log("   see load_context_tags(counts_file=...) and examples/plot_dataset_analysis.py)")
    write_text_atomic(out / "released_weight_stats.json", json.dumps(stats, indent=1))
    if plt is not None:
        from ..plotting import plot_cooccurrence, plot_weight_distributions

        ax = plot_cooccurrence(np.asarray(tags.target), target_names=names)
        ax.set_title("Released dataset: tracks co-labelled with each pair of contexts (Figure 1)")
        _savefig(ax.figure, out / "fig1_cooccurrence.png")
        axes = plot_weight_distributions(weights, Y, target_names=names)
        axes[0].figure.suptitle("Released dataset: loss weights per scheme (fitted on all of it)")
        _savefig(axes[0].figure, out / "released_weights.png")
        log(f"  figures: {out / 'fig1_cooccurrence.png'}, {out / 'released_weights.png'}")


# ------------------------------------------------------------------------ part 2


def _part_audio(out, plt, args, log):
    from ..demo import load_recordings
    from ..features import MelSpectrogramTransformer

    rec = load_recordings()
    files = [str(f) for f in rec.filenames]
    cache = out / "mel_cache"
    mel = MelSpectrogramTransformer(n_jobs=args.jobs, memory=str(cache))
    t0 = time.perf_counter()
    X = mel.fit_transform(files)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    X2 = mel.transform(files)
    warm = time.perf_counter() - t0
    if not np.array_equal(X, X2):
        raise RuntimeError("cached features differ from the computed ones")
    log(f"  {len(files)} real recordings (Ogg Vorbis, 5 s to 133 s) -> {X.shape} float32 log-mels,")
    log("  the paper's front end: 22,050 Hz mono, n_fft 1024, hop 1024, 96 mel bands, the 30-60 s")
    log("  excerpt (for a shorter track: its last 30 s, or the whole track zero-padded), log(1 + 100 mel)")
    log(f"  first pass {cold:.2f} s ({len(files) / cold:.1f} files/s); cached second pass {warm * 1000:.0f} ms")
    for name, path, x in zip(rec.names, rec.filenames, X):
        log(f"    {name:<12} {x.mean():6.3f} mean log-mel   ({path.name})")
    if plt is not None:
        fig, axes = plt.subplots(1, len(files), figsize=(3.2 * len(files), 3), sharey=True)
        for ax, name, x in zip(np.atleast_1d(axes), rec.names, X):
            im = ax.imshow(x[0], origin="lower", aspect="auto", cmap="magma")
            ax.set_title(name)
            ax.set_xlabel("frame (46 ms)")
        np.atleast_1d(axes)[0].set_ylabel("mel band")
        fig.colorbar(im, ax=axes, label="log(1 + 100 mel)")
        _savefig(fig, out / "bundled_logmels.png")
        log(f"  figure: {out / 'bundled_logmels.png'}")
    return {"n_files": len(files), "shape": list(X.shape), "first_pass_s": cold, "cached_pass_s": warm}


# ------------------------------------------------------------------------ part 3


class _SavingScorer:
    """A GridSearchCV scorer that also saves each candidate's held-out probabilities.

    It is picklable and writes to a folder, so it works with parallel workers.
    """

    def __init__(self, directory):
        self.directory = str(directory)

    def __call__(self, estimator, X, y):
        from ..metrics import roc_auc_macro

        P = np.asarray(estimator.predict_proba(X))
        name = _config_name(estimator.weighting)
        np.save(Path(self.directory) / f"{_slug(name)}.npy", P)
        return roc_auc_macro(y, P)


def _slug(name):
    return "".join(ch if ch.isalnum() else "_" for ch in name)


def _config_name(weighting):
    if weighting is None:
        return CONFIGS[0][0]
    key = (weighting.negative, weighting.positive)
    for name, cfg in CONFIGS:
        if cfg == key:
            return name
    return f"negative={key[0]}, positive={key[1]}"


def _param_name(params):
    if params.get("weighting") is None:
        return CONFIGS[0][0]
    key = (params.get("weighting__negative"), params.get("weighting__positive"))
    return next((n for n, c in CONFIGS if c == key), str(key))


def _macro_row(report):
    return dict(zip(report.metrics, (float(v) for v in np.asarray(report.macro))))


def _part_constructed(out, plt, cfg, args, log):
    from sklearn.model_selection import GridSearchCV, PredefinedSplit

    from ..demo import make_context_mixtures
    from ..features import MelSpectrogramTransformer
    from ..metrics import context_report
    from ..models import CNNTagger
    from ..weighting import ContextWeightEstimator

    seed = args.random_state
    common = {"hidden_share": args.hidden_share, "clip_duration": cfg["clip_duration"]}
    train = make_context_mixtures(cfg["n_train"], region=(0.0, 0.7), random_state=seed, **common)
    test = make_context_mixtures(cfg["n_test"], region=(0.7, 1.0), random_state=seed + 1, **common)
    names = list(train.target_names)
    hidden = (train.target == 1) & (train.target_observed == 0)
    log(f"  {cfg['n_train']} training and {cfg['n_test']} test clips of {cfg['clip_duration']} s; tags: {', '.join(names)}")
    log("  sources (arbitrary assignment): " + ", ".join(f"{c} <- {s}" for c, s in train.sources.items()))
    log("  training excerpts come from the first 70% of each recording, test excerpts from the last 30%")
    log(f"  true positives hidden in the training labels: {hidden.sum()} of {train.target.sum()} "
        f"({hidden.sum() / max(train.target.sum(), 1):.0%})")

    # What the weights recover, before any training: rank hidden positives below true negatives?
    zeros = train.target_observed == 0
    true_neg = zeros & (train.target == 0)
    recov_rows, recovery = [], {}
    weights_fig = {}
    for name, conf in CONFIGS[1:3]:
        W = ContextWeightEstimator(negative=conf[0]).fit_transform(train.target_observed)
        weights_fig[name] = W
        auc = _auc(-W[hidden], -W[true_neg])
        recovery[name] = {
            "mean_weight_hidden_positives": float(W[hidden].mean()) if hidden.any() else float("nan"),
            "mean_weight_true_negatives": float(W[true_neg].mean()),
            "auc_hidden_vs_true_negative": auc,
        }
        recov_rows.append((name, [W[hidden].mean() if hidden.any() else np.nan, W[true_neg].mean(), auc]))
    log("\n  Negative weights on the training labels: hidden positives should get LOW weights")
    log("  " + _table(recov_rows, ["hidden+", "true neg", "AUC"], "scheme").replace("\n", "\n  "))
    log("  (AUC: chance that a hidden positive gets a lower weight than a true negative; 0.5 = blind)")

    mel = MelSpectrogramTransformer(
        offset=0.0, duration=cfg["clip_duration"], n_mels=cfg["n_mels"], sr=train.sr
    )
    X_train = mel.fit_transform(train.data)
    X_test = mel.transform(test.data)
    X = np.concatenate([X_train, X_test])
    # One predefined split: the model trains on the OBSERVED labels of the training clips
    # and is scored against the TRUE labels of the held-out clips.
    y = np.concatenate([train.target_observed, test.target])
    counts = np.concatenate([train.playlist_counts, np.zeros_like(test.playlist_counts)])
    cv = PredefinedSplit(np.r_[np.full(len(X_train), -1), np.zeros(len(X_test), dtype=int)])
    tagger = CNNTagger(
        filters=cfg["filters"],
        hidden_units=cfg["hidden_units"],
        lr=1.0,
        lr_decay_steps=10**9,
        max_epochs=cfg["max_epochs"],
        patience=cfg["patience"],
        device="cpu",
        random_state=seed,
    )
    grid = [
        {"weighting": [None]},
        {
            "weighting": [ContextWeightEstimator()],
            "weighting__negative": ["exact_match", "ignore_zeros"],
            "weighting__positive": [None, "tfidf"],
        },
    ]
    import os
    import tempfile

    pred_dir = tempfile.mkdtemp(prefix="sktags-demo-")
    saver = _SavingScorer(pred_dir)
    from ..metrics import SCORERS

    scoring = {"roc_auc_macro": saver, **{k: v for k, v in SCORERS.items() if k != "roc_auc_macro"}}
    # One process per candidate, each with its share of the cores: small networks
    # train faster this way than with torch's threads in one process.
    n_jobs = args.jobs if args.jobs else min(len(CONFIGS), os.cpu_count() or 1)
    search = GridSearchCV(tagger, grid, scoring=scoring, cv=cv, refit=False,
                          error_score="raise", n_jobs=n_jobs)
    log(f"\n  GridSearchCV over the 5 weighting configurations of Table 2 "
        f"(CNN {cfg['filters']}, {cfg['n_mels']} mel bands, <= {cfg['max_epochs']} epochs) ...")
    t0 = time.perf_counter()
    search.fit(X, y, playlist_counts=counts)
    fit_s = time.perf_counter() - t0
    log(f"  done in {fit_s:.1f} s ({n_jobs} parallel worker{'s' if n_jobs > 1 else ''})")

    reports_true, reports_obs, rows_true, rows_obs = {}, {}, [], []
    for name, _ in CONFIGS:
        P = np.load(Path(pred_dir) / f"{_slug(name)}.npy")
        r_true = context_report(test.target, P, threshold=0.5, target_names=names)
        r_obs = context_report(test.target_observed, P, threshold=0.5, target_names=names)
        reports_true[name], reports_obs[name] = r_true, r_obs
        rows_true.append((name, list(_macro_row(r_true).values())))
        rows_obs.append((name, list(_macro_row(r_obs).values())))
    import shutil

    shutil.rmtree(pred_dir, ignore_errors=True)
    metrics = list(_macro_row(reports_true[CONFIGS[0][0]]))
    short = [_SHORT.get(m, m) for m in metrics]

    log("\n  TABLE 2 (macro averages, threshold 0.5) against the TRUE labels of the held-out clips:")
    log("  " + _table(rows_true, short, "weighting").replace("\n", "\n  "))
    log("\n  The same predictions against the OBSERVED (incomplete) held-out labels -- all the paper could measure:")
    log("  " + _table(rows_obs, short, "weighting").replace("\n", "\n  "))
    best = max(rows_true, key=lambda r: _macro_row(reports_true[r[0]]).get("f1", 0.0))[0]
    log(f"\n  TABLE 1 (per context) for the best configuration by true macro F1, '{best}', vs TRUE labels:")
    log("  " + str(reports_true[best]).replace("\n", "\n  "))
    if best != CONFIGS[0][0]:
        log("\n  TABLE 1 for 'No weights', vs TRUE labels:")
        log("  " + str(reports_true[CONFIGS[0][0]]).replace("\n", "\n  "))

    write_text_atomic(out / "table2_true_labels.csv", _csv(rows_true, metrics, "weighting"))
    write_text_atomic(out / "table2_observed_labels.csv", _csv(rows_obs, metrics, "weighting"))
    results = {
        "recovery_before_training": recovery,
        "grid_search_seconds": fit_s,
        "table2_true_labels": {n: dict(zip(metrics, v)) for n, v in rows_true},
        "table2_observed_labels": {n: dict(zip(metrics, v)) for n, v in rows_obs},
        "best_by_true_f1": best,
        "table1_best_true_labels": reports_true[best].to_dict(),
        "table1_no_weights_true_labels": reports_true[CONFIGS[0][0]].to_dict(),
        "cv_results_mean_test": {
            k: [float(x) for x in v]
            for k, v in search.cv_results_.items()
            if k.startswith("mean_test_")
        },
        "cv_results_params": [_param_name(p) for p in search.cv_results_["params"]],
    }
    if plt is not None:
        from ..plotting import plot_context_report, plot_weight_distributions

        ax = plot_context_report(reports_true[best])
        ax.set_title(f"Constructed set, held-out TRUE labels: {best}")
        _savefig(ax.figure, out / "constructed_table1_best.png")
        axes = plot_weight_distributions(weights_fig, train.target_observed, target_names=names)
        axes[0].figure.suptitle("Constructed training labels: loss weights per scheme")
        _savefig(axes[0].figure, out / "constructed_weights.png")
        fig, ax = plt.subplots(figsize=(8, 4))
        xs = np.arange(len(CONFIGS))
        for k, metric in enumerate(m for m in metrics if m in ("recall", "precision", "tn_rate", "roc_auc")):
            ax.plot(xs, [_macro_row(reports_true[n])[metric] for n, _ in CONFIGS], "o-", label=f"{metric} (true)")
            ax.plot(xs, [_macro_row(reports_obs[n])[metric] for n, _ in CONFIGS], "x--", color=ax.lines[-1].get_color(), label=f"{metric} (observed)")
        ax.set_xticks(xs, [n.replace(" (", "\n(") for n, _ in CONFIGS], fontsize=8)
        ax.set_ylabel("macro average on held-out clips")
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=7, ncol=2)
        ax.set_title("Table 2 on constructed data: true vs observed labels")
        _savefig(fig, out / "constructed_table2.png")
        log(f"  figures: {out / 'constructed_table1_best.png'}, {out / 'constructed_weights.png'}, "
            f"{out / 'constructed_table2.png'}")
    return results


_SHORT = {
    "hamming_loss": "HL",
    "roc_auc": "AUC",
    "recall": "Recall",
    "precision": "Precision",
    "f1": "F1",
    "tn_rate": "TN rate",
}


def run(args):
    if not 0.0 <= args.hidden_share < 1.0:
        raise CLIError(f"--hidden-share must be in [0, 1), got {args.hidden_share}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {str(out)!r} exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CLIError(f"cannot create output folder {str(out)!r}: {exc.strerror}") from None
    cfg = QUICK if args.quick else FULL
    log = _Log()
    log(BANNER)
    if args.quick:
        log("\n--quick: a tiny smoke run; its numbers mean nothing.")
    plt = _pyplot_or_none(args.no_figures, log)
    log.step("1/3  REAL labels: the released context-tags matrix")
    _part_released(out, plt, cfg, log)
    log.step("2/3  REAL audio: log-mel extraction from the bundled recordings")
    audio = _part_audio(out, plt, args, log)
    log.step("3/3  CONSTRUCTED clips with known true labels and hidden positives: Table 2")
    results = _part_constructed(out, plt, cfg, args, log)
    results["audio"] = audio
    results["settings"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.items()}
    results["settings"].update(hidden_share=args.hidden_share, random_state=args.random_state,
                               quick=bool(args.quick))
    results["machine"] = {"python": platform.python_version(), "platform": platform.platform()}
    results["total_seconds"] = time.perf_counter() - log.start
    write_text_atomic(out / "results.json", json.dumps(results, indent=1, default=float))
    write_text_atomic(out / "README.txt", BANNER + "\n\nFiles: see results.json and the tables/figures here.\n")
    log.step(f"done: results in {out}/ (results.json, table2_*.csv, figures)")
    return 0
