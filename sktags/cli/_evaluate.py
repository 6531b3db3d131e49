"""``sktags evaluate``: the paper's Table 1 report on a labelled set."""

import json
from pathlib import Path

import numpy as np

from ._common import CLIError, features_for, load_model, read_matrix_csv, write_text_atomic

HELP = "Table 1 report (HL, AUC, recall, precision, F1, TN rate) on a labelled set"


def add_parser(sub):
    p = sub.add_parser(
        "evaluate",
        help=HELP,
        description=(
            "Score a model from `sktags train` on labelled audio (a folder of files named by "
            "track id) or a feature file, with a labels CSV in the released dataset's format. "
            "Prints the paper's Table 1: per context and macro-averaged Hamming loss, ROC-AUC, "
            "recall, precision, F1 and true-negative rate. With --tune-on, per-context "
            "thresholds are first chosen to maximise F1 on a validation set (the authors' "
            "protocol, grid 0.00-0.99) and a second report uses them."
        ),
    )
    p.add_argument("model", metavar="MODEL", help="model file written by `sktags train`")
    p.add_argument("data", metavar="DATA", help="audio folder or FEATURES.npy")
    p.add_argument("--labels", required=True, metavar="CSV", help="true labels of DATA")
    p.add_argument("--threshold", type=float, default=0.5, help="decision threshold (default 0.5)")
    p.add_argument("--tune-on", metavar="DATA", help="validation audio folder or FEATURES.npy")
    p.add_argument("--tune-labels", metavar="CSV", help="labels of the validation set")
    p.add_argument("--json", metavar="FILE", help="also write the report(s) as JSON")
    p.add_argument("--skip-missing", action="store_true", help="ignore labelled tracks without audio/features")
    p.add_argument("--jobs", "-j", type=int, default=None, help="parallel decoding processes")
    p.add_argument("--cache", metavar="DIR", default=None, help="per-file feature cache directory")
    p.set_defaults(run=run)
    return p


def _scores(bundle, data, labels, args):
    ids, names, Y = read_matrix_csv(labels, what="labels")
    if list(names) != list(bundle["target_names"]):
        raise CLIError(
            f"labels file {labels!r} has columns {names}, the model predicts {bundle['target_names']}"
        )
    mel = bundle["pipeline"].named_steps["mel"]
    args_like = _MelArgs(mel, args)
    X, _, keep = features_for(
        [Path(data)], ids, args=args_like, what="labelled tracks", skip_missing=args.skip_missing,
        model_mel=mel,
    )
    if keep is not None:
        Y = Y[keep]
    tagger = bundle["pipeline"].named_steps["tagger"]
    return Y, np.asarray(tagger.predict_proba(X))


class _MelArgs:
    """The model's own front-end parameters, shaped like parsed arguments."""

    def __init__(self, mel, args):
        for k in ("sr", "n_fft", "hop_length", "n_mels", "offset", "duration", "compression"):
            setattr(self, k, getattr(mel, k))
        self.cache, self.jobs = args.cache, args.jobs


def run(args):
    from ..metrics import context_report, tune_thresholds

    if (args.tune_on is None) != (args.tune_labels is None):
        raise CLIError("--tune-on and --tune-labels go together")
    if not 0.0 <= args.threshold <= 1.0:
        raise CLIError(f"--threshold must be in [0, 1], got {args.threshold}")
    bundle = load_model(args.model)
    names = bundle["target_names"]
    Y, P = _scores(bundle, args.data, args.labels, args)
    report = context_report(Y, P, threshold=args.threshold, target_names=names)
    print(f"Table 1 on {len(Y)} tracks, threshold {args.threshold}:\n")
    print(report)
    results = {"n_tracks": int(len(Y)), "threshold": args.threshold, "report": report.to_dict()}
    if args.tune_on:
        Yv, Pv = _scores(bundle, args.tune_on, args.tune_labels, args)
        thresholds = np.asarray(tune_thresholds(Yv, Pv))
        tuned = context_report(Y, P, threshold=thresholds, target_names=names)
        print(f"\nWith per-context thresholds tuned for F1 on {len(Yv)} validation tracks:")
        print("  " + ", ".join(f"{n}={t:.2f}" for n, t in zip(names, thresholds)) + "\n")
        print(tuned)
        results["tuned_thresholds"] = dict(zip(names, map(float, thresholds)))
        results["tuned_report"] = tuned.to_dict()
    if args.json:
        write_text_atomic(args.json, json.dumps(results, indent=1, default=_jsonable))
    return 0


def _jsonable(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"cannot serialise {type(obj).__name__}")
