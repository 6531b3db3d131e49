"""``sktags extract``: audio files or folders to a log-mel feature file."""

import time
import warnings
from pathlib import Path

from ._errors import CLIError, CLIUsageError
from ._features import add_cache_arguments, add_mel_arguments, make_transformer, mel_params
from ._paths import check_output_path, collect_audio

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
    p.add_argument(
        "--whole-track", action="store_true",
        help="whole files (offset 0, no --duration) in the ragged layout: FEATURES.npy holds "
        "the frames (total_frames, n_mels), FEATURES.offsets.npy where each track starts",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_cache_arguments(p)
    add_mel_arguments(p)
    p.set_defaults(run=run)
    return p


def run(args):
    from ..features import features_index_path, write_features

    out = Path(args.output)
    if out.suffix != ".npy":
        raise CLIError(f"output must end with .npy, got {str(out)!r}")
    index_file = features_index_path(out)
    outputs = [out, index_file]
    params = mel_params(args)
    if args.whole_track:
        clash = [f for f, v in (("--duration", args.duration), ("--offset", args.offset))
                 if v is not None]
        if clash:
            raise CLIUsageError(f"--whole-track reads whole files: drop {', '.join(clash)}")
        params.update(duration=None, offset=0.0)
        outputs.append(out.with_name(out.stem + ".offsets.npy"))
    for path in outputs:
        check_output_path(path)
    files = collect_audio(args.inputs, recursive=not args.no_recursive, outputs=outputs)
    mel = make_transformer(params, cache=args.cache, jobs=args.jobs,
                           verbose=0 if args.quiet else 1, on_error=args.on_error)
    start = time.perf_counter()
    with warnings.catch_warnings():
        # With --on-error zeros the failed files are listed below, one line.
        warnings.filterwarnings("ignore", message=r"MelSpectrogramTransformer: .* could not be read")
        _, index = write_features(files, out, transformer=mel, dtype=args.dtype)
    elapsed = time.perf_counter() - start
    shape, ragged = index["shape"], index.get("layout") == "ragged"
    what = (f"whole tracks, {shape[0]} frames x {shape[1]} mel bands (offsets in "
            f"{outputs[-1]})" if ragged else str(tuple(shape)))
    print(f"{len(files)} files -> {out} {what} {args.dtype} in {elapsed:.1f} s "
          f"({len(files) / max(elapsed, 1e-9):.1f} files/s); index {index_file}")
    if index["failed"]:
        stored = "they have no frames" if ragged else "their rows are zeros"
        print(f"{len(index['failed'])} files could not be decoded; {stored}, marked failed in "
              f"the index and not used as audio: " + ", ".join(str(files[i]) for i in index["failed"]))
    return 0
