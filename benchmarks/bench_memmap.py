"""Peak memory of CNNTagger.fit streaming from a float16 memmap of several GB.

Writes a ``.npy`` of ``--gb`` GB of float16 log-mels shaped (n, 1, 96, 646)
(default 3.5 GB, in ``--dir``, default the system temp dir; deleted
afterwards), then, each in a fresh child process that opens it with
``np.load(mmap_mode="r")``:

- baseline: ``np.array(memmap)``, the in-memory copy that streaming avoids;
- sktags: ``CNNTagger.fit`` for one epoch over all rows (10 % of them as the
  internal validation split), batch 32, with a tiny network
  (``filters=(1, 1, 1, 1)``, ``hidden_units=4``) so that the run measures
  the data path, not the convolutions.  Its activations and the torch
  runtime are a fixed cost that does not grow with the file.

For each it reports the peak growth, over the level just before the call, of

- ``RssAnon``: anonymous memory the process owns (sampled every 5 ms), i.e.
  copies of the data;
- ``VmHWM``: the kernel's high-water mark of the whole resident set, which
  also counts pages of the memory-mapped file while they are resident (the
  kernel can drop those at any time: they are page cache, not copies).

Usage::

    python benchmarks/bench_memmap.py            # 3.5 GB file, a few minutes
    python benchmarks/bench_memmap.py --quick    # 0.2 GB
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PeakSampler, parser, proc_status_kib  # noqa: E402

SHAPE = (1, 96, 646)
N_LABELS = 15


def write_memmap(path, n, chunk=1024):
    """A float16 .npy of (n, 1, 96, 646) noise, written chunk by chunk."""
    rng = np.random.default_rng(0)
    mm = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=(n,) + SHAPE)
    block = rng.standard_normal((chunk,) + SHAPE, dtype=np.float32).astype(np.float16)
    for i in range(0, n, chunk):
        j = min(n, i + chunk)
        mm[i:j] = block[: j - i] + np.float16(i % 7)
    mm.flush()
    del mm


def child(mode, x_path, y_path, batch_size):
    X = np.load(x_path, mmap_mode="r")
    Y = np.load(y_path)
    if mode == "fit":
        import torch  # noqa: F401  (import before the baseline level)

        from sktags import CNNTagger

        tagger = CNNTagger(filters=(1, 1, 1, 1), hidden_units=4, max_epochs=1,
                           batch_size=batch_size, valid_size=0.1, device="cpu",
                           random_state=0)
    anon0, rss0 = proc_status_kib("RssAnon"), proc_status_kib("VmRSS")
    t0 = time.perf_counter()
    with PeakSampler("RssAnon") as s:
        if mode == "copy":
            Xc = np.array(X)
            assert Xc.nbytes == X.nbytes
        else:
            tagger.fit(X, Y)
    dt = time.perf_counter() - t0
    hwm = proc_status_kib("VmHWM")
    print(json.dumps({
        "mode": mode,
        "anon_growth_mb": (s.peak - anon0) / 1024,
        "hwm_growth_mb": (hwm - rss0) / 1024,
        "seconds": dt,
        "rows_per_s": len(X) / dt,
    }))


def run_child(mode, x_path, y_path, batch_size):
    cmd = [sys.executable, __file__, "--child", mode, "--x", x_path, "--y", y_path,
           "--batch-size", str(batch_size)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"child {mode} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--gb", type=float, default=3.5, help="file size in GB")
    p.add_argument("--dir", default=tempfile.gettempdir())
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--child", help="(internal)")
    p.add_argument("--x")
    p.add_argument("--y")
    args = p.parse_args(argv)
    if args.child:
        return child(args.child, args.x, args.y, args.batch_size)
    if args.quick:
        args.gb = 0.2

    item = int(np.prod(SHAPE)) * 2
    n = int(args.gb * 1e9 // item)
    free = shutil.disk_usage(args.dir).free
    if free < 2 * n * item:
        sys.exit(f"not enough space in {args.dir}: {free / 1e9:.1f} GB free")
    tmp = tempfile.mkdtemp(prefix="sktags_bench_memmap_", dir=args.dir)
    try:
        x_path, y_path = os.path.join(tmp, "X.npy"), os.path.join(tmp, "Y.npy")
        t0 = time.perf_counter()
        write_memmap(x_path, n)
        rng = np.random.default_rng(1)
        np.save(y_path, (rng.random((n, N_LABELS)) < 0.3).astype(np.uint8))
        size_mb = os.path.getsize(x_path) / 2**20
        print(f"memmap: {n} x {SHAPE} float16 = {size_mb:,.0f} MiB "
              f"(written in {time.perf_counter() - t0:.0f} s)")

        base = run_child("copy", x_path, y_path, args.batch_size)
        fit = run_child("fit", x_path, y_path, args.batch_size)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\n{'':<32}{'RssAnon peak':>14}{'VmHWM peak':>12}{'time':>9}")
    for name, r in (("baseline np.array(memmap)", base),
                    (f"CNNTagger.fit, 1 epoch, b={args.batch_size}", fit)):
        print(f"{name:<32}{r['anon_growth_mb']:>10,.0f} MiB{r['hwm_growth_mb']:>8,.0f} MiB"
              f"{r['seconds']:>8.1f}s")
    print(f"\nfile size {size_mb:,.0f} MiB; CNNTagger.fit anonymous growth = "
          f"{fit['anon_growth_mb'] / size_mb:.1%} of the file, "
          f"{fit['anon_growth_mb'] / base['anon_growth_mb']:.1%} of the baseline copy; "
          f"whole-RSS growth = {fit['hwm_growth_mb'] / size_mb:.1%} of the file")
    print(f"fit streamed {fit['rows_per_s']:,.0f} rows/s")


if __name__ == "__main__":
    main()
