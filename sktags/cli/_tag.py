"""``sktags tag``: contexts and probabilities for any number of audio files."""

import sys
import time
from pathlib import Path

from ._errors import CLIError, CLIUsageError
from ._features import add_cache_arguments
from ._models import load_model, pretrained_model, use_model
from ._paths import check_output_path, collect_audio, refuse_overwrite

HELP = "audio files -> contexts and probabilities (table, csv, json or jsonl)"
_BY_SUFFIX = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}


def add_parser(sub):
    from ..inference import OUTPUT_FORMATS

    p = sub.add_parser(
        "tag",
        help=HELP,
        description=(
            "Tag audio files (or a feature file from `sktags extract`) with a model from "
            "`sktags train`: for each file, the contexts sorted by probability, and whether "
            "each passes the model's decision threshold. Any number of files: results are "
            "written as each file completes, with bounded memory; a file that cannot be "
            "decoded, or whose features are not finite, is reported with status 'failed'."
        ),
    )
    p.add_argument("model", nargs="?", metavar="MODEL",
                   help="model file written by `sktags train` (none with --pretrained)")
    p.add_argument("inputs", nargs="*", metavar="AUDIO",
                   help="audio files or folders (searched recursively), or one FEATURES.npy")
    p.add_argument("--files-from", metavar="LIST",
                   help="a text file of audio paths, one per line (blank lines are skipped)")
    p.add_argument("-k", "--top-k", type=int, default=None, help="show only the k most probable contexts")
    p.add_argument("--format", choices=OUTPUT_FORMATS, default=None,
                   help="output format (default: from the extension of -o, else table)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write to FILE instead of stdout: csv and jsonl row by row as files "
                        "complete (see --resume), table and json atomically at the end; "
                        "FILE.lock is held while writing")
    p.add_argument("--resume", action="store_true",
                   help="keep the well-formed rows already in the csv/jsonl output FILE and tag "
                        "the rest; refused when the model or options differ from the run that "
                        "wrote FILE (recorded in FILE.sktags-run.json)")
    p.add_argument("--taggram", metavar="FILE",
                   help="also write one CSV row per (file, window): file, window start (s), "
                        "one probability per context")
    add_pretrained_arguments(p, "musicnn's own 50 tags, as its command line gives them (whole "
                             "tracks; --taggram: per 3 s patch): ")
    add_inference_arguments(p, "tag")
    p.set_defaults(run=run)
    return p


def add_pretrained_arguments(p, what):
    """``--pretrained``: musicnn's released network instead of a model file."""
    from ..pretrained import MODELS

    p.add_argument("--pretrained", choices=list(MODELS), default=None,
                   help=what + "msd (Million Song Dataset's Last.fm tags) or mtt (MagnaTagATune)")


def pretrained_inputs(args):
    """With ``--pretrained`` there is no MODEL: the first positional argument is audio."""
    if args.pretrained:
        args.inputs, args.model = [args.model, *args.inputs] if args.model else args.inputs, None
    elif args.model is None:
        raise CLIUsageError("give a MODEL file, or --pretrained msd|mtt")


