"""Peak memory of whole-track extraction to the ragged on-disk layout.

Writes one long WAV (``--minutes``, default 10 min of noise at 22,050 Hz) to
a temporary folder and lists it ``--repeat`` times (default 100, i.e. about
17 hours of audio), then in this process, one after the other:

- sktags: ``extract_to_file(paths, ..., transformer=MelSpectrogramTransformer(
  offset=0.0, duration=None))``, which streams each track's frames to the
  ragged layout (``<name>.npy`` + ``<name>.offsets.npy``) as it is computed;
- baseline: ``MelSpectrogramTransformer(duration=None).transform(paths)``,
  the in-memory object array that streaming avoids (all the tracks, or
  ``--baseline-repeat`` of them, the growth then scaled).

Both hold the working memory of one track at a time (its decoded samples,
frames and spectrum: a fixed cost that grows with the longest track, not
with the number of tracks); only the baseline grows with the data.

It reports the peak growth of anonymous memory (``RssAnon``, sampled every
5 ms) over the level before each call, against the size of the file written.
``n_jobs=1``, so that all the work is in this process.

Usage::

    python benchmarks/bench_ragged.py            # ~1 GB file, a few minutes
    python benchmarks/bench_ragged.py --quick    # ~50 MB
"""

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import PeakSampler, parser, proc_status_kib  # noqa: E402


def main():
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--repeat", type=int, default=100)
    p.add_argument("--baseline-repeat", type=int, default=None)
    p.add_argument("--dtype", default="float32", choices=["float32", "float16"])
    p.add_argument("--dir", default=None, help="folder for the temporary files")
    args = p.parse_args()
    if args.quick:
        args.minutes, args.repeat = 2.0, 25
    base_repeat = args.baseline_repeat or args.repeat

    import soundfile as sf

    from sktags.features import MelSpectrogramTransformer, extract_to_file

    with tempfile.TemporaryDirectory(dir=args.dir) as d:
        wav = os.path.join(d, "long.wav")
        rng = np.random.default_rng(0)
        sf.write(wav, (0.1 * rng.standard_normal(int(args.minutes * 60 * 22050))).astype(np.float32), 22050)
        paths = [wav] * args.repeat
        mel = MelSpectrogramTransformer(offset=0.0, duration=None, n_jobs=1)
        mel.transform(paths[:1])  # imports and warm-up outside the measurement

        before = proc_status_kib("RssAnon")
        t0 = time.perf_counter()
        with PeakSampler() as peak:
            result = extract_to_file(paths, os.path.join(d, "tracks.npy"), transformer=mel, dtype=args.dtype)
        t_stream = time.perf_counter() - t0
        size = os.path.getsize(result.path) + os.path.getsize(result.offsets_path)
        stream_growth = (peak.peak - before) * 1024
        del result

        before = proc_status_kib("RssAnon")
        with PeakSampler() as peak:
            features = mel.transform(paths[:base_repeat])
        memory_growth = (peak.peak - before) * 1024 * args.repeat / base_repeat
        del features

    hours = args.minutes * args.repeat / 60
    mib = 2**20
    print(f"{args.repeat} tracks of {args.minutes:g} min ({hours:.1f} h of audio), {args.dtype}, n_jobs=1")
    print(f"ragged file written: {size / mib:,.0f} MiB in {t_stream:.1f} s")
    print(f"extract_to_file peak RssAnon growth: {stream_growth / mib:,.1f} MiB "
          f"= {100 * stream_growth / size:.1f}% of the file")
    scaled = f", scaled from {base_repeat} tracks" if base_repeat != args.repeat else ""
    print(f"in-memory transform (baseline{scaled}): "
          f"{memory_growth / mib:,.0f} MiB = {100 * memory_growth / size:.0f}% of the file; "
          f"streaming uses {memory_growth / max(stream_growth, 1):.0f}x less")


if __name__ == "__main__":
    main()
