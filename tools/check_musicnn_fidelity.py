"""Compare sktags' musicnn with musicnn's own extractor on any audio files.

Two steps, in two environments (TensorFlow never enters sktags' own):

1. in the throwaway environment of ``tools/convert_musicnn.py``, with the
   wheel unpacked in ``UNPACKED`` (``unzip musicnn-0.1.0-py3-none-any.whl -d
   UNPACKED``), musicnn's ``extractor.extractor`` writes its taggrams::

       /tmp/tfenv/bin/python tools/check_musicnn_fidelity.py reference \\
           --musicnn UNPACKED --out /tmp/musicnn_ref.npz AUDIO...

2. in sktags' environment, ``MusicnnEmbedding(layer="taggram",
   pooling=None)`` computes its own and prints, per file and model, the
   number of patches, the mean and max absolute difference and the share of
   patches with the same top-5 tags::

       python tools/check_musicnn_fidelity.py compare --out /tmp/musicnn_ref.npz AUDIO...
"""

import argparse
import sys

import numpy as np

MODELS = {"msd": "MSD_musicnn", "mtt": "MTT_musicnn"}


def reference(args):
    sys.path.insert(0, args.musicnn)
    from musicnn import extractor

    out = {}
    for key, model in MODELS.items():
        for i, path in enumerate(args.audio):
            taggram, _ = extractor.extractor(path, model=model, extract_features=False)
            out[f"{key}_{i}"] = np.asarray(taggram, dtype=np.float32)
    np.savez(args.out, **out)


def compare(args):
    from sktags.pretrained import MusicnnEmbedding

    ref = np.load(args.out)
    for key in MODELS:
        got = MusicnnEmbedding(model=key, layer="taggram", pooling=None).transform(args.audio)
        for i, (path, g) in enumerate(zip(args.audio, got)):
            r = ref[f"{key}_{i}"]
            if g.shape != r.shape:
                print(f"{key} {path}: {len(g)} patches, musicnn {len(r)}")
                continue
            top5 = np.mean([set(np.argsort(-a)[:5]) == set(np.argsort(-b)[:5])
                            for a, b in zip(g, r)])
            diff = np.abs(g - r)
            print(f"{key} {path}: {len(g)} patches, mean |diff| {diff.mean():.1e}, "
                  f"max {diff.max():.1e}, same top-5 on {100 * top5:.0f} %")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("step", choices=["reference", "compare"])
    p.add_argument("audio", nargs="+")
    p.add_argument("--out", required=True, help="the reference taggrams (.npz)")
    p.add_argument("--musicnn", help="folder holding the unpacked wheel's musicnn package")
    args = p.parse_args(argv)
    if args.step == "reference":
        if not args.musicnn:
            p.error("reference needs --musicnn")
        reference(args)
    else:
        compare(args)


if __name__ == "__main__":
    main()