def add_inference_arguments(p, verb):
    """The options of running a trained model over audio (``tag`` and ``embed``)."""
    p.add_argument("--whole-track", action="store_true",
                   help=f"{verb} each whole file in windows (models trained with --crop-frames)")
    p.add_argument("--device", default=None, help="torch device: auto, cpu, cuda, cuda:1, mps...")
    p.add_argument("--batch-size", type=int, default=32, help="clips per forward pass")
    add_cache_arguments(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress line")


class Progress:
    """A one-line progress report on stderr, only when stderr is a terminal."""

    def __init__(self, total, enabled, verb="tag"):
        self.total, self.done, self.failed, self.verb = total, 0, 0, verb
        self.enabled = enabled and sys.stderr.isatty()
        self.start = self._shown = time.monotonic()

    def __call__(self, result):
        self.done += 1
        self.failed += not result.ok
        now = time.monotonic()
        if self.enabled and (now - self._shown >= 0.2 or self.done == self.total):
            self._shown = now
            rate = self.done / max(now - self.start, 1e-9)
            sys.stderr.write(f"\r{self.verb}: {self.done}/{self.total} files, {rate:.1f} "
                             f"files/s, {self.failed} failed ")
            sys.stderr.flush()

    def close(self):
        if self.enabled and self.done:
            sys.stderr.write("\n")


def _read_list(path):
    """Audio paths of a list file; names that are not UTF-8 are kept (surrogateescape)."""
    path = Path(path)
    if not path.is_file():
        raise CLIError(f"list file not found: {str(path)!r}")
    with open(path, encoding="utf-8-sig", errors="surrogateescape") as fh:
        return [line.rstrip("\r\n") for line in fh if line.strip()]


def run(args):
    from ..features import check_front_end, content_digest, load_features
    from ..inference import TagOutput, tag_features, tag_files

    pretrained_inputs(args)
    fmt = args.format or _BY_SUFFIX.get(Path(args.output or "").suffix.lower(), "table")
    if args.resume and (not args.output or fmt not in ("csv", "jsonl")):
        raise CLIUsageError("--resume needs -o FILE in csv or jsonl format")
    for out in (args.output, args.taggram):
        if out:
            check_output_path(out)
    if not args.inputs and not args.files_from:
        raise CLIUsageError("give audio files or folders, or --files-from LIST")
    features = len(args.inputs) == 1 and Path(args.inputs[0]).suffix == ".npy"
    if any(Path(i).suffix == ".npy" for i in args.inputs) and (len(args.inputs) > 1 or args.files_from):
        raise CLIError("a feature file (.npy) must be the only input; tag audio files separately")
    if features and args.whole_track:
        raise CLIError("--whole-track needs audio files, not a feature file")
    refuse_overwrite([args.output, args.taggram], [args.model, args.files_from, *args.inputs])

    bundle = (pretrained_model(args.pretrained, batch_size=args.batch_size) if args.pretrained
              else load_model(args.model))
    pipeline = bundle["pipeline"]
    mel, tagger = use_model(bundle, device=args.device, whole_track=args.whole_track,
                            cache=args.cache)
    if features:
        X, index = load_features(args.inputs[0])
        check_front_end(index, mel, args.inputs[0])
        files = [str(f) for f in (index.get("files") or index["ids"])]
    else:
        files = [str(p) for p in collect_audio(args.inputs)] if args.inputs else []
        if args.files_from:
            files += _read_list(args.files_from)
        if not files:
            raise CLIError(f"the list file {args.files_from!r} names no audio file")
        refuse_overwrite([args.output, args.taggram], files)

    output = TagOutput(
        args.output, target_names=bundle["target_names"], format=fmt, top_k=args.top_k,
        taggram=args.taggram, seconds_per_frame=float(mel.hop_length) / float(mel.sr),
        resume=args.resume,
        provenance={**(bundle.get("provenance") or {"model_sha256": content_digest(args.model).hex()}),
                    "whole_track": bool(args.whole_track)})
    with output:
        todo = [i for i, f in enumerate(files) if f not in output.done]
        progress = Progress(len(todo), enabled=not args.quiet)
        try:
            if features:
                results = (r for r in tag_features(
                    tagger, X, files, failed=index["failed"], errors=index.get("errors") or [],
                    batch_size=args.batch_size, windows=bool(args.taggram))
                    if r.file not in output.done)
            else:
                results = tag_files(pipeline, [files[i] for i in todo], batch_size=args.batch_size,
                                    n_jobs=args.jobs, windows=bool(args.taggram))
            for r in results:
                output.write(r)
                progress(r)
        finally:
            progress.close()
    failed = (f"; {output.n_failed} could not be decoded or were not finite (status failed)"
              if output.n_failed else "")
    if args.output:
        skipped = f", {len(files) - len(todo)} already done" if args.resume else ""
        redone = f" ({output.dropped} damaged rows dropped and redone)" if output.dropped else ""
        print(f"{len(todo)} files tagged{skipped}{redone}{failed}; written to {args.output}")
    elif output.n_failed:
        print(f"sktags tag: {output.n_failed} files could not be decoded or were not finite "
              "(status failed)", file=sys.stderr)
    return 0
