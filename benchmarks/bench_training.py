"""Training throughput of CNNTagger against a bare PyTorch loop.

Both train the paper's network (input batch norm, 4 x [conv 3x3, ReLU,
max-pool 2x2] with 32/64/128/256 filters, dense 256, dropout 0.3, dense m) on
random 1 x 96 x 646 log-mels, batch 32, Adadelta (lr 0.1, rho 0.95, eps 1e-8),
logits binary cross-entropy.  The baseline is the plainest loop: NCHW, fp32,
batches sliced from one in-memory tensor.  CNNTagger runs at its default
settings (``channels_last=True``, fp32) with ``valid_size=None``, and again
with ``precision="bfloat16"``.

After two warm-up batches per variant, ``--rounds`` rounds each train one
epoch of ``--steps`` batches of every variant in turn (interleaved, so that
the load of a shared machine affects all alike); throughput is the median
over rounds.  The efficiency is
the training FLOP/s (5.32 GFLOP per 96 x 646 clip, forward + backward) as a
fraction of a large fp32 ``torch.matmul`` measured in the same run.

``--allocators`` repeats the bare loop and the default tagger in child
processes under different memory-allocator settings (glibc hugetlb, and
jemalloc when installed), since these are process-level settings.

Usage::

    python benchmarks/bench_training.py            # the real run (minutes)
    python benchmarks/bench_training.py --quick    # smoke run
    python benchmarks/bench_training.py --allocators
"""

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import matmul_flops, parser  # noqa: E402

GFLOP_TRAIN_PER_CLIP = 5.32  # forward + backward, 96 x 646 input (performance_notes)
JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"


def paper_net(n_labels, n_mels=96, n_frames=646, filters=(32, 64, 128, 256), hidden=256):
    """The paper's CNN as a bare nn.Sequential ('same' conv, ceil-mode pooling)."""
    layers = [nn.BatchNorm2d(1)]
    c_in, h, w = 1, n_mels, n_frames
    for f in filters:
        layers += [
            nn.Conv2d(c_in, f, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2, ceil_mode=True),
        ]
        c_in, h, w = f, -(-h // 2), -(-w // 2)
    layers += [
        nn.Flatten(),
        nn.Linear(c_in * h * w, hidden),
        nn.ReLU(),
        nn.Dropout(0.3),
        nn.Linear(hidden, n_labels),
    ]
    return nn.Sequential(*layers)


def make_data(n, n_labels, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 1, 96, 646), dtype=np.float32)
    Y = (rng.random((n, n_labels)) < 0.3).astype(np.float32)
    # every label present and absent at least once
    Y[0], Y[1] = 1, 0
    return X, Y


def bare_loop(X, Y, batch_size, epochs, channels_last=False, bf16=False):
    """Per-epoch durations (s) of the plainest training loop."""
    torch.manual_seed(0)
    net = paper_net(Y.shape[1])
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    opt = torch.optim.Adadelta(net.parameters(), lr=0.1, rho=0.95, eps=1e-8)
    loss_fn = nn.BCEWithLogitsLoss()
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    net.train()
    durs = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(len(Xt))
        for i in range(0, len(Xt), batch_size):
            idx = perm[i : i + batch_size]
            xb, yb = Xt[idx], Yt[idx]
            if channels_last:
                xb = xb.contiguous(memory_format=torch.channels_last)
            opt.zero_grad()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                out = net(xb)
            loss = loss_fn(out.float(), yb)
            loss.backward()
            opt.step()
        durs.append(time.perf_counter() - t0)
    return durs


def tagger_epochs(X, Y, batch_size, epochs, **params):
    """Per-epoch durations (s) of CNNTagger.fit (skorch history) and its size."""
    from sktags import CNNTagger

    tagger = CNNTagger(
        batch_size=batch_size,
        max_epochs=epochs,
        valid_size=None,
        device="cpu",
        random_state=0,
        **params,
    )
    tagger.fit(X, Y)
    n_params = sum(p.numel() for p in tagger.net_.module_.parameters())
    return list(tagger.net_.history[:, "dur"]), n_params


VARIANTS = {
    "bare-fp32-nchw": lambda X, Y, b: bare_loop(X, Y, b, 1),
    "tagger-default": lambda X, Y, b: tagger_epochs(X, Y, b, 1)[0],
    "tagger-bfloat16": lambda X, Y, b: tagger_epochs(X, Y, b, 1, precision="bfloat16")[0],
}


