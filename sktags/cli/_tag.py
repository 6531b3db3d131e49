"""``sktags tag``: contexts and probabilities for any number of audio files."""

import csv
import io
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from ._common import (
    CLIError,
    check_front_end,
    check_output_path,
    collect_audio,
    load_features,
    load_model,
)
from ._models import use_model
from ._paths import refuse_overwrite

HELP = "audio files -> contexts and probabilities (table, csv, json or jsonl)"
_STREAMED = ("csv", "jsonl")
_BY_SUFFIX = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}


def add_parser(sub):
    p = sub.add_parser(
        "tag",
        help=HELP,
        description=(
            "Tag audio files (or a feature file from `sktags extract`) with a model from "
            "`sktags train`: for each file, the contexts sorted by probability, and whether "
            "each passes the model's decision threshold. Any number of files: results are "
            "written as each file completes, with bounded memory; an undecodable file is "
            "reported with status 'failed'."
        ),
    )
    p.add_argument("model", metavar="MODEL", help="model file written by `sktags train`")
    p.add_argument("inputs", nargs="*", metavar="AUDIO",
                   help="audio files or folders (searched recursively), or one FEATURES.npy")
    p.add_argument("--files-from", metavar="LIST",
                   help="a text file of audio paths, one per line (blank lines are skipped)")
    p.add_argument("-k", "--top-k", type=int, default=None, help="show only the k most probable contexts")
    p.add_argument("--format", choices=["table", "csv", "json", "jsonl"], default=None,
                   help="output format (default: from the extension of -o, else table)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write to FILE instead of stdout: csv and jsonl row by row as files "
                        "complete (see --resume), table and json atomically at the end")
    p.add_argument("--resume", action="store_true",
                   help="keep the files already in the csv/jsonl output FILE and tag the rest")
    p.add_argument("--taggram", metavar="FILE",
                   help="also write one CSV row per (file, window): file, window start (s), "
                        "one probability per context")
    add_inference_arguments(p, "tag")
    p.set_defaults(run=run)
    return p


def add_inference_arguments(p, verb):
    """The options of running a trained model over audio (``tag`` and ``embed``)."""
    p.add_argument("--whole-track", action="store_true",
                   help=f"{verb} each whole file in windows (models trained with --crop-frames)")
    p.add_argument("--device", default=None, help="torch device: auto, cpu, cuda, cuda:1, mps...")
    p.add_argument("--batch-size", type=int, default=32, help="clips per forward pass")
    p.add_argument("--jobs", "-j", type=int, default=None,
                   help="parallel decoding processes (-1: all cores)")
    p.add_argument("--cache", metavar="DIR", default=None, help="per-file feature cache directory")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress line")


# --------------------------------------------------------------------------- rows


def _order(p, top_k):
    return np.argsort(-p, kind="stable")[: top_k or len(p)]


def csv_header(names):
    """Columns of the CSV summary: one row per file."""
    return ["file", "status", "error", "top", "predicted", *names]


def _csv_line(fields):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(fields)
    return buf.getvalue()


def render(result, names, fmt, top_k):
    """One file's summary as text in ``fmt`` (csv and jsonl: exactly one row)."""
    if fmt == "csv":
        if not result.ok:
            return _csv_line([result.file, "failed", result.error, "", "", *[""] * len(names)])
        order = _order(result.proba, top_k)
        passed = [names[j] for j in np.argsort(-result.proba, kind="stable") if result.predicted[j]]
        return _csv_line([result.file, "ok", "", ";".join(names[j] for j in order),
                          ";".join(passed), *(f"{v:.6f}" for v in result.proba)])
    if fmt in ("json", "jsonl"):
        if not result.ok:
            obj = {"file": result.file, "status": "failed", "error": result.error}
        else:
            order = _order(result.proba, top_k)
            obj = {"file": result.file, "status": "ok",
                   "tags": [{"context": names[j], "probability": round(float(result.proba[j]), 6),
                             "predicted": bool(result.predicted[j])} for j in order],
                   "predicted": [names[j] for j in np.argsort(-result.proba, kind="stable")
                                 if result.predicted[j]]}
        return json.dumps(obj, indent=None if fmt == "jsonl" else 1) + ("\n" if fmt == "jsonl" else "")
    if not result.ok:
        return f"{result.file}\n  FAILED: {result.error}\n"
    width = max(len(c) for c in names)
    lines = [result.file]
    for j in _order(result.proba, top_k):
        p = result.proba[j]
        lines.append(f"  {names[j]:<{width}}  {p:6.3f}  {'*' if result.predicted[j] else ' '} "
                     + "#" * int(round(p * 20)))
    return "\n".join(lines) + "\n"


