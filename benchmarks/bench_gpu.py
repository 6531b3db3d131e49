"""Training throughput of the paper's network on a CUDA GPU, from a float16 memmap.

Writes a float16 ``.npy`` of ``--n`` synthetic log-mel clips (default 32,768
clips of 96 x 646, 4.1 GB) in ``--dir`` (default the system temp dir; deleted
afterwards), chunk by chunk, then measures on the GPU:

1. **compute only**: training steps of the paper's network on one batch that
   stays on the GPU (the ceiling: no data loading at all);
2. **loader only**: one pass of the library's DataLoader (shuffled batches,
   ``--workers`` worker processes, pinned memory), no GPU work;
3. **CNNTagger.fit**, one epoch over the whole memmap (``valid_size=None``):
   the epoch time from ``net_.history``, samples/s, the share of the epoch
   the training loop spent blocked waiting for the next batch, and the GPU's
   idle share estimated as ``1 - compute-only time / epoch time``;
4. the recipe of crops (``module="short_chunk"``, ``crop_frames=128``), one
   epoch, when this version of sktags has those parameters.

Target: one epoch of the paper's network in <= 20 s on an H100/H200-class GPU.

Exit status: 0 when measured; **2 when no CUDA GPU is available** (one line on
stderr, nothing written).

Usage::

    python benchmarks/bench_gpu.py                 # 32,768 clips, a few minutes
    python benchmarks/bench_gpu.py --quick         # 2,048 clips
    python benchmarks/bench_gpu.py --workers 8 --batch-size 32 --precision bfloat16
"""

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import parser, write_noise_memmap  # noqa: E402

SHAPE = (1, 96, 646)
N_LABELS = 15


class TimedIterable:
    """Wraps a loader and adds up the time spent waiting for each batch."""

    def __init__(self, inner, clock):
        self.inner, self.clock = inner, clock

    def __len__(self):
        return len(self.inner)

    def __iter__(self):
        it = iter(self.inner)
        while True:
            t0 = time.perf_counter()
            try:
                batch = next(it)
            except StopIteration:
                return
            self.clock["wait"] += time.perf_counter() - t0
            self.clock["batches"] += 1
            yield batch


def compute_only(torch, batch_size, steps, precision, device):
    from sktags.losses import WeightedBCE
    from sktags.models import Ibrahim2020CNN

    model = Ibrahim2020CNN(*SHAPE[1:], N_LABELS).to(device).to(memory_format=torch.channels_last)
    opt = torch.optim.Adadelta(model.parameters(), lr=0.1, rho=0.95, eps=1e-8)
    loss_fn = WeightedBCE()
    x = torch.randn(batch_size, *SHAPE, device=device).contiguous(
        memory_format=torch.channels_last)
    y = (torch.rand(batch_size, N_LABELS, device=device) < 0.3).float()
    w = torch.ones_like(y)
    dtype = {"bfloat16": torch.bfloat16, "float16": torch.float16}.get(precision)
    scaler = torch.amp.GradScaler("cuda", enabled=precision == "float16")

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=dtype or torch.float32, enabled=dtype is not None):
            out = model(x)
        loss = loss_fn(out.float(), y, w)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    for _ in range(10):
        step()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    return steps * batch_size / (time.perf_counter() - t0)


def loader_only(X, Y, batch_size, workers):
    from sktags.models._data import EpochBatchSampler, WholeDataset, make_loader
    from sktags.models._inputs import spectrogram_input

    W = np.ones_like(Y)
    ds = WholeDataset(spectrogram_input(X), np.arange(len(X)), Y, W)
    loader = make_loader(ds, EpochBatchSampler(len(X), batch_size, 0, lambda: 0),
                         num_workers=workers, pin_memory=True)
    t0 = time.perf_counter()
    n = sum(xb.shape[0] for xb, _ in loader)
    return n / (time.perf_counter() - t0)


