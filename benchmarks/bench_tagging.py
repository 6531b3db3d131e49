"""End-to-end files/s of ``sktags tag`` against decode + log-mel alone, in the same run.

Writes ``--files`` synthetic 30 s previews (MP3, 44.1 kHz stereo, like Deezer's)
into a temporary folder, then times with the paper's front end (22,050 Hz,
96 mel bands, 30 s excerpt):

* baseline: decode + log-mel alone, :func:`sktags.inference.iter_spectrograms`
  (the joblib tasks ``sktags tag`` runs) with ``--jobs`` workers;
* ``sktags tag``'s library path: :func:`sktags.inference.tag_files` (the same
  decoding, plus the network's forward pass in batches in the main process)
  writing one CSV row per file through :class:`sktags.inference.TagOutput`,
  with the paper's network (``CNNTagger()``), and with a small one.

The networks are fitted for one epoch on a few random inputs: the weights do
not change the cost. The target is an end-to-end rate >= 0.8x the baseline's
on a 2-core machine. Each figure is the best of ``--repeat`` runs after an
untimed warm-up (worker start-up excluded).

On a CPU the network competes with decoding for the same cores, so the
end-to-end rate cannot exceed ``1 / (1 / decode_rate + cores / forward_rate)``
(work, not waiting, is the limit); with the paper's network the forward
pass alone costs about as much CPU as decoding. On a GPU (``--device``) the
forward pass leaves the cores to the decoders.

Usage::

    python benchmarks/bench_tagging.py              # 96 files, 2 workers, batches of 16
    python benchmarks/bench_tagging.py --quick      # 8 files, 1 repeat
"""

import argparse
import os
import tempfile
import time

import numpy as np
import soundfile as sf


def make_files(directory, n_files, seed=0):
    rng = np.random.default_rng(seed)
    sr = 44100
    t = np.arange(30 * sr) / sr
    files = []
    for k in range(n_files):
        freqs = rng.uniform(100, 2000, size=4)
        y = 0.15 * np.sin(2 * np.pi * freqs[:, None] * t).sum(0)
        y = y + rng.normal(0, 0.02, y.shape)
        stereo = np.stack([y, np.roll(y, 100)], axis=1).astype(np.float32)
        path = os.path.join(directory, f"preview{k:04d}.mp3")
        sf.write(path, stereo, sr, format="MP3")
        files.append(path)
    return files


def fitted_pipeline(**tagger_params):
    from sklearn.pipeline import Pipeline

    from sktags import CNNTagger, MelSpectrogramTransformer

    mel = MelSpectrogramTransformer()
    rng = np.random.default_rng(0)
    X = rng.normal(1, 0.5, size=(8, 1, 96, 646)).astype(np.float32)
    Y = rng.integers(0, 2, size=(8, 6))
    Y[0], Y[1] = 1, 0
    tagger = CNNTagger(max_epochs=1, valid_size=None, random_state=0, device="cpu",
                       **tagger_params).fit(X, Y)
    return Pipeline([("mel", mel), ("tagger", tagger)])


def best_rate(fn, n_files, repeat):
    best = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = max(best, n_files / (time.perf_counter() - start))
    return best


def main():
    from sktags.features import MelSpectrogramTransformer
    from sktags.inference import TagOutput, iter_spectrograms, tag_files

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=96)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.files, args.repeat = 8, 1
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        files = make_files(tmp, args.files)
        out = os.path.join(tmp, "tags.csv")
        mel = MelSpectrogramTransformer()

        def decode_only():
            for _ in iter_spectrograms(mel, files, n_jobs=args.jobs):
                pass

        def end_to_end(pipeline):
            def run():
                n_tags = len(pipeline.named_steps["tagger"].thresholds_)
                with TagOutput(out, target_names=[f"tag{j}" for j in range(n_tags)]) as w:
                    for r in tag_files(pipeline, files, n_jobs=args.jobs,
                                       batch_size=args.batch_size):
                        w.write(r)
            return run

        decode_only()  # warm-up: worker start-up, imports
        base = best_rate(decode_only, len(files), args.repeat)
        print(f"{len(files)} MP3 previews (30 s, 44.1 kHz stereo), jobs={args.jobs}, "
              f"torch threads={torch.get_num_threads()}, cores={os.cpu_count()}")
        print(f"decode + log-mel alone            {base:7.2f} files/s   (baseline)")
        for label, params in (("paper network (CNNTagger())", {}),
                              ("small network (filters 8, 64 units)",
                               {"filters": (8, 8, 8, 8), "hidden_units": 64})):
            pipeline = fitted_pipeline(**params)
            end_to_end(pipeline)()  # warm-up
            rate = best_rate(end_to_end(pipeline), len(files), args.repeat)
            X = np.asarray(mel.transform(files[: args.batch_size]))
            tagger = pipeline.named_steps["tagger"]
            start = time.perf_counter()
            tagger.predict_proba(X)
            fwd = len(X) / (time.perf_counter() - start)
            print(f"sktags tag, {label:<36} {rate:7.2f} files/s   ratio {rate / base:.2f}x "
                  f"(target >= 0.8x); forward pass alone {fwd:.1f} clips/s")


if __name__ == "__main__":
    main()
