"""``sktags embed``: audio files -> embeddings of a trained tagger (.npy + .json index)."""

import sys
import time
from pathlib import Path

from ._errors import CLIError, CLIUsageError
from ._models import load_model, pretrained_model, use_model
from ._paths import check_output_path, collect_audio, refuse_overwrite
from ._tag import Progress, add_inference_arguments, add_pretrained_arguments, pretrained_inputs

HELP = "audio files -> embeddings of a trained model (.npy + .json index)"


def add_parser(sub):
    p = sub.add_parser(
        "embed",
        help=HELP,
        description=(
            "Write the embeddings of audio files under a model from `sktags train` (the input "
            "of its last linear layer, averaged over windows) to one .npy array of shape "
            "(n_files, d), float32, with a .json index beside it (track ids = file names "
            "without extension, files, failed rows), as `sktags extract` does. Rows of files "
            "that cannot be decoded are NaN and listed in the index as failed. With "
            "--pretrained msd|mtt, no model file: musicnn's embeddings (see --layer, --pooling)."
        ),
    )
    p.add_argument("model", nargs="?", metavar="MODEL",
                   help="model file written by `sktags train` (none with --pretrained)")
    p.add_argument("inputs", nargs="*", metavar="AUDIO", help="audio files or folders")
    p.add_argument("-o", "--output", required=True, metavar="EMB.npy", help="output file")
    add_pretrained_arguments(p, "embeddings of musicnn's released network (whole tracks): ")
    p.add_argument("--layer", choices=("penultimate", "pooled", "taggram"), default=None,
                   help="with --pretrained: 200 penultimate features (default), the 1,506 "
                   "pooled ones, or the 50 tag probabilities")
    p.add_argument("--pooling", choices=("mean", "max", "mean+max"), default=None,
                   help="with --pretrained: over the 3 s patches (default: mean)")
    add_inference_arguments(p, "embed")
    p.set_defaults(run=run)
    return p


def run(args):
    from ..features import features_index_path
    from ..inference import embed_to_file

    out = Path(args.output)
    index = features_index_path(out)
    if out.suffix != ".npy":
        raise CLIError(f"output must end with .npy, got {str(out)!r}")
    check_output_path(out)
    check_output_path(index)
    if not args.pretrained and (args.layer or args.pooling):
        raise CLIUsageError("--layer and --pooling go with --pretrained")
    pretrained_inputs(args)
    refuse_overwrite([out, index], [args.model, *args.inputs])
    if not args.inputs:
        raise CLIUsageError("give audio files or folders")
    files = collect_audio(args.inputs, outputs=[out, index])

    bundle = (pretrained_model(args.pretrained, layer=args.layer or "penultimate",
                               pooling=args.pooling or "mean", batch_size=args.batch_size)
              if args.pretrained else load_model(args.model))
    pipeline = bundle["pipeline"]
    if not hasattr(use_model(bundle, device=args.device, whole_track=args.whole_track,
                             cache=args.cache)[1], "transform"):
        raise CLIError(f"{args.model!r} gives no embeddings of its own; use --pretrained")
    start = time.perf_counter()
    progress = Progress(len(files), enabled=not args.quiet, verb="embed")
    try:
        E, meta = embed_to_file(pipeline, files, out, batch_size=args.batch_size,
                                n_jobs=args.jobs, callback=progress)
    finally:
        progress.close()
    print(f"{len(files)} files -> {out} {E.shape} float32 in {time.perf_counter() - start:.1f} s; "
          f"index {index}")
    failed = meta["failed"]
    if failed:
        print(f"{len(failed)} files could not be decoded; their rows are NaN: "
              + ", ".join(meta["ids"][i] for i in failed[:5]) + (" ..." if len(failed) > 5 else ""),
              file=sys.stderr)
    return 0
