"""``sktags train``: fit a CNNTagger on labelled audio or features."""

import shutil
import sys
import time
from pathlib import Path

import numpy as np

from ..weighting import TABLE2_CONFIGURATIONS, WeightingConfiguration
from ._errors import CLIError, CLIUsageError
from ._features import (
    MEL_KEYS,
    add_cache_arguments,
    add_mel_arguments,
    features_for,
    make_transformer,
    mel_options_given,
    mel_params,
    refuse_mel_options_with_features,
)
from ._models import save_model
from ._paths import (
    audio_by_id,
    check_output_path,
    data_inputs,
    refuse_overwrite,
)
from ..models import PRECISIONS, PRETRAINED_RECIPES
from ._recipes import add_model_arguments, describe, tagger_params
from ._tables import align, check_training_labels, read_groups_csv, read_matrix_csv

HELP = "fit a tagger on an audio folder or feature file and a labels CSV"

#: The weighting configurations of the paper's Table 2 (defined once, in
#: sktags.weighting), plus TF-IDF positive weights alone.
WEIGHTINGS = {
    **TABLE2_CONFIGURATIONS,
    "tfidf": WeightingConfiguration("tfidf", "Positive (TF-IDF)", None, "tfidf"),
}


def add_parser(sub):
    p = sub.add_parser(
        "train",
        help=HELP,
        description=(
            "Train the paper's CNN with the sample-level weighted cross-entropy. DATA is an "
            "audio folder whose files are named by track id (e.g. 3135556.mp3), or a feature "
            "file from `sktags extract`. LABELS is a CSV in the released dataset's format: "
            "a track id column, then one 0/1 column per context. Progress is printed per "
            "epoch. Training checkpoints every epoch; run the same command again after an "
            "interruption and it resumes from the last completed epoch."
        ),
    )
    p.add_argument("data", metavar="DATA", help="audio folder or FEATURES.npy")
    p.add_argument("--labels", required=True, metavar="CSV", help="track id + one 0/1 column per context")
    p.add_argument("-o", "--output", required=True, metavar="MODEL", help="model file to write (a pickle-free zip; e.g. model.sktags)")
    p.add_argument("--counts", metavar="CSV",
                   help="playlist counts n_{i,c} in the labels' format (required by tfidf weighting)")
    p.add_argument("--groups", metavar="CSV",
                   help="track id -> group (artist) table; keeps the validation split group-disjoint")
    p.add_argument("--group-column", default=None, help="group column (default: artist_id, else the 2nd)")
    p.add_argument("--weighting", choices=list(WEIGHTINGS), default="ignore_zeros",
                   help="confidence weights of the loss (Table 2 of the paper; default: ignore_zeros)")
    p.add_argument("--patience", type=int, default=None,
                   help="early-stopping patience in epochs (default: the tagger's)")
    p.add_argument("--batch-size", type=int, default=None, help="(default: the tagger's)")
    p.add_argument("--threshold", default="0.5", help="decision threshold: a number, or 'f1' to "
                   "tune one per context on the validation split")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    p.add_argument("--precision", choices=PRECISIONS, default="float32",
                   help="float32, or bfloat16/float16 autocast (float16: GPUs before Ampere)")
    p.add_argument(
        "--whole-track", action="store_true",
        help="train on whole tracks of an audio folder (offset 0, no --duration); needs "
        "--crop-frames or --recipe. A feature file from `sktags extract --whole-track` is "
        "read as whole tracks without this option",
    )
    p.add_argument("--random-state", type=int, default=0)
    p.add_argument("--checkpoint-dir", metavar="DIR",
                   help="where to checkpoint (default: MODEL.ckpt, removed after success)")
    p.add_argument("--skip-missing", action="store_true", help="ignore labelled tracks without audio/features")
    p.add_argument("-q", "--quiet", action="store_true", help="no per-epoch progress")
    add_model_arguments(p)
    add_cache_arguments(p)
    add_mel_arguments(p)
    p.set_defaults(run=run)
    return p


def _threshold(value):
    """A number, or the text as given (``"f1"``; CNNTagger refuses any other)."""
    try:
        return float(value)
    except ValueError:
        return value


