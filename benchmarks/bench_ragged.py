"""Peak memory of whole-track extraction to the ragged on-disk layout.

Writes one long WAV (``--minutes``, default 5 min of noise at 22,050 Hz) to
a temporary folder and lists it N times, then measures, each in a fresh
child process (``n_jobs=1``, so that all the work is in that process):

- sktags: ``extract_to_file(paths, ..., transformer=MelSpectrogramTransformer(
  offset=0.0, duration=None))``, which streams each track's frames to the
  ragged layout (``<name>.npy`` + ``<name>.offsets.npy``) as it is computed,
  for N = ``--repeat`` (default 200 tracks, about 17 hours of audio) and for
  N = ``--repeat // 4``;
- baseline: ``MelSpectrogramTransformer(duration=None).transform(paths)``,
  the in-memory object array that streaming avoids, for N = ``--repeat``.

It reports the peak growth of anonymous memory (``RssAnon``, sampled every
5 ms) over the level before the call, against the size of the file written.
Every run holds one track's working memory at a time (its decoded samples
and a block of its spectrum), a fixed cost set by the longest track; what
must not grow with the data is the difference between the two streaming
runs, compared with the difference of their file sizes.

Usage::

    python benchmarks/bench_ragged.py            # ~470 MiB file, several minutes
    python benchmarks/bench_ragged.py --quick    # ~20 MiB
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


def child(mode, wav, repeat, out, dtype):
    from sktags.features import MelSpectrogramTransformer, extract_to_file

    paths = [wav] * repeat
    mel = MelSpectrogramTransformer(offset=0.0, duration=None, n_jobs=1)
    mel.transform(paths[:1])  # imports and warm-up outside the measurement
    before = proc_status_kib("RssAnon")
    t0 = time.perf_counter()
    with PeakSampler() as peak:
        if mode == "stream":
            result = extract_to_file(paths, out, transformer=mel, dtype=dtype)
            size = os.path.getsize(result.path) + os.path.getsize(result.offsets_path)
        else:
            features = mel.transform(paths)
            size = sum(f.nbytes for f in features)
    print(json.dumps({"growth": (peak.peak - before) * 1024, "size": size,
                      "seconds": time.perf_counter() - t0}))


def run(mode, wav, repeat, out, dtype):
    cmd = [sys.executable, __file__, "--child", mode, wav, str(repeat), out, dtype]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        mode, wav, repeat, out, dtype = sys.argv[2:7]
        return child(mode, wav, int(repeat), out, dtype)
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=5.0)
    p.add_argument("--repeat", type=int, default=200)
    p.add_argument("--dtype", default="float32", choices=["float32", "float16"])
    p.add_argument("--dir", default=None, help="folder for the temporary files")
    args = p.parse_args()
    if args.quick:
        args.minutes, args.repeat = 2.0, 20

    import soundfile as sf

    mib = 2**20
    with tempfile.TemporaryDirectory(dir=args.dir) as d:
        wav = os.path.join(d, "long.wav")
        rng = np.random.default_rng(0)
        sf.write(wav, (0.1 * rng.standard_normal(int(args.minutes * 60 * 22050))).astype(np.float32), 22050)
        out = os.path.join(d, "tracks.npy")
        small = run("stream", wav, max(1, args.repeat // 4), out, args.dtype)
        large = run("stream", wav, args.repeat, out, args.dtype)
        memory = run("memory", wav, args.repeat, out, args.dtype)

    hours = args.minutes * args.repeat / 60
    print(f"{args.repeat} tracks of {args.minutes:g} min ({hours:.1f} h of audio), {args.dtype}, n_jobs=1")
    for name, r in (("small", small), ("large", large)):
        print(f"extract_to_file, {name}: file {r['size'] / mib:,.0f} MiB in {r['seconds']:.0f} s, "
              f"peak RssAnon growth {r['growth'] / mib:,.0f} MiB")
    slope = (large["growth"] - small["growth"]) / (large["size"] - small["size"])
    print(f"growth that scales with the data: {100 * slope:.1f}% of the extra file size "
          f"({(large['growth'] - small['growth']) / mib:+,.0f} MiB for "
          f"{(large['size'] - small['size']) / mib:+,.0f} MiB)")
    print(f"in-memory transform (baseline), large: {memory['growth'] / mib:,.0f} MiB growth "
          f"({100 * memory['growth'] / large['size']:.0f}% of the file); streaming: "
          f"{large['growth'] / mib:,.0f} MiB ({100 * large['growth'] / large['size']:.0f}%)")


if __name__ == "__main__":
    main()
