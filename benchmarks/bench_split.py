"""Quality and speed of the group-disjoint stratified splits on the paper's data.

Reads ``ground_truth_folds.csv`` (48,582 tracks, their labels, artist ids and
the authors' 4 folds) and the authors' train/validation/test files from
``../shared/data/deezer_context`` and compares, in the same run:

- 65/10/25 train/validation/test parts made by
  ``sktags.model_selection.train_valid_test_split`` (both fold-choice rules),
  by two nested ``sklearn.model_selection.GroupShuffleSplit`` and by the
  authors (fold 0 = test, a random 10 % of the rest = validation);
- 4 folds made by ``MultilabelStratifiedGroupKFold``, by sklearn's
  ``GroupKFold`` and by the authors.

For each it prints the shared artists between parts (must be 0), the largest
``|prevalence(part) - prevalence(all)|`` over the 15 contexts, the part sizes
against their targets and the time, then the ratios against the baselines.

Usage::

    python benchmarks/bench_split.py            # 5 timing repeats
    python benchmarks/bench_split.py --quick    # 1 repeat
    python benchmarks/bench_split.py --data-dir PATH
"""

import argparse
import csv
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupKFold, GroupShuffleSplit

from sktags import CONTEXTS
from sktags.model_selection import MultilabelStratifiedGroupKFold, train_valid_test_split

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "deezer_context"
TARGETS = (0.65, 0.10, 0.25)
PARTS = ("train", "valid", "test")


def load(data_dir):
    index = {c: i for i, c in enumerate(CONTEXTS)}
    ids, rows, artists, folds = [], [], [], []
    with open(data_dir / "ground_truth_folds.csv", newline="") as f:
        for r in csv.DictReader(f):
            y = np.zeros(len(CONTEXTS), dtype=np.uint8)
            for name in r["label"].split("\t"):
                if name:
                    y[index[name]] = 1
            ids.append(int(r["song_id"]))
            rows.append(y)
            artists.append(int(r["artist_id"]))
            folds.append(int(r["fold"]))
    authors = {}
    for part, fname in zip(PARTS, ("train", "validation", "test")):
        with open(data_dir / "authors_split" / f"{fname}_ground_truth_binarized.csv") as f:
            next(f)
            authors[part] = {int(line.split(",", 1)[0]) for line in f if line.strip()}
    ids = np.array(ids)
    part = np.full(len(ids), -1)
    for j, name in enumerate(PARTS):
        part[np.isin(ids, list(authors[name]))] = j
    if (part < 0).any():
        raise ValueError(f"{(part < 0).sum()} tracks are in no file of authors_split/")
    return np.array(rows), np.array(artists), np.array(folds), part