def taggram_rows(result, seconds_per_frame):
    """CSV rows of one file's taggram: file, window start (s), probabilities."""
    if not result.ok or result.window_proba is None:
        return ""
    return "".join(
        _csv_line([result.file, f"{s * seconds_per_frame:.3f}", *(f"{v:.6f}" for v in p)])
        for s, p in zip(result.window_starts, result.window_proba)
    )


class _Sink:
    """Where rows go: stdout, a resumable stream, or an atomic file."""

    def __init__(self, path, fmt, *, header="", keep=None, opening="", closing=""):
        from ..inference import StreamWriter

        self.path, self.closing, self._first = path, closing, True
        self._atomic = self._tmp = None
        self.fmt = fmt
        if path is None:
            self._out = None
            sys.stdout.write(header + opening)
        elif fmt in _STREAMED or fmt == "taggram":
            self._out = StreamWriter(path, header=header, keep=keep)
        else:
            from ..utils._atomic import atomic_path

            self._atomic = atomic_path(path)
            self._tmp = self._atomic.__enter__()
            self._out = open(self._tmp, "w", encoding="utf-8")
            self._out.write(opening)

    def write(self, text):
        if not text:
            return
        if self.fmt == "json":
            text = ("" if self._first else ",\n") + text
            self._first = False
        if self._out is None:
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            self._out.write(text)

    def close(self, ok=True):
        if self._out is None:
            sys.stdout.write(self.closing)
            return
        if self._atomic is None:
            self._out.close()
            return
        self._out.write(self.closing)
        self._out.close()
        if ok:
            self._atomic.__exit__(None, None, None)
        else:
            os.unlink(self._tmp)


class _Progress:
    """A one-line progress report on stderr, only when stderr is a terminal."""

    def __init__(self, total, enabled):
        self.total, self.done, self.failed = total, 0, 0
        self.enabled = enabled and sys.stderr.isatty()
        self.start = self._shown = time.monotonic()

    def update(self, ok):
        self.done += 1
        self.failed += not ok
        now = time.monotonic()
        if self.enabled and (now - self._shown >= 0.2 or self.done == self.total):
            self._shown = now
            rate = self.done / max(now - self.start, 1e-9)
            sys.stderr.write(f"\rtag: {self.done}/{self.total} files, {rate:.1f} files/s, "
                             f"{self.failed} failed ")
            sys.stderr.flush()

    def close(self):
        if self.enabled and self.done:
            sys.stderr.write("\n")


# --------------------------------------------------------------------------- inputs


def _read_list(path):
    path = Path(path)
    if not path.is_file():
        raise CLIError(f"list file not found: {str(path)!r}")
    try:
        with open(path, encoding="utf-8-sig") as fh:
            return [line.rstrip("\r\n") for line in fh if line.strip()]
    except UnicodeDecodeError as exc:
        raise CLIError(f"list file {str(path)!r} is not UTF-8 text: {exc}") from None


def _feature_results(X, meta, files, tagger, batch_size, windows):
    """TagResults from a feature file, in batches; rows listed as failed are failed."""
    from ..inference import TagResult
    from ..inference._catalogue import _windows

    failed = {}
    errors = meta.get("errors") or []
    ids = meta.get("ids") or []
    for k, f in enumerate(meta.get("failed") or []):
        row = f if isinstance(f, int) else (ids.index(f) if f in ids else None)
        if row is not None:
            failed[row] = errors[k] if k < len(errors) else "could not be decoded at extraction"
    thresholds = np.asarray(tagger.thresholds_, dtype=np.float64)
    for start in range(0, len(X), batch_size):
        rows = [i for i in range(start, min(start + batch_size, len(X))) if i not in failed]
        win = _windows(tagger, np.asarray(X[rows])) if rows else []
        k = 0
        for i in range(start, min(start + batch_size, len(X))):
            if i in failed:
                yield TagResult(i, files[i], failed[i])
                continue
            s, p = win[k]
            k += 1
            proba = p.mean(axis=0)
            yield TagResult(i, files[i], None, proba, proba >= thresholds,
                            s if windows else None, p if windows else None)


