"""Benchmark MelSpectrogramTransformer against the naive librosa loop.

Generates MP3 files (44.1 kHz stereo, 1-3 minutes, made from the CC
recordings in ../shared/data/cc_music when present, else from synthetic
tones, plus noise) in a temporary directory, then times in one run:

* baseline: a sequential loop of ``librosa.load(path, sr=22050, mono=True,
  offset=30, duration=30)`` + ``librosa.feature.melspectrogram`` + ``log1p``;
* ``MelSpectrogramTransformer(n_jobs=1)`` and ``(n_jobs=-1)``;
* the per-file cache: a second ``transform`` with ``memory=`` set;
* the cost of the cache's content key: hashing each file's bytes (SHA-256,
  what every cached ``transform`` does per file) against decoding it and
  computing its log-mel, per file, on the same files in the same run; on the
  real 30 s previews of ../shared/data/emotion_4q_dev when present (read in
  place), else on the generated MP3s.

"cores used" (CPU time of the process and its workers over wall time) shows
how much CPU each pipeline actually got: on a machine shared with other
sessions (Linux autogroup scheduling shares CPU per session, not per
process), n_jobs=-1 cannot get more than the session's share.

Each figure is the best of ``--repeat`` runs after one untimed warm-up
(librosa's first call and joblib's worker start-up are excluded; the cold
n_jobs=-1 time, worker start-up included, is printed too). Targets on a
2-core machine: >= 1.3x (n_jobs=1), >= 2.2x (n_jobs=-1), cache >= 20x.

Usage::

    python benchmarks/bench_mel.py            # 32 files
    python benchmarks/bench_mel.py --quick    # 6 files, 1 repeat (smoke run)
    python benchmarks/bench_mel.py --data-dir /tmp/bench_mel   # reuse the MP3s
    python benchmarks/bench_mel.py --hash-only   # only the content-key overhead
"""

import argparse
import glob
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

ROOT = Path(__file__).resolve().parents[1]
SHARED_AUDIO = Path(os.environ.get("SKTAGS_SHARED", ROOT.parent / "shared")) / "data" / "cc_music"
SHARED_PREVIEWS = SHARED_AUDIO.parent / "emotion_4q_dev"


def make_files(directory, n_files, seed=0):
    """Write ``n_files`` stereo 44.1 kHz MP3s of 60-180 s into ``directory``."""
    rng = np.random.default_rng(seed)
    sources = []
    for path in sorted(glob.glob(str(SHARED_AUDIO / "*.ogg"))):
        y, sr = sf.read(path, dtype="float32", always_2d=True)
        y = y.mean(axis=1)
        if y.shape[0] > 10 * sr:
            sources.append(soxr.resample(y, sr, 44100).astype(np.float32))
    if not sources:  # no shared data: chords of random tones
        t = np.arange(44100 * 20) / 44100
        for _ in range(4):
            freqs = rng.uniform(100, 2000, size=4)
            sources.append((0.2 * np.sin(2 * np.pi * freqs[:, None] * t).sum(0)).astype(np.float32))
    specs = [(k, int(rng.uniform(60, 180) * 44100), int(rng.integers(1, 200)),
              float(rng.uniform(0.6, 1.0)), int(rng.integers(2**31))) for k in range(n_files)]
    from joblib import Parallel, delayed

    return Parallel(n_jobs=-1)(
        delayed(_write_one)(directory, sources[k % len(sources)], *spec) for spec in specs
        for k in [spec[0]]
    )


