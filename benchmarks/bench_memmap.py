"""Memory of CNNTagger.fit streaming a float16 memmap, with and without DataLoader workers.

Writes two ``.npy`` files of float16 log-mels shaped (n, 1, 96, 646), a
small one (``--small-mb``, default 120 MiB) and a large one (``--large-mb``,
default 1,200 MiB), in ``--dir`` (default the system temp dir; deleted
afterwards). Then, each in a fresh child process that opens the file with
``np.load(mmap_mode="r")``, it runs ``CNNTagger.fit`` for one epoch (10 % of
the rows as the internal validation split, batch 32, a tiny network so that
the run measures the data path), with

- ``num_workers=0`` (the baseline of the same run);
- ``num_workers=2`` under each start method of ``--methods`` (default
  "fork,forkserver"; forkserver is Python's default on Linux from 3.14, spawn
  the default on macOS and Windows), set with
  ``multiprocessing.set_start_method`` in the child.

It reports the peak growth of the **anonymous memory of the process tree**
(sum of ``RssAnon`` from /proc/<pid>/status over the child and all its
descendants: workers, the forkserver), sampled every 10 ms, over its level
just before ``fit``. Pages of the memory-mapped file are not anonymous memory
(they are page cache); copies of the data are. What the workers cost whatever
the data (imports, copy-on-write pages) cancels out in the difference between
the two files, which must stay below 25 % of the difference in file size.

Usage::

    python benchmarks/bench_memmap.py            # 120 MiB and 1,200 MiB, a few minutes
    python benchmarks/bench_memmap.py --quick    # 12 MiB and 120 MiB
"""

import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PeakSampler, parser, write_noise_memmap  # noqa: E402

SHAPE = (1, 96, 646)
N_LABELS = 15
LIMIT = 0.25


def _children():
    """pid -> list of child pids, from /proc/*/stat."""
    tree = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _rss_anon_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_anon_kib(root=None):
    """Sum of RssAnon over ``root`` (default this process) and all its descendants."""
    root = os.getpid() if root is None else root
    tree, total, todo = _children(), 0, [root]
    while todo:
        pid = todo.pop()
        total += _rss_anon_kib(pid)
        todo.extend(tree.get(pid, ()))
    return total


def child(method, workers, x_path, y_path, batch_size):
    if method != "none":
        multiprocessing.set_start_method(method, force=True)
    X = np.load(x_path, mmap_mode="r")
    Y = np.load(y_path)
    import torch  # noqa: F401  (import before the baseline level)

    from sktags import CNNTagger

    tagger = CNNTagger(filters=(1, 1, 1, 1), hidden_units=4, max_epochs=1,
                       batch_size=batch_size, valid_size=0.1, device="cpu",
                       num_workers=workers, random_state=0)
    anon0 = tree_anon_kib()
    t0 = time.perf_counter()
    with PeakSampler(sample=tree_anon_kib, interval=0.01) as s:
        tagger.fit(X, Y)
    dt = time.perf_counter() - t0
    print(json.dumps({"growth_mib": (s.peak - anon0) / 1024, "seconds": dt,
                      "rows_per_s": len(X) / dt}))


def run_child(method, workers, x_path, y_path, batch_size):
    cmd = [sys.executable, __file__, "--child", method, "--workers", str(workers),
           "--x", x_path, "--y", y_path, "--batch-size", str(batch_size)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"child {method} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--small-mb", type=float, default=120)
    p.add_argument("--large-mb", type=float, default=1200)
    p.add_argument("--methods", default="fork,forkserver")
    p.add_argument("--dir", default=tempfile.gettempdir())
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--child", help="(internal)")
    p.add_argument("--x")
    p.add_argument("--y")
    args = p.parse_args(argv)
    if args.child:
        return child(args.child, args.workers, args.x, args.y, args.batch_size)
    if args.quick:
        args.small_mb, args.large_mb = 12, 120
    methods = [m for m in args.methods.split(",") if m]
    for m in methods:
        if m not in multiprocessing.get_all_start_methods():
            sys.exit(f"start method {m!r} is not available here")

    item = int(np.prod(SHAPE)) * 2
    sizes = {"small": int(args.small_mb * 2**20 // item),
             "large": int(args.large_mb * 2**20 // item)}
    free = shutil.disk_usage(args.dir).free
    need = (sizes["small"] + sizes["large"]) * item
    if free < 2 * need:
        sys.exit(f"not enough space in {args.dir}: {free / 2**30:.1f} GiB free")
    tmp = tempfile.mkdtemp(prefix="sktags_bench_memmap_", dir=args.dir)
    results, file_mib = {}, {}
    try:
        for name, n in sizes.items():
            x_path, y_path = os.path.join(tmp, f"X_{name}.npy"), os.path.join(tmp, f"Y_{name}.npy")
            t0 = time.perf_counter()
            write_noise_memmap(x_path, n, SHAPE)
            rng = np.random.default_rng(1)
            np.save(y_path, (rng.random((n, N_LABELS)) < 0.3).astype(np.uint8))
            file_mib[name] = os.path.getsize(x_path) / 2**20
            print(f"{name} memmap: {n} x {SHAPE} float16 = {file_mib[name]:,.0f} MiB "
                  f"(written in {time.perf_counter() - t0:.1f} s)", flush=True)
            for method, workers in [("none", 0)] + [(m, args.workers) for m in methods]:
                r = run_child(method, workers, x_path, y_path, args.batch_size)
                results[method, name] = r
                print(f"  workers={workers} {method:<11} growth {r['growth_mib']:>7,.0f} MiB "
                      f"{r['seconds']:>6.1f} s", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    d_file = file_mib["large"] - file_mib["small"]
    print(f"\nAnonymous memory growth of the process tree during CNNTagger.fit "
          f"(1 epoch, batch {args.batch_size}); files {file_mib['small']:,.0f} and "
          f"{file_mib['large']:,.0f} MiB (difference {d_file:,.0f} MiB)\n")
    print(f"{'workers':<8}{'start method':<14}{'small':>10}{'large':>10}{'large-small':>13}"
          f"{'/ file diff':>13}  verdict")
    failed = False
    for method in ["none"] + methods:
        small, large = results[method, "small"], results[method, "large"]
        diff = large["growth_mib"] - small["growth_mib"]
        share = diff / d_file
        workers = 0 if method == "none" else args.workers
        verdict = "ok" if share < LIMIT else f"FAIL (>= {LIMIT:.0%})"
        failed |= share >= LIMIT
        print(f"{workers:<8}{'-' if method == 'none' else method:<14}"
              f"{small['growth_mib']:>6,.0f} MiB{large['growth_mib']:>6,.0f} MiB"
              f"{diff:>9,.0f} MiB{share:>12.1%}  {verdict}")
    base = results["none", "large"]["growth_mib"]
    for method in methods:
        extra = results[method, "large"]["growth_mib"] - base
        print(f"fixed cost of {args.workers} {method} workers (large file, over workers=0): "
              f"{extra:,.0f} MiB")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
