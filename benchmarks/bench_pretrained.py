"""Throughput of MusicnnEmbedding on 30 s previews, against its floor (decoding + front end).

In one run, on the same clips (the first ``--n-clips`` dev previews of
``../shared/data/emotion_4q_dev``, read in place; the bundled recordings cut
to 30 s when it is absent), with no cache:

- ``front end``: ``musicnn_frontend(duration=30).transform`` (decoding,
  resampling to 16 kHz and the mel), the floor of any embedding;
- ``embedding``: ``MusicnnEmbedding(duration=30).transform`` (the same,
  plus ten 3 s patches per clip through the network);

each with ``n_jobs=1`` and ``n_jobs=-1`` (decoding workers; the network
runs in the main process with torch's threads), and the embedding per patch
batch size. It prints clips per second and the ratio embedding / floor.
``--device cuda`` runs the network on a GPU.

Usage::

    python benchmarks/bench_pretrained.py            # 24 clips
    python benchmarks/bench_pretrained.py --quick    # 4 clips
"""

import csv
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, SHARED, parser  # noqa: E402


def clips(n):
    """Paths of n 30 s previews (dev clips), or 30 s waveforms of the bundled recordings."""
    root = SHARED / "data" / "emotion_4q_dev"
    if (root / "clips.csv").is_file():
        with open(root / "clips.csv", newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        return [str(root / r["path"]) for r in rows[:n]], "emotion_4q_dev previews"
    import soundfile as sf
    import soxr

    out = []
    for path in sorted((ROOT / "sktags" / "demo" / "audio").glob("*.ogg")):
        y, sr = sf.read(str(path), dtype="float32")
        y = soxr.resample(y, sr, 16000)
        out.append(np.resize(y, 30 * 16000))  # repeated to 30 s where shorter
    return [out[i % len(out)] for i in range(n)], "bundled recordings (30 s, 16 kHz)"


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(argv=None):
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--n-clips", type=int, default=24)
    p.add_argument("--device", default="cpu")
    p.add_argument("--batch-sizes", default="16,64,256")
    args = p.parse_args(argv)
    import torch

    from sktags.pretrained import MusicnnEmbedding, musicnn_frontend

    n = 4 if args.quick else args.n_clips
    X, source = clips(n)
    sizes = [int(b) for b in args.batch_sizes.split(",")]
    print(f"{n} clips ({source}); torch {torch.__version__}, {torch.get_num_threads()} "
          f"threads; network on {args.device}", flush=True)
    # warm up: import, weights, first allocation
    MusicnnEmbedding(duration=30.0, device=args.device).transform(X[:1])

    rows = []
    for n_jobs in (1, -1):
        floor = timed(lambda: musicnn_frontend(duration=30.0, n_jobs=n_jobs).transform(X))
        rows.append((f"front end (floor), n_jobs={n_jobs}", floor, None))
        print(f"  {rows[-1][0]:40s} {n / floor:7.2f} clips/s", flush=True)
        for b in sizes if n_jobs == 1 else [64]:
            emb = MusicnnEmbedding(duration=30.0, n_jobs=n_jobs, batch_size=b,
                                   device=args.device)
            t = timed(lambda: emb.transform(X))
            rows.append((f"embedding, n_jobs={n_jobs}, batch_size={b}", t, floor))
            print(f"  {rows[-1][0]:40s} {n / t:7.2f} clips/s  ({t / floor:5.1f} x the floor; "
                  f"{1e3 * t / (10 * n):.0f} ms per patch)", flush=True)


if __name__ == "__main__":
    main()
