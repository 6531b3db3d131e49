"""
The full paper protocol on Deezer previews (GPU recommended)
============================================================

Ibrahim et al. (ICASSP 2020), end to end, on a folder of the released
dataset's 30 s previews (``sktags fetch-previews --out previews/``):

1. the released labels (and, when given, the authors' playlist counts and
   artist ids), restricted to the tracks whose preview is in the folder;
2. an artist-disjoint, multilabel-stratified 65/10/25 split;
3. log-mel features (the paper's front end) computed once into a float16
   memory map, with a per-file cache, each part a contiguous slice of it;
4. the CNN trained with the chosen weighting, early stopping on the weighted
   validation loss, checkpointed every epoch (rerun to resume);
5. Table 1 on the test part at threshold 0.5 and with per-context thresholds
   tuned for F1 on the validation part.

At the paper's scale this takes hours on a GPU (days on a CPU). ``--quick``
runs the same code on a tiny stand-in so that it is tested in CI: without
``--audio`` it writes 60 short CONSTRUCTED clips (mixtures of the bundled
recordings) named by real track ids into a temporary folder; its numbers
mean nothing.

Usage::

    python examples/full_paper_protocol.py --audio previews/ --work work/ \\
        [--counts balanced_ground_truth_track_count.csv --artists ground_truth_folds.csv] \\
        [--weighting ignore_zeros] [--device cuda]
"""

# %%
import argparse
import tempfile
from pathlib import Path

import numpy as np

from sktags import CNNTagger, MelSpectrogramTransformer
from sktags.datasets import load_context_tags
from sktags.features import extract_to_file
from sktags.metrics import context_report, tune_thresholds
from sktags.model_selection import train_valid_test_split
from sktags.weighting import TABLE2_CONFIGURATIONS

parser = argparse.ArgumentParser(description="The paper's protocol on Deezer previews")
parser.add_argument("--audio", help="folder of previews named {track_id}.mp3")
parser.add_argument("--work", help="folder for features, cache and checkpoints")
parser.add_argument("--counts", help="authors' balanced_ground_truth_track_count.csv")
parser.add_argument("--artists", help="authors' ground_truth_folds.csv (artist ids)")
parser.add_argument("--weighting", default="ignore_zeros", choices=list(TABLE2_CONFIGURATIONS),
                    help="a configuration of the paper's Table 2")
parser.add_argument("--device", default="auto")
parser.add_argument("--epochs", type=int, default=100)
parser.add_argument("--jobs", type=int, default=-1)
parser.add_argument("--quick", action="store_true", help="tiny stand-in run for CI")
args, _ = parser.parse_known_args()
tmp = tempfile.TemporaryDirectory()
work = Path(args.work or tmp.name)
work.mkdir(parents=True, exist_ok=True)

# %%
# 1. Labels, restricted to the tracks with a preview.
data = load_context_tags(counts_file=args.counts, artists_file=args.artists)
names = list(data.target_names)
mel_params = {}
if args.audio:
    audio = Path(args.audio)
    by_id = {int(p.stem): p for p in audio.glob("*.mp3") if p.stem.isdigit()}
else:
    if not args.quick:
        parser.error("--audio is required (or --quick for a stand-in run)")
    import soundfile as sf

    from sktags.demo import make_context_mixtures

    audio = work / "standin_audio"
    audio.mkdir(exist_ok=True)
    mix = make_context_mixtures(60, clip_duration=2.0, random_state=0)
    by_id = {}
    for tid, y in zip(data.track_ids[:60], mix.data):
        by_id[int(tid)] = audio / f"{tid}.wav"
        sf.write(by_id[int(tid)], y, mix.sr)
    mel_params = {"offset": 0.0, "duration": 2.0, "n_mels": 32}
    print("QUICK STAND-IN: constructed clips under real track ids; numbers mean nothing")
have = np.array([int(t) in by_id for t in data.track_ids])
print(f"{have.sum():,} of {len(have):,} released tracks have audio in {audio}")
ids = np.asarray(data.track_ids)[have]
Y = np.asarray(data.target)[have]
counts = np.asarray(data.playlist_counts)[have] if args.counts else None
artists = np.asarray(data.artist_ids)[have] if args.artists else None
if TABLE2_CONFIGURATIONS[args.weighting].needs_playlist_counts and counts is None:
    parser.error("TF-IDF weighting needs --counts")

# %%
# 2. Artist-disjoint 65/10/25 split (each track its own group without --artists).
train, valid, test = train_valid_test_split(np.arange(len(ids)), y=Y, groups=artists,
                                            random_state=0)
print(f"train {len(train):,}  valid {len(valid):,}  test {len(test):,}")
# Reorder every array as train | valid | test, so that each part of the feature
# file is a contiguous slice: a view of the memory map, never a copy.
order = np.r_[train, valid, test]
ids, Y = ids[order], Y[order]
counts = None if counts is None else counts[order]
artists = None if artists is None else artists[order]
train = slice(0, len(train))
valid = slice(train.stop, train.stop + len(valid))
test = slice(valid.stop, len(order))

# %%
# 3. Features, once, into a float16 memory map (6.2 GB for 50,000 previews).
features = work / "features.npy"
mel = MelSpectrogramTransformer(n_jobs=args.jobs, memory=str(work / "mel_cache"),
                                verbose=1, on_error="zeros", **mel_params)
extracted = extract_to_file([str(by_id[int(t)]) for t in ids], features, transformer=mel,
                            dtype="float16")
X, failed = extracted.features, extracted.failed
print("features", X.shape, X.dtype, f"({len(failed)} undecodable files stored as zeros)")

# %%
# 4. Train on the training part. CNNTagger holds out its own group-disjoint
# 10% of it for early stopping on the weighted validation loss; the separate
# validation part is kept for tuning the thresholds.
weighting = TABLE2_CONFIGURATIONS[args.weighting].make_estimator()
tagger = CNNTagger(
    weighting=weighting,
    max_epochs=1 if args.quick else args.epochs,
    filters=(8, 16, 32, 64) if args.quick else (32, 64, 128, 256),
    device=args.device,
    checkpoint_dir=str(work / "checkpoints"),
    random_state=0,
    verbose=1,
)
fit_kwargs = {}
if counts is not None:
    fit_kwargs["playlist_counts"] = counts[train]
if artists is not None:
    fit_kwargs["groups"] = artists[train]
tagger.fit(X[train], Y[train], **fit_kwargs)

# %%
# 5. Table 1 at threshold 0.5, then with thresholds tuned for F1 on validation.
P_test = tagger.predict_proba(X[test])
print(context_report(Y[test], P_test, threshold=0.5, target_names=names))
thresholds = tune_thresholds(Y[valid], tagger.predict_proba(X[valid]))
print("tuned thresholds:", {n: round(float(t), 2) for n, t in zip(names, thresholds)})
print(context_report(Y[test], P_test, threshold=thresholds, target_names=names))
del X
tmp.cleanup()
