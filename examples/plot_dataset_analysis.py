"""
Dataset analysis: co-occurrences (Figure 1), weights and splits
===============================================================

Everything here is REAL data: the released context-tags dataset (49,929 Deezer
tracks x 15 contexts, Zenodo record 3648287), bundled with sktags. When the
authors' companion files are found (``--shared``, default ``../shared``), the
playlist counts give the TF-IDF positive weights and the artist ids give an
artist-disjoint 65/10/25 split; otherwise those cells are skipped.

``python examples/plot_dataset_analysis.py [--quick] [--out DIR] [--shared DIR]``
"""

# %%
import argparse
import os
import time
from pathlib import Path

import numpy as np

from sktags import ContextWeightEstimator
from sktags.datasets import load_context_tags, match_keywords

parser = argparse.ArgumentParser(description="Analysis of the released dataset")
parser.add_argument("--quick", action="store_true", help="subsample for CI (seconds)")
parser.add_argument("--out", default=None, help="folder for the figures (default: none)")
# The folder of this script (the docs gallery runs it from there, without __file__).
HERE = Path(globals().get("__file__", "plot_dataset_analysis.py")).resolve().parent
parser.add_argument("--shared", default=str(HERE.parent.parent / "shared"),
                    help="folder with data/deezer_context (optional)")
args, _ = parser.parse_known_args()
deezer = Path(args.shared) / "data" / "deezer_context"
have_companions = (deezer / "balanced_ground_truth_track_count.csv").is_file()

# %%
# The released label matrix.
if have_companions:
    data = load_context_tags(counts_file=deezer / "balanced_ground_truth_track_count.csv",
                             artists_file=deezer / "ground_truth_folds.csv")
else:
    data = load_context_tags()
Y, names = np.asarray(data.target), list(data.target_names)
print(data.DESCR.splitlines()[0])
print(f"{Y.shape[0]:,} tracks, {Y.shape[1]} contexts, {Y.sum(1).mean():.2f} labels per track")
for n, c in zip(names, Y.sum(0)):
    print(f"  {n:<8} {c:>7,}")

rows = np.random.RandomState(0).choice(len(Y), 4000, replace=False) if args.quick else slice(None)
Ys = Y[rows]

# %%
# Figure 1 of the paper: tracks co-labelled with each pair of contexts, and the
# same normalised per row, an estimate of P(column | row).
figures = {}
if args.out:
    import matplotlib

    matplotlib.use("Agg")
    from sktags.plotting import plot_cooccurrence, plot_weight_distributions

    ax = plot_cooccurrence(Y, target_names=names)
    figures["fig1_cooccurrence.png"] = ax.figure
    ax = plot_cooccurrence(Y, target_names=names, normalize="row")
    figures["cooccurrence_row_normalised.png"] = ax.figure
C = Y.T.astype(np.int64) @ Y
P = C / np.diag(C)[:, None]
i = names.index("sleep")
print("P(context | sleep):", ", ".join(f"{n} {p:.2f}" for n, p in zip(names, P[i])))

# %%
# The confidence weights of each scheme, fitted and applied on the whole
# matrix as the authors did.
weights = {}
for negative in ("exact_match", "ignore_zeros"):
    t0 = time.perf_counter()
    W = ContextWeightEstimator(negative=negative).fit_transform(Ys)
    weights[negative] = W
    neg = W[Ys == 0]
    print(f"{negative:<13} negatives: mean {neg.mean():.3f}, median {np.median(neg):.3f}, "
          f"{(neg < 0.5).mean():.1%} below 0.5  ({time.perf_counter() - t0:.2f} s)")
if have_companions:
    counts = np.asarray(data.playlist_counts)[rows]
    W = ContextWeightEstimator(negative="ignore_zeros", positive="tfidf").fit_transform(
        Ys, playlist_counts=counts)
    weights["ignore_zeros + tfidf"] = W
    pos = W[Ys == 1]
    print(f"tfidf positives: mean {pos.mean():.3f}, {np.mean(pos == 0):.1%} are 0 "
          f"(tracks with all 15 contexts, or no playlist count)")
if args.out:
    axes = plot_weight_distributions(weights, Ys, target_names=names)
    figures["weight_distributions.png"] = axes[0].figure
    axes = plot_weight_distributions(weights, Ys, target_names=names, by_context=True)
    figures["weights_by_context.png"] = axes[0].figure

# %%
# Keyword matching in playlist titles (section 3.1): whole words, any case.
titles = ["Chill vibes ☀️", "PARTY!!! 2019", "Work-out mix", "sleepy time", "Car & Night drive"]
print(dict(zip(titles, [[k for k, hit in zip(names, row) if hit]
                        for row in match_keywords(titles)])))

# %%
# An artist-disjoint, stratified 65/10/25 split (needs the artist ids).
if have_companions and not args.quick:
    from sktags.model_selection import train_valid_test_split

    known = np.asarray(data.artist_ids) >= 0
    idx = np.flatnonzero(known)
    t0 = time.perf_counter()
    parts = train_valid_test_split(idx, y=Y[known], groups=np.asarray(data.artist_ids)[known],
                                   random_state=0)
    print(f"split of {len(idx):,} tracks in {time.perf_counter() - t0:.1f} s")
    for part, label in zip(parts, ("train", "valid", "test")):
        dev = np.abs(Y[part].mean(0) - Y[known].mean(0)).max()
        print(f"  {label:<5} {len(part) / len(idx):6.1%} of tracks, "
              f"max prevalence deviation {dev:.3f}")
elif not have_companions:
    print("companion files not found: skipping TF-IDF weights and the artist-disjoint split")

# %%
if args.out:
    os.makedirs(args.out, exist_ok=True)
    for fname, fig in figures.items():
        fig.savefig(os.path.join(args.out, fname), dpi=100, bbox_inches="tight")
    print("figures written to", args.out)
