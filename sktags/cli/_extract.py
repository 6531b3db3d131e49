"""``sktags extract``: audio files or folders to a log-mel feature file."""

import json
import time
import warnings
from collections import Counter
from pathlib import Path

from ._common import (
    CLIError,
    check_output_path,
    add_cache_arguments,
    add_mel_arguments,
    collect_audio,
    index_path,
    make_transformer,
    mel_params,
    write_text_atomic,
)

HELP = "audio files or folders -> log-mel feature file (.npy memmap + .json index)"


def add_parser(sub):
    p = sub.add_parser(
        "extract",
        help=HELP,
        description=(
            "Compute the paper's log-mel spectrograms of audio files (wav, flac, ogg, mp3) "
            "and store them in one .npy file, opened later as a read-only memmap, with a "
            ".json index beside it (track ids = file names without extension, and the "
            "front-end parameters). Both are written atomically."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="AUDIO", help="audio files or folders")
    p.add_argument("-o", "--output", required=True, metavar="FEATURES.npy", help="output file")
    p.add_argument(
        "--dtype",
        choices=["float32", "float16"],
        default="float32",
        help="storage type (float16 halves the size; rounding <= 0.03 on the log scale)",
    )
    p.add_argument(
        "--on-error",
        choices=["raise", "zeros"],
        default="raise",
        help="stop at an undecodable file, or store zeros for it and list it",
    )
    p.add_argument("--no-recursive", action="store_true", help="do not descend into sub-folders")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_cache_arguments(p)
    add_mel_arguments(p)
    p.set_defaults(run=run)
    return p


def run(args):
    from ..features import extract_to_file

    out = Path(args.output)
    if out.suffix != ".npy":
        raise CLIError(f"output must end with .npy, got {str(out)!r}")
    check_output_path(out)
    check_output_path(index_path(out))
    files = collect_audio(args.inputs, recursive=not args.no_recursive)
    ids = [f.stem for f in files]
    dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
    if dupes:
        raise CLIError(f"several files share the track id {dupes[0]!r} (file name without extension)")
    params = mel_params(args)
    mel = make_transformer(
        params, cache=args.cache, jobs=args.jobs, verbose=0 if args.quiet else 1,
        on_error=args.on_error,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        # With --on-error zeros the failed files are listed below, one line.
        warnings.filterwarnings("ignore", message=r"MelSpectrogramTransformer: .* could not be read")
        result = extract_to_file([str(f) for f in files], out, transformer=mel, dtype=args.dtype)
    X = result.features
    elapsed = time.perf_counter() - start
    failed = result.failed.tolist()
    meta = {
        "format": "sktags-features",
        "ids": ids,
        "files": [str(f) for f in files],
        "shape": list(X.shape),
        "dtype": args.dtype,
        "transformer": params,
        "failed": [ids[i] for i in failed],
    }
    write_text_atomic(index_path(out), json.dumps(meta, indent=1))
    print(
        f"{len(files)} files -> {out} {tuple(X.shape)} {args.dtype} "
        f"in {elapsed:.1f} s ({len(files) / max(elapsed, 1e-9):.1f} files/s); index {index_path(out)}"
    )
    if failed:
        print(f"{len(failed)} files could not be decoded and are stored as zeros: "
              + ", ".join(meta["failed"][:5]) + (" ..." if len(failed) > 5 else ""))
    return 0
