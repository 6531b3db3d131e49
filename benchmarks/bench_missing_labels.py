"""Missing-label losses against known truth: hidden AllMusic moods of the 4Q dev clips.

The 251 real clips of ``../shared/data/emotion_4q_dev`` carry, besides their
quadrant, their AllMusic moods (``clips.csv``, column ``allmusic_moods``):
real multi-label tags, about 6.5 per clip. The moods with at least
``--min-count`` (12) positives among the clips are the tags. Positives of the
training folds are hidden by a rule, every method is trained on what is
left, and its predictions on the test fold are scored against **all** the
test clips' moods, which nobody hid.

- Folds: ``GroupKFold(5)`` over artists; ``--seeds`` (3) seeds of the hiding.
- Hiding rules (training folds only): ``uniform_0.5`` and ``uniform_0.75``
  (each positive hidden independently with that probability), ``single``
  (one positive kept per clip, chosen at random), ``frequent`` (a biased
  rule: each clip keeps only its positive that is most frequent in the
  training fold, as if annotators named the obvious mood), and ``none``
  (full labels, the upper bound).
- Methods (rows): full labels; AN (``loss="bce"``, no weights); the paper's
  weights (``ContextWeightEstimator`` exact match and ignore zeros); each
  loss of :mod:`sktags.losses` that needs no crops, alone and with the
  paper's weights (ignore zeros). Every method has the same training budget.
- Model selection: each method's main parameter from a small grid
  (``GRIDS``), chosen by macro AP on an inner artist-grouped validation split
  of the training fold scored against the OBSERVED labels only, then refit
  on the whole training fold.
- Scores: macro average precision (first) and macro ROC-AUC over the moods
  with at least one positive (and one negative) in the test fold; mean ± sd
  over seeds x folds, and the paired difference against AN on the same
  seed, fold and hiding.

Features: ``--features musicnn`` (the default,
``sktags.pretrained.MusicnnEmbedding(model="msd")``, stored once in
``--cache-dir``) or per-band log-mel mean and std (``--features logmel``).
Head: ``sktags.EmbeddingTagger(loss=..., weighting=..., random_state=...)``
with its defaults and the same ``max_epochs`` for every method; or, with
``--head recipe``, the real-music CNN recipe
(``CNNTagger(**REAL_MUSIC_RECIPE, loss=...)`` on log-mel spectrograms of the
whole previews, its own 60-epoch budget, each loss at its default
parameters: no inner grid, which would multiply minutes-long fits). The
(rule, seed, fold) runs are spread over ``--n-jobs`` processes with joblib.

Usage::

    python benchmarks/bench_missing_labels.py --figure ap_vs_hidden.png
    python benchmarks/bench_missing_labels.py --quick     # 2 folds, 1 seed, few methods
    python benchmarks/bench_missing_labels.py --head recipe --rules uniform_0.5 \
        --seeds 1 --methods AN ll_r em            # the CNN recipe, best losses
"""

import csv
import json
import math
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import GroupKFold, GroupShuffleSplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED, parser  # noqa: E402

MEL_PARAMS = dict(offset=0.0, duration=30.0)
RULES = ("none", "uniform_0.5", "uniform_0.75", "single", "frequent")
#: Each loss's main parameter and its small grid ({} = nothing to select).
GRIDS = {
    "bce": {},
    "wan": {"gamma": [None, 0.1, 0.3]},
    "label_smoothing": {"epsilon": [0.1, 0.2, 0.4]},
    "asl": {"gamma_neg": [1, 2, 4]},
    "hill": {"lamb": [1.0, 1.5]},
    "splc": {"tau": [0.6, 0.75]},
    "em": {"alpha": [0.05, 0.1, 0.2]},
    "ll_r": {"delta_rel": [0.002, 0.01]},
    "ll_ct": {"delta_rel": [0.002, 0.01]},
    "epr": {},
    "role": {"estimator_lr": [0.3, 1.0]},
}
HEAD_BUDGET = dict(max_epochs=100)  # the same for every method