def measure(variants, X, Y, batch_size, rounds, peak_n):
    """Samples/s of each variant and the matmul FLOP/s, medians over rounds.

    Every variant first runs two warm-up batches (oneDNN builds its kernels
    for each shape once per process); then the rounds interleave one epoch of
    each variant and one matmul measurement, so that the load of a shared
    machine drifts over all of them alike.
    """
    for name in variants:
        VARIANTS[name](X[: 2 * batch_size], Y[: 2 * batch_size], batch_size)
    sps = {name: [] for name in variants}
    peaks = []
    for _ in range(rounds):
        for name in variants:
            (dur,) = VARIANTS[name](X, Y, batch_size)
            sps[name].append(len(X) / dur)
        peaks.append(matmul_flops(n=peak_n, repeat=3))
    return {k: statistics.median(v) for k, v in sps.items()}, statistics.median(peaks), sps


def run_child(variant, env_extra, args):
    """Run one variant in a fresh process with extra environment variables."""
    env = dict(os.environ, **env_extra)
    cmd = [sys.executable, __file__, "--child", variant, "--steps", str(args.steps),
           "--rounds", str(args.rounds)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"child {variant} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])["samples_per_s"]


def main(argv=None):
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=8, help="batches per epoch")
    p.add_argument("--rounds", type=int, default=3, help="interleaved epochs per variant")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--allocators", action="store_true",
                   help="also compare allocator settings in child processes")
    p.add_argument("--child", help=argparse_suppress())
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.rounds = 2, 1
    n_labels = 15
    n = args.steps * args.batch_size
    X, Y = make_data(n, n_labels)
    peak_n = 1024 if args.quick else 4096

    if args.child:
        sps, _, _ = measure([args.child], X, Y, args.batch_size, args.rounds, 512)
        print(json.dumps({"variant": args.child, "samples_per_s": sps[args.child]}))
        return

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{os.cpu_count()} cpus; 1x96x646 input, {n_labels} labels, batch "
          f"{args.batch_size}, epochs of {n} samples, {args.rounds} interleaved rounds")
    bare_params = sum(p.numel() for p in paper_net(n_labels).parameters())
    _, tagger_params = tagger_epochs(X[:32], Y[:32], args.batch_size, 1)
    if tagger_params != bare_params:
        print(f"WARNING: parameter counts differ: bare {bare_params}, tagger {tagger_params}")
    else:
        print(f"same network: {bare_params:,} parameters in both")

    names = list(VARIANTS)
    results, peak, per_round = measure(names, X, Y, args.batch_size, args.rounds, peak_n)
    print(f"fp32 matmul ({peak_n}x{peak_n}): {peak / 1e9:.1f} GFLOP/s")
    base = results["bare-fp32-nchw"]
    print(f"\n{'variant':<20}{'samples/s':>10}{'vs bare':>9}{'GFLOP/s':>9}"
          f"{'of matmul':>11}   per round")
    for name, sps in results.items():
        gf = GFLOP_TRAIN_PER_CLIP * sps
        rounds = " ".join(f"{v:.1f}" for v in per_round[name])
        print(f"{name:<20}{sps:>10.1f}{sps / base:>8.2f}x{gf:>9.1f}{gf * 1e9 / peak:>10.0%}"
              f"   {rounds}")
    print("(\"of matmul\" compares every row with the fp32 matmul: bfloat16 can exceed it)")
    ratio = results["tagger-default"] / base
    print(f"target: tagger-default >= 1.3x bare: {'MET' if ratio >= 1.3 else 'NOT MET'} "
          f"({ratio:.2f}x)")

    if args.allocators:
        envs = {"default": {}, "glibc hugetlb": {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}}
        if os.path.exists(JEMALLOC):
            envs["jemalloc"] = {"LD_PRELOAD": JEMALLOC,
                                "MALLOC_CONF": "dirty_decay_ms:-1,muzzy_decay_ms:-1"}
        else:
            print(f"\n(jemalloc not installed at {JEMALLOC}: skipped)")
        print("\nallocator settings (child processes; ratio vs default env, same variant)")
        for variant in names:
            ref = None
            for env_name, env in envs.items():
                sps = run_child(variant, env, args)
                ref = ref or sps
                print(f"  {variant:<20}{env_name:<15}{sps:>8.1f} samples/s {sps / ref:>6.2f}x",
                      flush=True)


def argparse_suppress():
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    main()
