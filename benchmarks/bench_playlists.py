"""Labelling tracks from playlists: vectorised sktags vs a pure-Python loop.

Synthetic playlist tables shaped like Deezer's (about 40 tracks per playlist,
a few above 100, popular tracks shared by many playlists, titles drawn from
context keywords and other words). Three figures:

1. ``label_tracks_from_playlists`` on all the membership rows (default 10
   million), one run, wall time and peak anonymous memory;
2. a naive dictionary-and-loop implementation, run on a random subsample of
   the playlists and *extrapolated linearly* to all rows (running it on 10
   million rows would take minutes); its result is checked against sktags on
   that subsample;
3. ``match_keywords`` (tokenise once, set intersection) against one compiled
   regular expression per keyword, on the distinct titles.

Usage::

    python benchmarks/bench_playlists.py            # 10 million rows
    python benchmarks/bench_playlists.py --quick    # 200,000 rows, seconds
"""

import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PeakSampler, parser  # noqa: E402

from sktags import CONTEXTS  # noqa: E402
from sktags.datasets import label_tracks_from_playlists, match_keywords  # noqa: E402

OTHER_WORDS = (
    "rock pop mix my best of hits 2019 2020 love songs playlist music new old "
    "favorites top chanson jazz rap electro french indie soirée musique good vibes "
    "for the week mood tunes classics radio slow fast deep house techno"
).split()