# ---------------------------------------------------------------- data
def load_moods(root, min_count=12):
    """Paths, mood matrix (n, m) uint8, mood names and artist groups, in clips.csv order.

    The moods are the ``allmusic_moods`` (``;``-separated) with at least
    ``min_count`` positives among the clips, sorted by name.
    """
    root = Path(root)
    with open(root / "clips.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows or "allmusic_moods" not in rows[0]:
        raise ValueError(f"{root / 'clips.csv'}: no column 'allmusic_moods'.")
    moods = [{m.strip() for m in r["allmusic_moods"].split(";") if m.strip()} for r in rows]
    counts = Counter(m for s in moods for m in s)
    names = sorted(m for m, c in counts.items() if c >= min_count)
    Y = np.array([[name in s for name in names] for s in moods], dtype=np.uint8)
    paths = [str(root / r["path"]) for r in rows]
    groups = np.array([r["artist"] for r in rows])
    return paths, Y, names, groups


# ---------------------------------------------------------------- hiding
def hide_positives(Y, rule, rng):
    """The observed labels: ``Y`` with positives hidden (set to 0) by ``rule``.

    Rules: ``"none"``; ``"uniform_<p>"`` (each positive hidden with
    probability p); ``"single"`` (one positive per clip kept, uniformly at
    random); ``"frequent"`` (each clip keeps only its positive that is most
    frequent in ``Y``, ties to the first column). Clips without positives stay
    empty; no negative ever becomes positive.
    """
    Y = np.asarray(Y, dtype=np.uint8)
    if rule == "none":
        return Y.copy()
    if rule.startswith("uniform_"):
        p = float(rule.split("_", 1)[1])
        if not 0 <= p <= 1:
            raise ValueError(f"hiding rule {rule!r}: rate must be in [0, 1].")
        return (Y * (rng.random(Y.shape) >= p)).astype(np.uint8)
    out = np.zeros_like(Y)
    if rule == "single":
        for i in range(len(Y)):
            pos = np.flatnonzero(Y[i])
            if len(pos):
                out[i, rng.choice(pos)] = 1
        return out
    if rule == "frequent":
        freq = Y.sum(0)
        for i in range(len(Y)):
            pos = np.flatnonzero(Y[i])
            if len(pos):
                out[i, pos[np.argmax(freq[pos])]] = 1
        return out
    raise ValueError(f"Unknown hiding rule {rule!r}; valid rules are none, uniform_<p>, "
                     f"single, frequent.")


def hidden_rate(Y, Y_obs):
    """Share of the positives of ``Y`` that ``Y_obs`` hides."""
    return 1.0 - Y_obs.sum() / max(int(Y.sum()), 1)


# ---------------------------------------------------------------- scoring
def macro_scores(Y_true, P):
    """(macro AP, macro ROC-AUC) over the labels with both classes in ``Y_true``."""
    Y_true = np.asarray(Y_true)
    ok = (Y_true.sum(0) > 0) & (Y_true.sum(0) < len(Y_true))
    if not ok.any():
        return math.nan, math.nan
    ap = np.mean([average_precision_score(Y_true[:, j], P[:, j]) for j in np.flatnonzero(ok)])
    auc = np.mean([roc_auc_score(Y_true[:, j], P[:, j]) for j in np.flatnonzero(ok)])
    return float(ap), float(auc)


def summarize(results, metric, baseline="AN"):
    """Per (rule, method): mean, sd, and the mean and sd of the paired difference to baseline.

    ``results`` is a list of dicts with keys rule, method, seed, fold and the
    metric; the difference pairs the same rule, seed and fold.
    """
    by = defaultdict(dict)
    for r in results:
        by[(r["rule"], r["method"])][(r["seed"], r["fold"])] = r[metric]
    out = {}
    for (rule, method), values in by.items():
        v = np.array(list(values.values()))
        base = by.get((rule, baseline), {})
        d = np.array([x - base[k] for k, x in values.items() if k in base])
        out[(rule, method)] = dict(mean=v.mean(), sd=v.std(ddof=1) if len(v) > 1 else 0.0,
                                   diff=d.mean() if len(d) else math.nan,
                                   diff_sd=d.std(ddof=1) if len(d) > 1 else 0.0, n=len(v))
    return out


# ---------------------------------------------------------------- methods
def methods(names=None):
    """Method name -> (loss name, weighting negative or None)."""
    table = {"AN": ("bce", None), "weights (exact match)": ("bce", "exact_match"),
             "weights (ignore zeros)": ("bce", "ignore_zeros")}
    for loss in GRIDS:
        if loss != "bce":
            table[loss] = (loss, None)
            table[loss + " + weights"] = (loss, "ignore_zeros")
    if names:
        unknown = set(names) - set(table)
        if unknown:
            raise ValueError(f"Unknown methods {sorted(unknown)}; valid: {list(table)}.")
        table = {k: v for k, v in table.items() if k in names}
    return table


def make_head(loss, negative, seed, budget):
    """An unfitted tagger with this loss and weighting: the head, or the recipe's CNN."""
    from sktags import CNNTagger, ContextWeightEstimator, EmbeddingTagger
    from sktags.models import REAL_MUSIC_RECIPE

    weighting = None if negative is None else ContextWeightEstimator(negative=negative)
    if budget.get("head") == "recipe":  # the recipe's own budget (60 epochs, no validation)
        return CNNTagger(**REAL_MUSIC_RECIPE, loss=loss, weighting=weighting,
                         random_state=seed, device="cpu")
    return EmbeddingTagger(loss=loss, weighting=weighting, random_state=seed, device="cpu",
                           max_epochs=budget["max_epochs"])


def fit_method(loss_name, negative, X_tr, Y_obs, groups_tr, X_te, seed, budget):
    """Select the loss's parameter on an inner split (observed labels), refit, predict X_te."""
    from sktags.losses import get_loss

    grid = GRIDS[loss_name] if budget.get("head") != "recipe" else {}  # CNN: defaults
    candidates = [{}] if not grid else [{k: v} for k, vs in grid.items() for v in vs]
    best = candidates[0]
    if len(candidates) > 1:
        inner = GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=seed)
        itr, iva = next(inner.split(X_tr, Y_obs, groups_tr))
        scores = []
        for params in candidates:
            est = make_head(get_loss(loss_name, **params), negative, seed, budget)
            est.fit(X_tr[itr], Y_obs[itr])
            scores.append(macro_scores(Y_obs[iva], est.predict_proba(X_tr[iva]))[0])
        best = candidates[int(np.nanargmax(scores))]
    est = make_head(get_loss(loss_name, **best), negative, seed, budget)
    est.fit(X_tr, Y_obs)
    return est.predict_proba(X_te), best


