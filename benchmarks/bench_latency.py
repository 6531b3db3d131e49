"""Latency of tagging one 30 s file end to end on CPU (decode, log-mel, CNN).

A ``Pipeline([MelSpectrogramTransformer(), CNNTagger()])`` at default
(paper-size) settings is fitted for one epoch on a few random log-mels: the
weights are untrained, which does not change the timing.  It then tags one
file at a time: the median over ``--repeat`` calls of ``predict_proba([path])``
end to end, and split into the front end (``transform``: decode + mel) and
the CNN (``predict_proba`` on the log-mel).  The baseline for the front end,
measured in the same run, is ``librosa.load`` + ``librosa.feature.melspectrogram``
with the same parameters.

The file is a real 30 s MP3 preview (stereo, 32 or 44.1 kHz) from
``../shared/data/emotion_4q_dev`` when present, read in place; otherwise a
committed CC fixture (``--file`` picks any file).

Usage::

    python benchmarks/bench_latency.py
    python benchmarks/bench_latency.py --quick
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, SHARED, median_time, parser  # noqa: E402


def default_file():
    q1 = SHARED / "data" / "emotion_4q_dev" / "Q1"
    if q1.is_dir():
        return sorted(q1.glob("*.mp3"))[0]
    fixtures = sorted((ROOT / "tests" / "fixtures" / "audio").glob("*"))
    audio = [f for f in fixtures if f.suffix in {".ogg", ".wav", ".flac", ".mp3"}]
    return audio[0]


def librosa_front_end(path, mel):
    import librosa

    y, sr = librosa.load(path, sr=mel.sr, offset=mel.offset, duration=mel.duration)
    S = librosa.feature.melspectrogram(
        y=y, sr=sr, n_fft=mel.n_fft, hop_length=mel.hop_length, n_mels=mel.n_mels
    )
    return np.log1p(100 * S)


def main(argv=None):
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--file", type=Path, default=None)
    p.add_argument("--repeat", type=int, default=15)
    args = p.parse_args(argv)
    if args.quick:
        args.repeat = 3

    import soundfile as sf
    import torch
    from sklearn.pipeline import Pipeline

    from sktags import CNNTagger, MelSpectrogramTransformer

    path = str(args.file or default_file())
    info = sf.info(path)
    # the whole preview: a 30 s window from the start (the paper's 30-60 s
    # excerpt of a full track is the transformer's default offset)
    mel = MelSpectrogramTransformer(offset=0.0, duration=30.0)
    X_shape = mel.transform([path]).shape
    print(f"file: {Path(path).name} ({info.format} {info.samplerate} Hz "
          f"{info.channels} ch {info.duration:.1f} s) -> log-mel {X_shape}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")

    rng = np.random.default_rng(0)
    X_fit = rng.standard_normal((8,) + X_shape[1:], dtype=np.float32)
    Y_fit = np.tile([[1, 0, 1, 0], [0, 1, 0, 1]], (4, 1))
    results = {}
    for precision in ("float32", "bfloat16"):
        tagger = CNNTagger(max_epochs=1, valid_size=None, device="cpu",
                           random_state=0, precision=precision)
        tagger.fit(X_fit, Y_fit)  # untrained weights: timing only
        pipe = Pipeline([("mel", mel), ("tagger", tagger)])
        X1 = mel.transform([path])
        results[precision] = {
            "end to end": median_time(lambda: pipe.predict_proba([path]), args.repeat),
            "decode + mel": median_time(lambda: mel.transform([path]), args.repeat),
            "CNN": median_time(lambda: tagger.predict_proba(X1), args.repeat),
        }
    t_librosa = median_time(lambda: librosa_front_end(path, mel), args.repeat)

    print(f"\nmedian latency over {args.repeat} calls, one file, batch of 1 (ms)")
    print(f"{'':<16}{'float32':>10}{'bfloat16':>10}")
    for part in ("end to end", "decode + mel", "CNN"):
        print(f"{part:<16}{results['float32'][part] * 1e3:>10.1f}"
              f"{results['bfloat16'][part] * 1e3:>10.1f}")
    fe = results["float32"]["decode + mel"]
    print(f"\nfront-end baseline librosa.load + melspectrogram: {t_librosa * 1e3:.1f} ms; "
          f"sktags front end is {t_librosa / fe:.2f}x faster")
    ref = librosa_front_end(path, mel)
    ours = mel.transform([path])[0, 0]
    n = min(ref.shape[1], ours.shape[1])
    print(f"(same features: max |sktags - librosa| = "
          f"{np.abs(ours[:, :n] - ref[:, :n]).max():.2g} on the log scale, "
          f"{ours.shape[1]} vs {ref.shape[1]} frames)")


if __name__ == "__main__":
    main()