# --------------------------------------------------------------------------- run


def _usage(message):
    """A usage error: one line on stderr, exit status 2 (as argparse's)."""
    print(f"sktags tag: error: {message} (see 'sktags tag --help')", file=sys.stderr)
    return 2


def run(args):
    from ..inference import prefix_of_files, read_done, tag_files

    if args.top_k is not None and args.top_k < 1:
        raise CLIError(f"--top-k must be at least 1, got {args.top_k}")
    if args.batch_size < 1:
        raise CLIError(f"--batch-size must be at least 1, got {args.batch_size}")
    fmt = args.format or _BY_SUFFIX.get(Path(args.output or "").suffix.lower(), "table")
    if args.resume and (not args.output or fmt not in _STREAMED):
        return _usage("--resume needs -o FILE in csv or jsonl format")
    for out in (args.output, args.taggram):
        if out:
            check_output_path(out)
    if not args.inputs and not args.files_from:
        return _usage("give audio files or folders, or --files-from LIST")
    features = len(args.inputs) == 1 and Path(args.inputs[0]).suffix == ".npy"
    if any(Path(i).suffix == ".npy" for i in args.inputs) and (len(args.inputs) > 1 or args.files_from):
        raise CLIError("a feature file (.npy) must be the only input; tag audio files separately")
    if features and args.whole_track:
        raise CLIError("--whole-track needs audio files, not a feature file")
    named = [args.model, args.files_from, *args.inputs]
    refuse_overwrite([args.output, args.taggram], named)

    bundle = load_model(args.model)
    pipeline = bundle["pipeline"]
    names = list(bundle["target_names"])
    mel, tagger = use_model(bundle, device=args.device, whole_track=args.whole_track)

    if features:
        X, meta = load_features(args.inputs[0])
        check_front_end(meta, mel, args.inputs[0])
        files = [str(f) for f in (meta.get("files") or meta["ids"])]
    else:
        files = [str(p) for p in collect_audio(args.inputs)] if args.inputs else []
        if args.files_from:
            files += _read_list(args.files_from)
        if not files:
            raise CLIError(f"the list file {args.files_from!r} names no audio file")
        refuse_overwrite([args.output, args.taggram], files)

    header = _csv_line(csv_header(names)) if fmt == "csv" else ""
    keep = tkeep = None
    done = set()
    if args.resume:
        try:
            done, keep = read_done(args.output, fmt, csv_header(names) if fmt == "csv" else None)
            if args.taggram:
                tkeep = prefix_of_files(args.taggram, "csv", done)
        except (ValueError, UnicodeDecodeError) as exc:
            raise CLIError(str(exc).splitlines()[0]) from None
    todo = [i for i, f in enumerate(files) if f not in done]

    opening, closing = {"json": ("[\n", "\n]\n"),
                        "table": ("", "(* = above the model's decision threshold)\n")}.get(fmt, ("", ""))
    sink = _Sink(args.output, fmt, header=header, keep=keep, opening=opening, closing=closing)
    gram = None
    if args.taggram:
        gram = _Sink(args.taggram, "taggram", header=_csv_line(["file", "start", *names]), keep=tkeep)
    seconds = float(mel.hop_length) / float(mel.sr)
    progress = _Progress(len(todo), enabled=not args.quiet)
    ok = False
    try:
        if features:
            results = _feature_results(X, meta, files, tagger, args.batch_size,
                                       bool(args.taggram))
            results = (r for r in results if r.file not in done)
        else:
            results = tag_files(pipeline.set_params(mel__memory=args.cache), [files[i] for i in todo],
                                batch_size=args.batch_size, n_jobs=args.jobs,
                                windows=bool(args.taggram))
        for r in results:
            if gram is not None:
                gram.write(taggram_rows(r, seconds))
            sink.write(render(r, names, fmt, args.top_k))
            progress.update(r.ok)
        ok = True
    finally:
        progress.close()
        if gram is not None:
            gram.close(ok)
        sink.close(ok)
    n_failed = progress.failed
    failed_note = f"; {n_failed} could not be decoded (status failed)" if n_failed else ""
    if args.output:
        skipped = f", {len(files) - len(todo)} already done" if args.resume else ""
        print(f"{len(todo)} files tagged{skipped}{failed_note}; written to {args.output}")
    elif n_failed:
        print(f"sktags tag: {n_failed} files could not be decoded (status failed)", file=sys.stderr)
    return 0
