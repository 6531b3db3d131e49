"""``sktags tag``: contexts and probabilities for audio files."""

import csv
import io
import json
from pathlib import Path

import numpy as np

from ._common import (
    CLIError,
    check_front_end,
    collect_audio,
    load_features,
    load_model,
    write_text_atomic,
)

HELP = "audio files -> contexts and probabilities (table, csv or json)"


def add_parser(sub):
    p = sub.add_parser(
        "tag",
        help=HELP,
        description=(
            "Tag audio files (or a feature file from `sktags extract`) with a model from "
            "`sktags train`: for each file, the contexts sorted by probability, and whether "
            "each passes the model's decision threshold."
        ),
    )
    p.add_argument("model", metavar="MODEL", help="model file written by `sktags train`")
    p.add_argument("inputs", nargs="+", metavar="AUDIO", help="audio files or folders, or one FEATURES.npy")
    p.add_argument("-k", "--top-k", type=int, default=None, help="show only the k most probable contexts")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table", help="output format")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically) instead of stdout")
    p.add_argument("--jobs", "-j", type=int, default=None, help="parallel decoding processes")
    p.add_argument("--cache", metavar="DIR", default=None, help="per-file feature cache directory")
    p.set_defaults(run=run)
    return p


def _rows(names, probas, decisions, top_k):
    out = []
    for p, d in zip(probas, decisions):
        order = np.argsort(-p, kind="stable")[: top_k or len(names)]
        out.append([(names[j], float(p[j]), bool(d[j])) for j in order])
    return out


def format_tags(files, names, probas, decisions, *, top_k=None, fmt="table"):
    """Render tagging results as a table, CSV (long format) or JSON."""
    rows = _rows(names, probas, decisions, top_k)
    if fmt == "json":
        return json.dumps(
            [
                {
                    "file": f,
                    "tags": [{"context": c, "probability": round(p, 6), "predicted": d} for c, p, d in r],
                    "predicted": [c for c, _, d in r if d],
                }
                for f, r in zip(files, rows)
            ],
            indent=1,
        ) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["file", "rank", "context", "probability", "predicted"])
        for f, r in zip(files, rows):
            for rank, (c, p, d) in enumerate(r, start=1):
                w.writerow([f, rank, c, f"{p:.6f}", int(d)])
        return buf.getvalue()
    width = max(len(c) for c in names)
    lines = []
    for f, r in zip(files, rows):
        lines.append(f)
        for c, p, d in r:
            bar = "#" * int(round(p * 20))
            lines.append(f"  {c:<{width}}  {p:6.3f}  {'*' if d else ' '} {bar}")
    lines.append("(* = above the model's decision threshold)")
    return "\n".join(lines) + "\n"


def run(args):
    if args.top_k is not None and args.top_k < 1:
        raise CLIError(f"--top-k must be at least 1, got {args.top_k}")
    bundle = load_model(args.model)
    pipeline = bundle["pipeline"]
    names = bundle["target_names"]
    tagger = pipeline.named_steps["tagger"]
    if len(args.inputs) > 1 and any(Path(i).suffix == ".npy" for i in args.inputs):
        raise CLIError("a feature file (.npy) must be the only input; tag audio files separately")
    if len(args.inputs) == 1 and Path(args.inputs[0]).suffix == ".npy":
        X, meta = load_features(args.inputs[0])
        check_front_end(meta, pipeline.named_steps["mel"], args.inputs[0])
        files = meta.get("files") or meta["ids"]
    else:
        paths = collect_audio(args.inputs)
        files = [str(p) for p in paths]
        mel = pipeline.named_steps["mel"].set_params(n_jobs=args.jobs, memory=args.cache)
        X = mel.transform(files)
    probas = np.asarray(tagger.predict_proba(X))
    decisions = probas >= np.asarray(tagger.thresholds_)  # what tagger.predict decides
    text = format_tags(files, names, probas, decisions, top_k=args.top_k, fmt=args.format)
    if args.output:
        write_text_atomic(args.output, text)
        print(f"{len(files)} files tagged; written to {args.output}")
    else:
        print(text, end="")
    return 0