def fit_epoch(CNNTagger, X, Y, params):
    from sktags.models import TaggerNeuralNet

    clock = {"wait": 0.0, "batches": 0}
    original = TaggerNeuralNet.get_iterator

    def timed(self, dataset, training=False):
        it = original(self, dataset, training=training)
        return TimedIterable(it, clock) if training else it

    TaggerNeuralNet.get_iterator = timed
    try:
        tagger = CNNTagger(max_epochs=1, valid_size=None, device="cuda", random_state=0,
                           **params).fit(X, Y)
    finally:
        TaggerNeuralNet.get_iterator = original
    dur = float(tagger.net_.history[-1, "dur"])
    return {"epoch_s": dur, "samples_per_s": len(X) / dur, "wait_share": clock["wait"] / dur}


def main(argv=None):
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=32768, help="number of clips")
    p.add_argument("--dir", default=tempfile.gettempdir())
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 1))
    p.add_argument("--precision", default="float32", choices=["float32", "bfloat16", "float16"])
    args = p.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print(f"bench_gpu: no CUDA GPU available (torch {torch.__version__}); nothing measured.",
              file=sys.stderr)
        return 2
    if args.quick:
        args.n = 2048
    from sktags import CNNTagger

    item = int(np.prod(SHAPE)) * 2
    free = shutil.disk_usage(args.dir).free
    if free < 1.2 * args.n * item:
        print(f"bench_gpu: not enough space in {args.dir}: {free / 1e9:.1f} GB free",
              file=sys.stderr)
        return 2
    print(f"GPU: {torch.cuda.get_device_name(0)}; torch {torch.__version__}; "
          f"{args.workers} workers, batch {args.batch_size}, {args.precision}", flush=True)
    tmp = tempfile.mkdtemp(prefix="sktags_bench_gpu_", dir=args.dir)
    try:
        x_path = os.path.join(tmp, "X.npy")
        t0 = time.perf_counter()
        write_noise_memmap(x_path, args.n, SHAPE, chunk=1024, distinct_rows=True)
        print(f"memmap: {args.n} x {SHAPE} float16 = {os.path.getsize(x_path) / 1e9:.2f} GB, "
              f"written in {time.perf_counter() - t0:.1f} s", flush=True)
        X = np.load(x_path, mmap_mode="r")
        Y = (np.random.default_rng(1).random((args.n, N_LABELS)) < 0.3).astype(np.float32)

        ceiling = compute_only(torch, args.batch_size, 200, args.precision, "cuda")
        print(f"compute only (batch on the GPU): {ceiling:>10,.0f} samples/s "
              f"-> {args.n / ceiling:.1f} s per epoch at best", flush=True)
        loading = loader_only(X, Y, args.batch_size, args.workers)
        print(f"loader only ({args.workers} workers, pinned): {loading:>8,.0f} samples/s",
              flush=True)

        paper = dict(batch_size=args.batch_size, num_workers=args.workers,
                     precision=args.precision)
        r = fit_epoch(CNNTagger, X, Y, paper)
        idle = max(0.0, 1.0 - (args.n / ceiling) / r["epoch_s"])
        verdict = "met" if r["epoch_s"] <= 20 else "missed"
        print(f"CNNTagger.fit, paper's network: epoch {r['epoch_s']:.1f} s "
              f"(target <= 20 s: {verdict}), {r['samples_per_s']:,.0f} samples/s, "
              f"blocked on data {r['wait_share']:.0%} of the epoch, GPU idle ~{idle:.0%} "
              f"({r['samples_per_s'] / ceiling:.2f}x the compute-only rate)", flush=True)

        if "crop_frames" in CNNTagger().get_params():
            crops = dict(paper, module="short_chunk", crop_frames=128)
            try:
                c = fit_epoch(CNNTagger, X, Y, crops)
                print(f"CNNTagger.fit, short_chunk on 128-frame crops: epoch {c['epoch_s']:.1f} s, "
                      f"{c['samples_per_s']:,.0f} samples/s, blocked on data "
                      f"{c['wait_share']:.0%}")
            except (TypeError, ValueError) as exc:
                print(f"crops: not measured ({exc})")
        else:
            print("crops: not measured (this version of CNNTagger has no crop_frames)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