def run(args):
    out = Path(args.output)
    check_output_path(out)  # before training, not after
    data = Path(args.data)
    if data.suffix == ".npy":
        refuse_mel_options_with_features(args, data)
    refuse_overwrite([out], [args.labels, args.counts, args.groups, *data_inputs([data], [out])])
    threshold = _threshold(args.threshold)
    run_params = {k: v for k, v in (("batch_size", args.batch_size), ("patience", args.patience))
                  if v is not None}
    run_params.update(threshold=threshold, precision=args.precision)
    params, preset, given = tagger_params(args, **run_params)
    if threshold == "f1" and params["valid_size"] is None:
        raise CLIUsageError("--threshold f1 tunes the thresholds on the validation split, and "
                            "there is none (--valid-size 0, or a --recipe without one): give "
                            "--valid-size, e.g. 0.1")
    pretrained = PRETRAINED_RECIPES.get(args.recipe)
    if pretrained is None:
        _check_whole_track(args, data, params)
    elif data.suffix == ".npy" or set(mel_options_given(args)) - {"--offset", "--duration"}:
        raise CLIUsageError(f"--recipe {args.recipe} computes musicnn's features from an audio "
                            "folder: give one, and only --offset/--duration of the front end")
    ids, names, Y = read_matrix_csv(args.labels, what="labels")
    from ..inference import check_tag_names

    check_tag_names(names)  # the columns of `sktags tag`'s outputs
    counts = None
    if args.counts:
        c_ids, c_names, C = read_matrix_csv(args.counts, what="counts", binary=False)
        if c_names != names:
            raise CLIError(f"counts file {args.counts!r} has columns {c_names}, labels file has "
                           f"{names}")
        _, pos = align(
            ids, c_ids, what="labelled tracks", where=f"counts file {args.counts!r}",
            hint="the counts file needs a row for every labelled track",
        )
        counts = C[pos]
    weighting_cfg = WEIGHTINGS[args.weighting]
    if weighting_cfg.needs_playlist_counts and counts is None:
        raise CLIError(f"--weighting {args.weighting} needs playlist counts: pass --counts CSV")

    ckpt = Path(args.checkpoint_dir) if args.checkpoint_dir else out.with_name(out.name + ".ckpt")
    created = not ckpt.exists()
    ckpt.mkdir(parents=True, exist_ok=True)
    try:
        X, kept_ids, Y, counts, groups, front, verbose = _prepare(
            args, ids, Y, counts, ckpt, pretrained, musicnn=params.get("module") == "musicnn")
        check_training_labels(Y, names, args.labels)
    except BaseException:
        # Nothing was trained: leave no checkpoint folder behind for a failed start.
        if created:
            shutil.rmtree(ckpt, ignore_errors=True)
        raise

    from sklearn.pipeline import Pipeline

    from ..models import CNNTagger, EmbeddingTagger

    weighting = weighting_cfg.make_estimator()
    tagger = (CNNTagger if pretrained is None else EmbeddingTagger)(
        **params,
        **run_params,
        weighting=weighting,
        device=args.device,
        random_state=args.random_state,
        checkpoint_dir=str(ckpt / "tagger"),
        verbose=verbose,
    )
    for line in describe(params, preset, given, args.recipe):
        print(line)
    print(f"training on {len(Y)} tracks x {len(names)} contexts, features {_shape(X)}, "
          f"weighting={args.weighting}, device={args.device}")
    start = time.perf_counter()
    fit_kwargs = {}
    if counts is not None:
        fit_kwargs["playlist_counts"] = counts
    if groups is not None:
        fit_kwargs["groups"] = groups
    try:
        tagger.fit(X, Y, **fit_kwargs)
    except KeyboardInterrupt:
        # CNNTagger re-raises Ctrl-C once the last completed epoch is checkpointed;
        # the model is not finished, so it is not written.
        print(f"sktags train: interrupted; no model written. Run the same command again to "
              f"resume from the last completed epoch (checkpoints in {ckpt})", file=sys.stderr)
        return 130
    except BaseException:
        # A fit that fails before completing an epoch (bad --valid-size, no CUDA, ...)
        # has nothing to resume from: remove the checkpoint folder this run created.
        if created and not any(ckpt.rglob("checkpoint.pt")):
            shutil.rmtree(ckpt, ignore_errors=True)
        raise
    elapsed = time.perf_counter() - start
    pipeline = Pipeline([("mel" if pretrained is None else "embedding", front), ("tagger", tagger)])
    bundle = {"target_names": list(names), "pipeline": pipeline, "weighting": args.weighting,
              "n_train": int(len(Y))}
    save_model(out, bundle)
    if not args.checkpoint_dir:
        shutil.rmtree(ckpt, ignore_errors=True)
    print(f"trained in {elapsed:.1f} s; model written to {out}")
    return 0