# ---------------------------------------------------------------- features
def band_stats(X):
    """Per-band mean and std over time: (n, 1, n_mels, t) -> (n, 2 n_mels)."""
    X = np.asarray(X, dtype=np.float32).reshape(len(X), -1, X.shape[-1])
    return np.hstack([X.mean(axis=-1), X.std(axis=-1)])


def features(kind, paths, cache_dir, n_jobs):
    """The clips' feature matrix (n_clips, d), computed once and kept in ``cache_dir``."""
    import hashlib

    key = hashlib.sha256("\n".join([kind, *paths]).encode()).hexdigest()[:16]
    stored = Path(cache_dir) / f"features-{kind}-{key}.npy"
    if stored.exists():
        return np.load(stored)
    if kind == "spectrogram":  # the recipe's input, cached per file by the front end
        from sktags import MelSpectrogramTransformer

        return MelSpectrogramTransformer(**MEL_PARAMS, n_jobs=n_jobs,
                                         memory=str(cache_dir)).transform(paths)
    if kind == "musicnn":
        from sktags.pretrained import MusicnnEmbedding

        X = np.asarray(MusicnnEmbedding(model="msd", n_jobs=n_jobs).fit_transform(paths),
                       dtype=np.float32)
    else:
        from sktags import MelSpectrogramTransformer

        mel = MelSpectrogramTransformer(**MEL_PARAMS, n_jobs=n_jobs, memory=str(cache_dir))
        X = band_stats(mel.transform(paths))
    from sktags.utils import atomic_path

    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    with atomic_path(stored, suffix=".npy") as tmp:
        np.save(tmp, X)
    return X


