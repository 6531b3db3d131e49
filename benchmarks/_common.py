"""Small helpers shared by the benchmarks (not part of the package).

Run the benchmarks from the repository root, e.g.
``python benchmarks/bench_training.py --quick``.
"""

import argparse
import os
import statistics
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SKTAGS_SHARED", ROOT.parent / "shared"))


def parser(description):
    """An argument parser with the common ``--quick`` flag."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="smoke run in seconds")
    return p


def median_time(fn, repeat, warmup=1):
    """Median wall time of ``fn()`` over ``repeat`` calls, after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def proc_status_kib(field, pid="self"):
    """A ``kB`` field of /proc/<pid>/status (VmRSS, VmHWM, RssAnon, ...)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


class PeakSampler:
    """Sample a memory figure in a thread and keep its maximum.

    The kernel keeps a high-water mark only for the whole RSS (VmHWM), which
    also counts the file-backed pages of a memory map; this records the peak of
    another field of /proc/self/status, e.g. ``RssAnon`` (memory the process
    owns), or of any ``sample()`` returning KiB (e.g. summed over child
    processes).
    """

    def __init__(self, field="RssAnon", interval=0.005, sample=None):
        self.sample = sample if sample is not None else (lambda: proc_status_kib(field))
        self.interval = interval
        self.peak = self.sample()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.sample())
            time.sleep(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.sample())


def write_noise_memmap(path, n, shape=(1, 96, 646), chunk=256, distinct_rows=False):
    """A float16 .npy of (n, *shape) noise, written chunk by chunk (seconds per GB).

    With ``distinct_rows`` the first value of each row is its index modulo
    2048, so that no two nearby rows are equal.
    """
    import numpy as np

    rng = np.random.default_rng(0)
    mm = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=(n, *shape))
    block = rng.standard_normal((chunk, *shape), dtype=np.float32).astype(np.float16)
    for i in range(0, n, chunk):
        j = min(n, i + chunk)
        mm[i:j] = block[: j - i]
        if distinct_rows:
            mm[i:j].reshape(j - i, -1)[:, 0] = np.arange(i, j) % 2048
    mm.flush()
    del mm


def matmul_flops(n=4096, repeat=5):
    """This CPU's fp32 FLOP/s for a large ``torch.matmul`` (``2 n**3`` per call)."""
    import torch

    a = torch.randn(n, n)
    b = torch.randn(n, n)
    t = median_time(lambda: torch.matmul(a, b), repeat=repeat, warmup=1)
    return 2.0 * n**3 / t