def _check_whole_track(args, data, params):
    """Whole tracks have different lengths: they need crops (usage errors, exit status 2)."""
    crops = params["crop_frames"] is not None
    if data.suffix == ".npy":
        from ..features import load_features

        ragged = hasattr(load_features(data, ragged=True)[0], "lengths")
        if args.whole_track and not ragged:
            raise CLIUsageError(
                f"--whole-track: {str(data)!r} holds fixed excerpts; extract whole tracks "
                "with `sktags extract --whole-track`, or drop the option"
            )
        if ragged and not crops:
            raise CLIUsageError(
                f"{str(data)!r} holds whole tracks of different lengths: train on crops "
                "with --crop-frames N or --recipe real-music"
            )
    elif args.whole_track:
        clash = [f for f, v in (("--duration", args.duration), ("--offset", args.offset))
                 if v is not None]
        if clash:
            raise CLIUsageError(f"--whole-track reads whole files: drop {', '.join(clash)}")
        if not crops:
            raise CLIUsageError(
                "--whole-track trains on tracks of different lengths: it needs "
                "--crop-frames N or --recipe real-music"
            )


def _shape(X):
    """The features' shape, or their lengths for whole tracks."""
    lengths = getattr(X, "lengths", None)
    if lengths is None:
        return tuple(X.shape[1:])
    return (f"whole tracks of {X.n_mels} mel bands x {int(lengths.min())}-"
            f"{int(lengths.max())} frames")


def _prepare(args, ids, Y, counts, ckpt, pretrained, musicnn):
    """Features, aligned labels, counts, groups and the front end (to save) of the run.

    ``pretrained``: the MusicnnEmbedding parameters of a pretrained recipe,
    whose embeddings are the features; ``musicnn``: musicnn's front end.
    """
    from ..features import MelSpectrogramTransformer

    data = Path(args.data)
    if data.suffix == ".npy":
        from ..features import load_features

        _, meta = load_features(data, ragged=True)
        transformer_params = {k: v for k, v in meta["transformer"].items() if k in MEL_KEYS}
    else:
        transformer_params = mel_params(args, musicnn=musicnn or pretrained is not None)
        if args.whole_track:
            transformer_params.update(duration=None, offset=0.0)
    front = MelSpectrogramTransformer(**transformer_params)
    verbose = 0 if args.quiet else 1
    if pretrained is not None:
        from sklearn.base import clone

        from ..pretrained import MusicnnEmbedding

        front = MusicnnEmbedding(**pretrained, offset=transformer_params["offset"],
                                 duration=transformer_params["duration"])
        X, kept_ids, keep = features_for(
            [data], ids, mel=clone(front).set_params(n_jobs=args.jobs, memory=args.cache,
                                                     device=args.device),
            what="labelled tracks", skip_missing=args.skip_missing, verbose=verbose)
    elif data.suffix != ".npy" and data.is_dir():
        # Extract once into the checkpoint folder, so that a resumed run skips it.
        X, kept_ids, keep = _features_in_checkpoint(data, ids, args, ckpt, verbose,
                                                    transformer_params)
    else:
        mel = make_transformer(transformer_params, cache=args.cache, jobs=args.jobs)
        X, kept_ids, keep = features_for(
            [data], ids, mel=mel, what="labelled tracks", skip_missing=args.skip_missing,
            verbose=verbose, command="train", ragged=True,
        )
    if keep is not None and len(keep) < len(ids):
        print(f"using {len(keep)} of {len(ids)} labelled tracks")
        Y = Y[keep]
        counts = None if counts is None else counts[keep]
    groups = None
    if args.groups:
        table = read_groups_csv(args.groups, args.group_column)
        missing = [t for t in kept_ids if t not in table]
        if missing:
            raise CLIError(f"{len(missing)} tracks have no group in {args.groups!r} "
                           f"(e.g. {missing[0]!r})")
        groups = np.asarray([table[t] for t in kept_ids])
    return X, kept_ids, Y, counts, groups, front, verbose


def _features_in_checkpoint(folder, ids, args, ckpt, verbose, params):
    """Extract the labelled tracks' features into ``ckpt``, or reuse them (a resumed run)."""
    from ..features import write_features

    by_id = audio_by_id(folder)
    keep, _ = align(ids, list(by_id), what="labelled tracks", where=str(folder),
                    skip_missing=args.skip_missing)
    kept_ids = [ids[i] for i in keep]
    mel = make_transformer(params, cache=args.cache, jobs=args.jobs, verbose=verbose)
    print(f"log-mels of {len(kept_ids)} files in {ckpt / 'features.npy'} (reused when there)")
    X, _ = write_features([by_id[i] for i in kept_ids], ckpt / "features.npy", transformer=mel,
                          ids=kept_ids, reuse=True)
    return X, kept_ids, keep
