"""``sktags embed``: audio files -> embeddings of a trained tagger (.npy + .json index)."""

import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from ._common import CLIError, check_output_path, collect_audio, index_path, load_model, write_text_atomic
from ._models import use_model
from ._paths import refuse_overwrite
from ._tag import _Progress, add_inference_arguments

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
            "that cannot be decoded are NaN and listed in the index as failed."
        ),
    )
    p.add_argument("model", metavar="MODEL", help="model file written by `sktags train`")
    p.add_argument("inputs", nargs="+", metavar="AUDIO", help="audio files or folders")
    p.add_argument("-o", "--output", required=True, metavar="EMB.npy", help="output file")
    add_inference_arguments(p, "embed")
    p.set_defaults(run=run)
    return p


def run(args):
    from ..inference import tag_files
    from ..utils._atomic import atomic_path

    out = Path(args.output)
    if out.suffix != ".npy":
        raise CLIError(f"output must end with .npy, got {str(out)!r}")
    if args.batch_size < 1:
        raise CLIError(f"--batch-size must be at least 1, got {args.batch_size}")
    check_output_path(out)
    check_output_path(index_path(out))
    refuse_overwrite([str(out), str(index_path(out))], [args.model, *args.inputs])
    files = collect_audio(args.inputs)
    refuse_overwrite([str(out), str(index_path(out))], [str(f) for f in files])
    ids = [f.stem for f in files]
    dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
    if dupes:
        raise CLIError(f"several files share the track id {dupes[0]!r} (file name without extension)")

    bundle = load_model(args.model)
    pipeline = bundle["pipeline"]
    mel, tagger = use_model(bundle, device=args.device, whole_track=args.whole_track)
    pipeline.set_params(mel__memory=args.cache)

    start = time.perf_counter()
    progress = _Progress(len(files), enabled=not args.quiet)
    failed, errors = [], []
    with atomic_path(out, suffix=".npy") as tmp:
        E = None
        try:
            for r in tag_files(pipeline, files, batch_size=args.batch_size, n_jobs=args.jobs,
                               embed=True, tag=False):
                if r.ok and E is None:
                    E = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32,
                                                  shape=(len(files), r.embedding.shape[0]))
                    E[: r.position] = np.nan
                if r.ok:
                    E[r.position] = r.embedding
                else:
                    failed.append(r.position)
                    errors.append(r.error)
                    if E is not None:
                        E[r.position] = np.nan
                progress.update(r.ok)
        finally:
            progress.close()
        if E is None:
            raise CLIError(f"none of the {len(files)} files could be decoded (first: "
                           f"{files[failed[0]]}: {errors[0]})")
        shape = E.shape
        E.flush()
        del E
    meta = {
        "format": "sktags-embeddings",
        "ids": ids,
        "files": [str(f) for f in files],
        "shape": list(shape),
        "dtype": "float32",
        "model": str(args.model),
        "transformer": {k: getattr(mel, k) for k in
                        ("sr", "n_fft", "hop_length", "n_mels", "offset", "duration", "compression")},
        "failed": failed,
        "errors": errors,
    }
    write_text_atomic(index_path(out), json.dumps(meta, indent=1))
    elapsed = time.perf_counter() - start
    print(f"{len(files)} files -> {out} {tuple(shape)} float32 in {elapsed:.1f} s; "
          f"index {index_path(out)}")
    if failed:
        print(f"{len(failed)} files could not be decoded; their rows are NaN: "
              + ", ".join(ids[i] for i in failed[:5]) + (" ..." if len(failed) > 5 else ""),
              file=sys.stderr)
    return 0