def _write_one(directory, src, k, n, shift, gain, seed):
    rng = np.random.default_rng(seed)
    reps = -(-n // src.shape[0])
    left = np.tile(src, reps)[:n]
    right = np.roll(left, shift) * np.float32(gain)
    stereo = np.stack([left, right], axis=1)
    stereo += np.float32(0.01) * rng.standard_normal(stereo.shape, dtype=np.float32)
    path = os.path.join(directory, f"clip_{k:03d}.mp3")
    sf.write(path, np.clip(stereo, -1, 1), 44100, format="MP3")
    return path


def baseline(paths):
    import librosa

    out = []
    for p in paths:
        y, _ = librosa.load(p, sr=22050, mono=True, offset=30.0, duration=30.0)
        M = librosa.feature.melspectrogram(y=y, sr=22050, n_fft=1024, hop_length=1024, n_mels=96)
        out.append(np.log1p(100 * M))
    return out


def cpu_seconds():
    """CPU time of this process and its live children (joblib workers), Linux."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    total = r.ru_utime + r.ru_stime
    me, tick = str(os.getpid()), os.sysconf("SC_CLK_TCK")
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:  # ppid
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def best_time(fn, repeat):
    """Best and median wall time of ``repeat`` calls, cores used, last result.

    "Cores used" is CPU time (this process and its workers) over wall time,
    median over the runs: on a shared machine it shows how much CPU the
    pipeline actually got.
    """
    times, cores = [], []
    result = None
    for _ in range(repeat):
        c0, t0 = cpu_seconds(), time.perf_counter()
        result = fn()
        wall = time.perf_counter() - t0
        times.append(wall)
        cores.append((cpu_seconds() - c0) / wall)
    return (min(times), float(np.median(times)), float(np.median(cores))), result


def hash_overhead(paths, repeat):
    """Per-file time of the cache's content key against decode + log-mel.

    Both are timed file by file on the same files (page cache warm, after one
    untimed pass), best of ``repeat``; decode + log-mel is what a worker does
    per file (load_window + log_mel, the paper's front end). Returns a dict
    of per-file medians.
    """
    from sktags.features._audio_io import load_window
    from sktags.features._cache import content_digest
    from sktags.features._logmel import hann_window, log_mel, mel_basis

    kw = dict(basis=mel_basis(22050, 1024, 96), window=hann_window(1024), hop_length=1024,
              compression="log1p")

    def compute(p):  # what a worker does per file, without joblib's per-call overhead
        return log_mel(load_window(p, sr=22050, offset=30.0, duration=30.0), **kw)

    compute(paths[0])
    hash_s, compute_s, sizes = [], [], []
    for p in paths:
        content_digest(p)  # warm the page cache
        best_h = best_c = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            content_digest(p)
            best_h = min(best_h, time.perf_counter() - t0)
            t0 = time.perf_counter()
            compute(p)
            best_c = min(best_c, time.perf_counter() - t0)
        hash_s.append(best_h)
        compute_s.append(best_c)
        sizes.append(os.path.getsize(p))
    hash_s, compute_s = np.array(hash_s), np.array(compute_s)
    return {
        "n": len(paths),
        "size_kb": float(np.median(sizes)) / 1e3,
        "hash_ms": float(np.median(hash_s)) * 1e3,
        "hash_max_ms": float(hash_s.max()) * 1e3,
        "compute_ms": float(np.median(compute_s)) * 1e3,
        "ratio": float(np.median(hash_s / compute_s)),
        "mb_per_s": float(np.sum(sizes) / np.sum(hash_s)) / 1e6,
    }


def print_hash_overhead(paths, repeat, label):
    h = hash_overhead(paths, repeat)
    print(
        f"content key (SHA-256 of the file) on {h['n']} {label} (median {h['size_kb']:.0f} kB): "
        f"{h['hash_ms']:.3f} ms per file (max {h['hash_max_ms']:.3f} ms, {h['mb_per_s']:.0f} MB/s) "
        f"vs decode + log-mel {h['compute_ms']:.1f} ms per file: "
        f"overhead {100 * h['ratio']:.2f}% (ratio {h['ratio']:.4f})"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-files", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="6 files, 1 repeat")
    parser.add_argument(
        "--hash-only",
        action="store_true",
        help="only time the cache's content key against decode + log-mel",
    )
    parser.add_argument(
        "--data-dir",
        help="keep the generated MP3s here and reuse them in later runs "
        "(encoding them takes minutes); default: a temporary directory",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.n_files, args.repeat = 6, 1

    from joblib import cpu_count

    from sktags.features import MelSpectrogramTransformer

    previews = sorted(glob.glob(str(SHARED_PREVIEWS / "Q*" / "*.mp3")))
    if previews:
        step = max(1, len(previews) // (6 if args.quick else 60))
        print_hash_overhead(previews[::step], args.repeat, "real 30 s MP3 previews")
    if args.hash_only and previews:
        return

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        data_dir = args.data_dir or tmp
        os.makedirs(data_dir, exist_ok=True)
        paths = sorted(glob.glob(os.path.join(data_dir, "clip_*.mp3")))[: args.n_files]
        if len(paths) < args.n_files:
            paths = make_files(data_dir, args.n_files)
        minutes = sum(sf.info(p).duration for p in paths) / 60
        print(
            f"{len(paths)} MP3 files, 44.1 kHz stereo, {minutes:.1f} min in all "
            f"(ready in {time.perf_counter() - t0:.1f} s); {cpu_count()} CPUs; "
            f"best of {args.repeat}"
        )
        n = len(paths)
        if args.hash_only:
            print_hash_overhead(paths, args.repeat, "generated 1-3 min MP3s")
            return

        baseline(paths[:1])  # warm-up: librosa's lazy imports and first calls
        t_base, ref = best_time(lambda: baseline(paths), args.repeat)

        mel1 = MelSpectrogramTransformer(n_jobs=1)
        mel1.transform(paths[:1])
        t_one, F = best_time(lambda: mel1.transform(paths), args.repeat)
        err = max(float(np.abs(F[i, 0] - ref[i]).max()) for i in range(n))

        melp = MelSpectrogramTransformer(n_jobs=-1)
        t0 = time.perf_counter()
        melp.transform(paths[:4])  # cold: starts the worker processes
        t_cold = time.perf_counter() - t0
        t_par, Fp = best_time(lambda: melp.transform(paths), args.repeat)
        assert np.array_equal(F, Fp)

        cache_dir = os.path.join(tmp, "cache")
        melc = MelSpectrogramTransformer(n_jobs=-1, memory=cache_dir)
        t0 = time.perf_counter()
        melc.transform(paths)
        t_fill = time.perf_counter() - t0
        t_hit, Fc = best_time(lambda: melc.transform(paths), args.repeat)
        assert np.array_equal(F, Fc)
        print_hash_overhead(paths, args.repeat, "generated 1-3 min MP3s")

    rows = [
        ("baseline: librosa.load + melspectrogram, sequential", t_base),
        ("MelSpectrogramTransformer(n_jobs=1)", t_one),
        ("MelSpectrogramTransformer(n_jobs=-1)", t_par),
        ("  second pass with memory= (cache hits)", t_hit),
    ]
    print(
        f"{'pipeline':<53} {'files/s':>8} {'ratio':>7} | {'median':>7} {'ratio':>7} | "
        f"{'cores used':>10}"
    )
    for name, (best, med, used) in rows:
        print(
            f"{name:<53} {n / best:8.1f} {t_base[0] / best:6.2f}x | "
            f"{n / med:7.1f} {t_base[1] / med:6.2f}x | {used:10.2f}"
        )
    print(f"first pass with memory= (computes and writes the cache): {n / t_fill:.1f} files/s")
    print(f"cold n_jobs=-1 call on 4 files, worker start-up included: {t_cold:.2f} s")
    print(f"max |transformer - baseline| on log1p features: {err:.2e}")
    print(
        f"targets (best of {args.repeat}): n_jobs=1 >= 1.3x: {t_base[0] / t_one[0]:.2f}x; "
        f"n_jobs=-1 >= 2.2x: {t_base[0] / t_par[0]:.2f}x; cache >= 20x: {t_base[0] / t_hit[0]:.1f}x"
    )

if __name__ == "__main__":
    main()
