"""Benchmark MelSpectrogramTransformer against the naive librosa loop.

Generates MP3 files (44.1 kHz stereo, 1-3 minutes, made from the CC
recordings in ../shared/data/cc_music when present, else from synthetic
tones, plus noise) in a temporary directory, then times in one run:

* baseline: a sequential loop of ``librosa.load(path, sr=22050, mono=True,
  offset=30, duration=30)`` + ``librosa.feature.melspectrogram`` + ``log1p``;
* ``MelSpectrogramTransformer(n_jobs=1)`` and ``(n_jobs=-1)``;
* the per-file cache: a second ``transform`` with ``memory=`` set.

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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-files", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="6 files, 1 repeat")
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
