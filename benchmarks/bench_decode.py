"""Peak memory of decoding a long multichannel file as a whole track.

Writes one 6-channel 48 kHz FLAC (``--minutes``, default 10 min) to a
temporary folder, then decodes it whole to mono float32 at 22,050 Hz, each
way in a fresh child process:

- sktags: ``load_window(path, sr=22050, offset=0.0, duration=None)``, which
  decodes blocks of 2**20 frames, mixes each down to mono and resamples it
  with a streaming soxr resampler as it comes;
- baseline, the way sktags 0.2 did it: one ``SoundFile.read`` of every
  channel at the native rate, then the channel mean, then one soxr resample.

It checks that both give the same samples, and reports the peak growth of
anonymous memory (``RssAnon``, sampled every 5 ms) over the level before the
call, and the ratio baseline / sktags.

Usage::

    python benchmarks/bench_decode.py            # 10 min, 6 channels: ~1.3 GiB for the baseline
    python benchmarks/bench_decode.py --quick    # 1 min
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import PeakSampler, parser, proc_status_kib  # noqa: E402

SR, CHANNELS, TARGET = 48000, 6, 22050


def baseline(path):
    """sktags 0.2's whole-track decode: all channels at the native rate, then mono, then resample."""
    import soundfile as sf

    from sktags.features._audio_io import resample, to_mono

    with sf.SoundFile(path) as f:
        data = f.read(dtype="float32", always_2d=True)
    return resample(to_mono(data), SR, TARGET)


def child(mode, path):
    import soundfile as sf  # noqa: F401 - imports outside the measurement
    import soxr  # noqa: F401

    from sktags.features._audio_io import load_window

    before = proc_status_kib("RssAnon")
    t0 = time.perf_counter()
    with PeakSampler() as peak:
        if mode == "sktags":
            y = load_window(path, sr=TARGET, offset=0.0, duration=None)
        else:
            y = baseline(path)
    np.save(path + f".{mode}.npy", y)
    print(json.dumps({"growth": (peak.peak - before) * 1024, "seconds": time.perf_counter() - t0,
                      "n": int(y.shape[0])}))


def run(mode, path):
    cmd = [sys.executable, __file__, "--child", mode, path]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def write_flac(path, minutes):
    """A 6-channel FLAC of tones and quiet noise, written block by block."""
    import soundfile as sf

    rng = np.random.default_rng(0)
    n, block = int(minutes * 60 * SR), 1 << 20
    freqs = 110.0 * (1 + np.arange(CHANNELS))
    with sf.SoundFile(path, "w", SR, CHANNELS, subtype="PCM_16", format="FLAC") as f:
        for start in range(0, n, block):
            t = (start + np.arange(min(block, n - start))) / SR
            y = 0.2 * np.sin(2 * np.pi * freqs * t[:, None])
            f.write((y + 0.01 * rng.standard_normal(y.shape)).astype(np.float32))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        return child(sys.argv[2], sys.argv[3])
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--dir", default=None, help="folder for the temporary files")
    args = p.parse_args()
    if args.quick:
        args.minutes = 1.0
    mib = 2**20
    with tempfile.TemporaryDirectory(dir=args.dir) as d:
        path = os.path.join(d, "six.flac")
        write_flac(path, args.minutes)
        size = os.path.getsize(path)
        new = run("sktags", path)
        old = run("baseline", path)
        same = np.allclose(np.load(path + ".sktags.npy"), np.load(path + ".baseline.npy"),
                           atol=1e-5)
    print(f"{args.minutes:g} min, {CHANNELS} channels at {SR} Hz ({size / mib:,.0f} MiB FLAC) "
          f"to mono at {TARGET} Hz ({new['n']:,} samples, {4 * new['n'] / mib:,.0f} MiB); "
          f"same samples: {same}")
    print(f"baseline (whole read, then mono, then resample): peak RssAnon growth "
          f"{old['growth'] / mib:,.0f} MiB in {old['seconds']:.1f} s")
    print(f"sktags (blocks mixed down and resampled as they come): "
          f"{new['growth'] / mib:,.0f} MiB in {new['seconds']:.1f} s")
    print(f"peak memory ratio baseline / sktags: {old['growth'] / max(new['growth'], 1):.1f}x")


if __name__ == "__main__":
    main()