def make_tables(n_rows, seed=0):
    rng = np.random.default_rng(seed)
    target = n_rows
    n_rows = int(n_rows * 1.3)  # oversample: repeated pairs are dropped below
    n_playlists = max(n_rows // 40, 10)
    sizes = np.clip(rng.lognormal(3.3, 0.8, n_playlists).astype(np.int64), 1, 400)
    sizes = np.maximum(1, (sizes * (n_rows / sizes.sum())).astype(np.int64))
    sizes[-1] += n_rows - sizes.sum()
    if sizes[-1] < 1:  # rounding pushed the last one below 1: spread it
        sizes[-1] = 1
    # Sparse ids, like Deezer's (playlist ids up to ~1e10, track ids ~1e9).
    pids = rng.choice(10**10, size=n_playlists, replace=False)
    vocab = np.array(list(CONTEXTS) + OTHER_WORDS, dtype=object)
    p_word = np.r_[np.full(len(CONTEXTS), 0.5 / len(CONTEXTS)), np.full(len(OTHER_WORDS), 0.5 / len(OTHER_WORDS))]
    n_words = rng.integers(1, 4, n_playlists)
    words = rng.choice(vocab, size=(n_playlists, 3), p=p_word)
    caps = rng.random(n_playlists) < 0.3
    titles = np.empty(n_playlists, dtype=object)
    for i in range(n_playlists):
        t = " ".join(words[i, : n_words[i]])
        titles[i] = t.title() if caps[i] else t
    n_tracks = max(n_rows // 5, 100)
    m_pl = np.repeat(pids, sizes)
    # Heavy-tailed popularity: a few tracks appear in very many playlists.
    idx = (rng.pareto(0.8, m_pl.size) * 50).astype(np.int64) % n_tracks
    track_ids = rng.choice(10**9, size=n_tracks, replace=False)
    artist_ids = rng.choice(10**8, size=n_tracks // 8 + 1, replace=False)
    album_ids = rng.choice(10**9, size=n_tracks // 3 + 1, replace=False)
    # Deezer playlists hold a track at most once: drop repeated pairs.
    _, first = np.unique(np.repeat(np.arange(n_playlists), sizes) * n_tracks + idx,
                         return_index=True)
    first.sort()
    first = first[:target]
    m_pl, idx = m_pl[first], idx[first]
    present = np.isin(pids, m_pl)
    pids, titles = pids[present], titles[present]
    m_tr = track_ids[idx]
    m_ar = artist_ids[idx // 8]
    m_al = album_ids[idx // 3]
    playlists = {"playlist_id": pids, "title": titles}
    memberships = {"playlist_id": m_pl, "track_id": m_tr, "artist_id": m_ar, "album_id": m_al}
    return playlists, memberships


def naive_labels(playlists, memberships, keywords, max_tracks=100, max_share=0.25, min_playlists=3):
    """The obvious pure-Python version: dictionaries and loops."""
    word = re.compile(r"[^\W_]+")
    title_of = dict(zip(playlists["playlist_id"].tolist(), playlists["title"].tolist()))
    content = defaultdict(dict)
    cols = [memberships[c].tolist() for c in ("playlist_id", "track_id", "artist_id", "album_id")]
    for p, t, a, b in zip(*cols):
        content[p].setdefault(t, (a, b))
    counts = defaultdict(Counter)
    for p, tracks in content.items():
        title = title_of.get(p)
        if title is None:
            continue
        found = set(word.findall(title.casefold())).intersection(keywords)
        if not found:
            continue
        n = len(tracks)
        if n > max_tracks:
            continue
        if max(Counter(a for a, _ in tracks.values()).values()) / n > max_share:
            continue
        if max(Counter(b for _, b in tracks.values()).values()) / n > max_share:
            continue
        for t in tracks:
            for k in found:
                counts[t][k] += 1
    track_ids = np.array(sorted(counts), dtype=np.int64)
    C = np.array([[counts[t][k] for k in keywords] for t in track_ids], dtype=np.int64)
    return track_ids, C.reshape(len(track_ids), len(keywords))


def regex_per_keyword(titles, keywords):
    """Baseline matcher: one look-around regex per keyword over the distinct titles."""
    uniq = {}
    inverse = np.array([uniq.setdefault(t, len(uniq)) for t in titles])
    pats = [re.compile(r"(?<![^\W_])" + re.escape(k) + r"(?![^\W_])") for k in keywords]
    out = np.zeros((len(uniq), len(keywords)), dtype=bool)
    for u, t in enumerate(uniq):
        t = t.casefold()
        for j, p in enumerate(pats):
            out[u, j] = p.search(t) is not None
    return out[inverse]


def main():
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=10_000_000, help="membership rows")
    p.add_argument("--naive-fraction", type=float, default=0.01,
                   help="share of the playlists the naive loop runs on")
    args = p.parse_args()
    n_rows = 200_000 if args.quick else args.rows
    frac = 0.05 if args.quick else args.naive_fraction

    match_keywords(["warm up"])  # builds the cached Unicode word regex once (~0.1 s)
    t0 = time.perf_counter()
    playlists, memberships = make_tables(n_rows)
    n_rows = memberships["track_id"].size
    print(f"data: {n_rows:,} membership rows, {len(playlists['playlist_id']):,} playlists "
          f"({time.perf_counter() - t0:.1f} s to generate)")

    with PeakSampler("RssAnon", interval=0.02) as mem:
        base = mem.peak
        t0, c0 = time.perf_counter(), time.process_time()
        out = label_tracks_from_playlists(playlists, memberships)
        t_fast, c_fast = time.perf_counter() - t0, time.process_time() - c0
    kept = out.playlists.kept
    # The same with 1% of the rows repeated (the path with a stable argsort).
    rng = np.random.default_rng(2)
    extra = rng.integers(0, n_rows, n_rows // 100)
    dup_m = {k: np.r_[v, v[extra]] for k, v in memberships.items()}
    c0 = time.process_time()
    dup_out = label_tracks_from_playlists(playlists, dup_m)
    c_dup = time.process_time() - c0
    assert np.array_equal(dup_out.counts, out.counts)
    del dup_m, dup_out
    print(f"sktags label_tracks_from_playlists: {t_fast:.2f} s wall, {c_fast:.2f} s CPU "
          f"for {n_rows:,} rows ({n_rows / c_fast / 1e6:.2f} M rows per CPU second), "
          f"peak extra memory {(mem.peak - base) / 1024:.0f} MiB")
    print(f"  with 1% of the rows repeated: {c_dup:.2f} s CPU (same counts)")
    print(f"  {kept.size:,} candidate playlists, {int(kept.sum()):,} kept, "
          f"{out.track_ids.size:,} tracks, {int(out.labels.any(axis=1).sum()):,} with a label")

    # Naive loop on a subsample of playlists, extrapolated.
    rng = np.random.default_rng(1)
    pids = playlists["playlist_id"]
    sub_ids = np.sort(rng.choice(pids, size=max(int(frac * pids.size), 1), replace=False))
    sub_rows = np.isin(memberships["playlist_id"], sub_ids)
    order = np.argsort(pids)
    sub_pl = {"playlist_id": sub_ids,
              "title": playlists["title"][order][np.searchsorted(pids[order], sub_ids)]}
    sub_m = {k: v[sub_rows] for k, v in memberships.items()}
    n_sub = int(sub_rows.sum())
    t0, c0 = time.perf_counter(), time.process_time()
    n_ids, n_counts = naive_labels(sub_pl, sub_m, list(CONTEXTS))
    t_naive_sub, c_naive_sub = time.perf_counter() - t0, time.process_time() - c0
    check = label_tracks_from_playlists(sub_pl, sub_m)
    assert np.array_equal(check.track_ids, n_ids) and np.array_equal(check.counts, n_counts), \
        "naive and sktags disagree on the subsample"
    t_naive = t_naive_sub * n_rows / n_sub
    c_naive = c_naive_sub * n_rows / n_sub
    print(f"naive dict loop: {t_naive_sub:.2f} s wall, {c_naive_sub:.2f} s CPU on a "
          f"{n_sub:,}-row subsample ({frac:.0%} of the playlists; same result as sktags), "
          f"extrapolated linearly to {n_rows:,} rows: {t_naive:.1f} s wall, {c_naive:.1f} s CPU")
    print(f"speed-up of sktags over the naive loop (extrapolated): {t_naive / t_fast:.1f}x wall, "
          f"{c_naive / c_fast:.1f}x CPU")

    # Keyword matching alone.
    titles = playlists["title"]
    c0 = time.process_time()
    fast_m = match_keywords(titles)
    t_match = time.process_time() - c0
    c0 = time.process_time()
    slow_m = regex_per_keyword(titles, list(CONTEXTS))
    t_regex = time.process_time() - c0
    assert np.array_equal(fast_m, slow_m)
    print(f"match_keywords on {titles.size:,} titles ({len(set(titles)):,} distinct): "
          f"{t_match * 1e3:.0f} ms CPU; one regex per keyword: "
          f"{t_regex * 1e3:.0f} ms CPU; ratio {t_regex / t_match:.1f}x")


if __name__ == "__main__":
    main()