def run_one(rule, seed, k, tr, te, X, Y, groups, table, budget):
    """Every method on one (hiding rule, seed, fold): a list of result rows."""
    rng = np.random.default_rng([seed, k])
    Y_obs = hide_positives(Y[tr], rule, rng)
    rate = hidden_rate(Y[tr], Y_obs)
    t1, rows = time.perf_counter(), []
    for name, (loss, negative) in table.items():
        if rule == "none" and name != "AN":
            continue  # the full-label upper bound is AN on all labels
        P, best = fit_method(loss, negative, X[tr], Y_obs, groups[tr], X[te], seed, budget)
        ap, auc = macro_scores(Y[te], P)
        rows.append(dict(rule=rule, seed=seed, fold=k, method=name, ap=ap, auc=auc,
                         hidden_rate=rate, params=best))
    print(f"{rule} seed {seed} fold {k}: hidden {rate:.2f}, "
          f"{time.perf_counter() - t1:.0f} s", flush=True)
    return rows


# ---------------------------------------------------------------- report
def print_table(results, rules, method_names):
    ap, auc = summarize(results, "ap"), summarize(results, "auc")
    for rule in rules:
        print(f"\nhiding: {rule}   (mean ± sd over seeds x folds; Δ = paired difference to AN)")
        print(f"  {'method':28s} {'macro AP':>15s} {'Δ AP':>16s} {'macro AUC':>15s} {'Δ AUC':>16s}")
        for m in method_names:
            a, u = ap.get((rule, m)), auc.get((rule, m))
            if a is None:
                continue
            print(f"  {m:28s} {a['mean']:.3f} ± {a['sd']:.3f}   {a['diff']:+.3f} ± {a['diff_sd']:.3f}"
                  f"   {u['mean']:.3f} ± {u['sd']:.3f}   {u['diff']:+.3f} ± {u['diff_sd']:.3f}")


