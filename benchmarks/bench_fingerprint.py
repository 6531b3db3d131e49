"""Cost of the checkpoint fingerprint (a hash of all the data) on a multi-GB memmap.

Writes a float16 memmap of synthetic spectrograms in a temporary folder (or
``--dir``), then times, on the same file in the same run:

- reading it once chunk by chunk into memory (what ``np.load`` costs);
- the NaN / inf scan that ``fit`` runs on X anyway;
- the checkpoint fingerprint (SHA-256 over every byte, chunk by chunk);
- BLAKE2b over the same chunks, for comparison.

The file is deleted at the end. Usage::

    python benchmarks/bench_fingerprint.py --gb 2
"""

import argparse
import hashlib
import os
import tempfile
import time

import numpy as np

from sktags.models._checkpoint import fingerprint, hash_array
from sktags.models._inputs import release_pages, spectrogram_input


def drop_cache(path):
    """Ask the kernel to drop the file's pages, so that each pass reads the disk (best effort)."""
    if hasattr(os, "posix_fadvise"):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def _chunks(X, chunk_bytes=64 * 2**20):
    step = max(1, chunk_bytes // (X.itemsize * int(np.prod(X.shape[1:]))))
    for start in range(0, X.shape[0], step):
        yield X[start:start + step]
        release_pages(X)


def read_once(X):
    """Copy every chunk into memory: what np.load without mmap_mode costs."""
    for chunk in _chunks(X):
        np.array(chunk)


def nan_scan(X):
    """The finiteness scan that fit runs on X anyway (check_spectrograms)."""
    for chunk in _chunks(X):
        np.isfinite(chunk).all()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=2.0, help="size of the memmap (GB)")
    parser.add_argument("--dir", default=None, help="folder for the temporary memmap")
    args = parser.parse_args()
    n_mels, n_frames = 96, 646
    row_bytes = n_mels * n_frames * 2
    n = int(args.gb * 1e9 // row_bytes)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = os.path.join(tmp, "X.npy")
        X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16,
                                      shape=(n, 1, n_mels, n_frames))
        rng = np.random.default_rng(0)
        block = rng.normal(size=(256, 1, n_mels, n_frames)).astype(np.float16)
        for start in range(0, n, 256):
            stop = min(n, start + 256)
            X[start:stop] = block[:stop - start]
        X.flush()
        del X
        size_mb = os.path.getsize(path) / 1e6
        print(f"memmap: {n} clips of 1 x {n_mels} x {n_frames} float16, {size_mb:.0f} MB")
        Y = np.zeros((n, 15), np.uint8)
        results = {}
        for name, run in [
            ("read (copy, as np.load)", read_once),
            ("NaN scan (as in fit)", nan_scan),
            ("fingerprint (sha256)", lambda X: fingerprint({}, spectrogram_input(X), Y)),
            ("blake2b over the same chunks", lambda X: hash_array(hashlib.blake2b(), X)),
        ]:
            for cache in ("cold", "warm"):
                if cache == "cold":
                    drop_cache(path)
                X = np.load(path, mmap_mode="r")
                t0 = time.perf_counter()
                run(X)
                seconds = time.perf_counter() - t0
                results[name, cache] = seconds
                print(f"{name:>30} {cache}: {seconds:6.2f} s  {size_mb / seconds:7.0f} MB/s")
                del X
        for cache in ("cold", "warm"):
            fp = results["fingerprint (sha256)", cache]
            print(f"fingerprint / read ({cache} cache): "
                  f"{fp / results['read (copy, as np.load)', cache]:.2f}x; "
                  f"fingerprint / NaN scan: {fp / results['NaN scan (as in fit)', cache]:.2f}x")


if __name__ == "__main__":
    main()