def timed(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, float(np.median(times))


def quality(Y, groups, part, targets):
    """Sizes (%), size errors (points), max |prevalence error| per part, overlaps."""
    prev = Y.mean(axis=0)
    k = len(targets)
    size = np.array([(part == j).mean() for j in range(k)])
    dev = np.array([np.abs(Y[part == j].mean(axis=0) - prev) for j in range(k)])  # (k, m)
    sets = [set(groups[part == j].tolist()) for j in range(k)]
    overlap = sum(len(sets[a] & sets[b]) for a in range(k) for b in range(a + 1, k))
    return size, size - np.asarray(targets), dev, overlap


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--quick", action="store_true", help="one timing repeat")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    repeats = 1 if args.quick else 5

    Y, artists, folds, authors_part = load(args.data_dir)
    n = len(Y)
    idx = np.arange(n)
    print(f"{n} tracks, {len(np.unique(artists))} artists, {Y.shape[1]} contexts; "
          f"timings: median of {repeats}")

    # ---- three parts, 65/10/25 -------------------------------------------------
    def ours(method):
        tr, va, te = train_valid_test_split(
            idx, y=Y, groups=artists, method=method, random_state=args.seed)
        part = np.empty(n, dtype=int)
        part[tr], part[va], part[te] = 0, 1, 2
        return part

    def gss():
        rest, te = next(GroupShuffleSplit(1, test_size=0.25, random_state=args.seed)
                        .split(idx, groups=artists))
        tr, va = next(GroupShuffleSplit(1, test_size=0.10 / 0.75, random_state=args.seed)
                      .split(rest, groups=artists[rest]))
        part = np.empty(n, dtype=int)
        part[rest[tr]], part[rest[va]], part[te] = 0, 1, 2
        return part

    results = {}
    for name, fn in (("sktags greedy", lambda: ours("greedy")),
                     ("sktags sechidis", lambda: ours("sechidis")),
                     ("GroupShuffleSplit x2", gss)):
        results[name] = timed(fn, repeats)
    results["authors (published)"] = (authors_part, float("nan"))

    print("\n65/10/25 train/validation/test (size % | size error, points | "
          "max |prevalence error| over contexts)")
    print(f"{'method':22s} {'time s':>7s} {'shared artists':>14s}  "
          + "  ".join(f"{p + ' %':>7s} {'err':>5s} {'maxdev':>6s}" for p in PARTS))
    summary = {}
    for name, (part, t) in results.items():
        size, err, dev, overlap = quality(Y, artists, part, TARGETS)
        summary[name] = (t, overlap, dev.max(), np.abs(err).max() * 100)
        cells = "  ".join(f"{100 * s:7.2f} {100 * e:+5.2f} {d.max():6.4f}"
                          for s, e, d in zip(size, err, dev))
        print(f"{name:22s} {t:7.3f} {overlap:14d}  {cells}")
    va = set(artists[authors_part == 1].tolist())
    tr = set(artists[authors_part == 0].tolist())
    print(f"authors: validation shares {len(va & tr)} of its {len(va)} artists with training")

    part = results["sktags greedy"][0]
    _, _, dev, _ = quality(Y, artists, part, TARGETS)
    print("\nsktags greedy, |prevalence(part) - prevalence(all)| per context:")
    print(f"{'context':10s} {'all':>6s} " + " ".join(f"{p:>7s}" for p in PARTS))
    for c, name in enumerate(CONTEXTS):
        print(f"{name:10s} {Y[:, c].mean():6.3f} "
              + " ".join(f"{dev[j, c]:7.4f}" for j in range(3)))

    # ---- four folds ------------------------------------------------------------
    def kfold(cv):
        fold = np.empty(n, dtype=int)
        for j, (_, te) in enumerate(cv.split(idx, Y, artists)):
            fold[te] = j
        return fold

    fold_results = {
        "sktags greedy": timed(lambda: kfold(MultilabelStratifiedGroupKFold(4)), repeats),
        "sktags sechidis": timed(
            lambda: kfold(MultilabelStratifiedGroupKFold(4, method="sechidis")), repeats),
        "GroupKFold": timed(lambda: kfold(GroupKFold(4)), repeats),
        "authors (published)": (folds, float("nan")),
    }
    print("\n4 folds (size error in points, max |prevalence error| over contexts and folds)")
    print(f"{'method':22s} {'time s':>7s} {'shared artists':>14s} {'max size err':>12s} "
          f"{'maxdev':>7s}")
    fold_summary = {}
    for name, (fold, t) in fold_results.items():
        size, err, dev, overlap = quality(Y, artists, fold, (0.25,) * 4)
        fold_summary[name] = dev.max()
        print(f"{name:22s} {t:7.3f} {overlap:14d} {100 * np.abs(err).max():12.2f} "
              f"{dev.max():7.4f}")

    # ---- verdict and ratios ------------------------------------------------------
    t, overlap, maxdev, maxerr = summary["sktags greedy"]
    print("\ntargets for sktags greedy 65/10/25:")
    print(f"  shared artists      {overlap} (target 0)          "
          f"{'PASS' if overlap == 0 else 'FAIL'}")
    print(f"  max prevalence err  {maxdev:.4f} (target <= 0.02) "
          f"{'PASS' if maxdev <= 0.02 else 'FAIL'}")
    print(f"  max size err        {maxerr:.3f} points (target <= 1.5) "
          f"{'PASS' if maxerr <= 1.5 else 'FAIL'}")
    print(f"  time                {t:.3f} s (target < 10) {'PASS' if t < 10 else 'FAIL'}")
    g = summary["GroupShuffleSplit x2"]
    a = summary["authors (published)"]
    print("ratios (baseline / sktags greedy):")
    print(f"  max prevalence err, 65/10/25: GroupShuffleSplit {g[2] / maxdev:.1f}x, "
          f"authors {a[2] / maxdev:.1f}x, sktags sechidis "
          f"{summary['sktags sechidis'][2] / maxdev:.1f}x")
    print(f"  max size err, 65/10/25:       GroupShuffleSplit {g[3]:.3f} vs {maxerr:.3f} points "
          f"({g[3] / max(maxerr, 1e-3):.0f}x or more)")
    f0 = fold_summary["sktags greedy"]
    print(f"  max prevalence err, 4 folds:  GroupKFold {fold_summary['GroupKFold'] / f0:.1f}x, "
          f"authors {fold_summary['authors (published)'] / f0:.1f}x")
    print(f"  time, 65/10/25: sktags greedy / GroupShuffleSplit x2 = {t / g[0]:.1f}x "
          f"({t:.3f} s vs {g[0]:.3f} s)")


if __name__ == "__main__":
    main()