def plot_figure(results, path, method_names):
    """Macro AP against the (realised) hidden rate, one line per method.

    A loss and its combination with the paper's weights share a colour (the
    latter dashed); the full-label upper bound is the black horizontal line.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sktags.utils import atomic_path

    ap = summarize(results, "ap")
    rate = defaultdict(list)
    for r in results:
        if r["method"] != "full labels":
            rate[r["rule"]].append(r["hidden_rate"])
    rules = sorted((rule for rule in rate if rule != "frequent"), key=lambda k: np.mean(rate[k]))
    fig, ax = plt.subplots(figsize=(8, 4.5))
    colours = plt.get_cmap("tab20").colors
    bases = [m for m in method_names if not m.endswith(" + weights") and m != "full labels"]
    for m in method_names:
        pts = [(np.mean(rate[rule]), ap[(rule, m)]["mean"]) for rule in rules if (rule, m) in ap]
        if not pts:
            continue
        if m == "full labels":
            ax.axhline(pts[0][1], color="black", lw=1, label=m)
            continue
        base = m.removesuffix(" + weights")
        colour = colours[bases.index(base) % len(colours)] if base in bases else "grey"
        xs, ys = zip(*pts)
        ax.plot(xs, ys, marker="o", ms=3, lw=1.2, color=colour,
                ls="--" if m.endswith(" + weights") else "-", label=m)
    ax.set_xlabel("share of training positives hidden (uniform 0.5, 0.75; one kept per clip)")
    ax.set_ylabel("macro AP against all moods")
    ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path, suffix=path.suffix) as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)


def main(argv=None):
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=SHARED / "data" / "emotion_4q_dev")
    p.add_argument("--cache-dir", type=Path,
                   default=Path(tempfile.gettempdir()) / "sktags_bench_cache")
    p.add_argument("--features", choices=["logmel", "musicnn"], default="musicnn")
    p.add_argument("--head", choices=["embedding", "recipe"], default="embedding",
                   help="recipe: the real-music CNN recipe on log-mel spectrograms (its own "
                   "budget, each loss with its default parameters)")
    p.add_argument("--min-count", type=int, default=12)
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--rules", nargs="+", default=list(RULES))
    p.add_argument("--methods", nargs="+", default=None, help="a subset of the rows")
    p.add_argument("--epochs", type=int, default=HEAD_BUDGET["max_epochs"],
                   help="training budget of every method (max_epochs)")
    p.add_argument("--n-jobs", type=int, default=2,
                   help="processes for the features and the (rule, seed, fold) runs")
    p.add_argument("--figure", type=Path, default=None, help="write the AP figure here")
    p.add_argument("--results", type=Path, default=None, help="write every score as JSON here")
    args = p.parse_args(argv)

    HEAD_BUDGET.update(max_epochs=args.epochs, head=args.head)
    table = methods(args.methods)
    n_folds, n_seeds, rules = args.folds, args.seeds, list(args.rules)
    if args.quick:
        n_folds, n_seeds = 2, 1
        rules = [r for r in rules if r in ("none", "uniform_0.5")]
        table = methods(args.methods or ["AN", "weights (ignore zeros)", "em", "asl + weights"])
        HEAD_BUDGET.update(max_epochs=10)
    paths, Y, names, groups = load_moods(args.data, args.min_count)
    print(f"{len(paths)} clips, {len(set(groups))} artists, {len(names)} moods with >= "
          f"{args.min_count} positives, {Y.sum(1).mean():.1f} per clip; {n_folds}-fold GroupKFold "
          f"over artists, {n_seeds} seeds; {HEAD_BUDGET}; "
          f"features {'spectrogram' if args.head == 'recipe' else args.features}")
    t0 = time.perf_counter()
    X = features("spectrogram" if args.head == "recipe" else args.features, paths,
                 args.cache_dir, args.n_jobs)
    print(f"features {X.shape} in {time.perf_counter() - t0:.1f} s", flush=True)

    from joblib import Parallel, delayed

    folds = list(GroupKFold(n_splits=n_folds).split(X, Y, groups))
    runs = [(rule, seed, k, tr, te) for rule in rules
            for seed in range(n_seeds if rule not in ("none", "frequent") else 1)
            for k, (tr, te) in enumerate(folds)]
    chunks = Parallel(n_jobs=args.n_jobs)(
        delayed(run_one)(*run, X, Y, groups, table, dict(HEAD_BUDGET)) for run in runs)
    results = [row for rows in chunks for row in rows]
    # the full-label row (the upper bound): AN on complete labels, paired with each AN run
    full = {r["fold"]: r for r in results if r["rule"] == "none"}
    results = [r for r in results if r["rule"] != "none"]
    results += [dict(r, method="full labels", ap=full[r["fold"]]["ap"], auc=full[r["fold"]]["auc"])
                for r in results if r["method"] == "AN" and r["fold"] in full]
    rules = [r for r in rules if r != "none"]
    method_names = ["full labels", *table]
    print_table(results, rules, method_names)
    if args.figure is not None:
        plot_figure(results, args.figure, method_names)
        print(f"figure: {args.figure}")
    if args.results is not None:
        from sktags.utils import atomic_path

        with atomic_path(args.results) as tmp, open(tmp, "w") as f:
            json.dump(results, f, indent=1, default=str)
        print(f"results: {args.results}")


if __name__ == "__main__":
    main()
