"""Speed and memory of ContextWeightEstimator on the released 49,929 x 15 matrix.

Measures fit + transform (the same matrix, as the authors computed them) for
each weighting scheme, against a naive baseline measured in the same run: the
definitions evaluated row by row (for each row, scan all n rows for the
conditioning event), on a random subsample of rows and extrapolated linearly
to all rows (the per-row cost does not depend on which row). The baseline's
weights on the subsample are also compared with the fast ones.

Peak memory is the tracemalloc peak of fit + transform (numpy allocations),
next to the size of the (n, m) float32 output and of an n x n boolean matrix.

Usage (from the repository root)::

    python benchmarks/bench_weights.py           # full run, about a minute
    python benchmarks/bench_weights.py --quick   # smoke run, a few seconds

Without ../shared/data/deezer_context, a synthetic matrix of the same shape
is used (say so in any figure you quote).
"""

import argparse
import csv
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sktags import ContextWeightEstimator  # noqa: E402
from sktags.weighting import _label_sets  # noqa: E402

SHARED = Path(os.environ.get("SKTAGS_SHARED", ROOT.parent / "shared"))
DATA = SHARED / "data" / "deezer_context"


def _read(path):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    ids = np.array([int(r[0]) for r in rows[1:]])
    return rows[0][1:], ids, np.array([[int(v) for v in r[1:]] for r in rows[1:]])


def load():
    """Labels and playlist counts of the released dataset, joined on song_id."""
    if not (DATA / "Context_tags_dataset.csv").is_file():
        rng = np.random.default_rng(0)
        proto = rng.random((40, 15)) < 0.5
        Y = (proto[rng.integers(40, size=49929)] ^ (rng.random((49929, 15)) < 0.1)).astype(np.uint8)
        C = np.where(Y == 1, rng.integers(3, 200, Y.shape), 0).astype(float)
        return Y, C, "synthetic 49,929 x 15 matrix (../shared absent)"
    names, ids, Y = _read(DATA / "Context_tags_dataset.csv")
    names_c, ids_c, C = _read(DATA / "balanced_ground_truth_track_count.csv")
    assert names == names_c
    order = np.argsort(ids_c)
    C = C[order[np.searchsorted(ids_c, ids, sorter=order)]]
    return Y.astype(np.uint8), C.astype(float), "released dataset"


def naive_rows(Y, C, rows, negative, positive):
    """The definitions, row by row, for the given rows (fit on all of Y)."""
    n, m = Y.shape
    W = np.ones((len(rows), m))
    if positive == "tfidf":
        totals = C.sum(0)
        idf_all = np.log(m / np.maximum(Y.sum(1), 1)) * (Y.sum(1) > 0)
        raw_all = C / totals * idf_all[:, None]
        stats = [(raw_all[raw_all[:, c] > 0, c].mean(), raw_all[raw_all[:, c] > 0, c].std(ddof=1)) for c in range(m)]
    for r, i in enumerate(rows):
        y = Y[i]
        if negative == "ignore_zeros":
            contains = np.all(Y[:, y == 1] == 1, axis=1)
            T = contains.sum()
            for c in np.flatnonzero(y == 0):
                W[r, c] = (T - np.sum(contains & (Y[:, c] == 1))) / T
        elif negative == "exact_match":
            n0 = np.all(Y == y, axis=1).sum()
            for c in np.flatnonzero(y == 0):
                y1 = y.copy()
                y1[c] = 1
                W[r, c] = n0 / (n0 + np.all(Y == y1, axis=1).sum())
        if positive == "tfidf":
            for c in np.flatnonzero(y == 1):
                raw = C[i, c] / totals[c] * idf_all[i]
                W[r, c] = np.clip((raw - stats[c][0]) / stats[c][1] + 1, 0, 2) if raw > 0 else 0.0
    return W


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run: fewer repeats and baseline rows")
    args = p.parse_args(argv)
    repeat, n_naive = (2, 20) if args.quick else (7, 200)

    Y, C, source = load()
    n, m = Y.shape
    k = len(np.unique(np.packbits(Y, axis=1), axis=0))
    print(f"data: {source}, {n} x {m}, {k} distinct label vectors")
    print(f"fit + transform, median of {repeat}; naive baseline on {n_naive} random rows, "
          f"extrapolated x{n / n_naive:.0f} to all {n} rows")
    print(f"{'negative':>13} {'positive':>8} {'fast (s)':>9} {'naive (s, extrap.)':>19} {'speed-up':>9} "
          f"{'max |diff|':>10} {'peak MiB':>9}")
    rng = np.random.default_rng(0)
    rows = rng.choice(n, n_naive, replace=False)
    configs = [("ignore_zeros", None), ("exact_match", None), ("ignore_zeros", "tfidf"), ("exact_match", "tfidf")]
    for negative, positive in configs:
        est = ContextWeightEstimator(negative=negative, positive=positive)
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            W = est.fit_transform(Y, playlist_counts=C)
            times.append(time.perf_counter() - t0)
        fast = statistics.median(times)
        tracemalloc.start()
        est.fit_transform(Y, playlist_counts=C)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        t0 = time.perf_counter()
        Wn = naive_rows(Y, C, rows, negative, positive)
        naive = (time.perf_counter() - t0) * n / n_naive
        diff = np.abs(W[rows] - Wn).max()
        print(f"{negative:>13} {str(positive):>8} {fast:9.3f} {naive:19.1f} {naive / fast:8.0f}x "
              f"{diff:10.1e} {peak:9.1f}")

    # The pairwise superset path (used for m > 20) on the same data, for reference.
    old = _label_sets.SOS_MAX_LABELS
    _label_sets.SOS_MAX_LABELS = 0
    try:
        est = ContextWeightEstimator(negative="ignore_zeros")
        t0 = time.perf_counter()
        for _ in range(max(1, repeat // 2)):
            est.fit_transform(Y)
        pair = (time.perf_counter() - t0) / max(1, repeat // 2)
    finally:
        _label_sets.SOS_MAX_LABELS = old
    print(f"ignore_zeros with the pairwise superset path (the m > 20 fallback): {pair:.3f} s")
    print(f"output W: {n * m * 4 / 2**20:.1f} MiB float32; an n x n bool matrix would be "
          f"{n * n / 2**30:.1f} GiB")


if __name__ == "__main__":
    main()
