"""``sktags evaluate``: the paper's Table 1 report on a labelled set."""

import json
from pathlib import Path

import numpy as np

from ._errors import CLIError
from ._features import features_for
from ._models import load_model, use_model
from ._paths import data_inputs, check_output_path, refuse_overwrite, write_text_atomic
from ._tables import read_matrix_csv

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
    p.add_argument(
        "--threshold", type=float, default=None,
        help="decision threshold for every context (default: the model's own thresholds, "
        "as `sktags tag` and predict use them)",
    )
    p.add_argument("--tune-on", metavar="DATA", help="validation audio folder or FEATURES.npy")
    p.add_argument("--tune-labels", metavar="CSV", help="labels of the validation set")
    p.add_argument("--json", metavar="FILE", help="also write the report(s) as JSON")
    p.add_argument("--skip-missing", action="store_true", help="ignore labelled tracks without audio/features")
    p.add_argument("--jobs", "-j", type=int, default=None, help="parallel decoding processes")
    p.add_argument(
        "--whole-track", action="store_true",
        help="score whole files (offset 0, no duration limit) in windows; models trained with "
        "--crop-frames. A feature file from `sktags extract --whole-track` needs this option "
        "unless the model itself was trained on whole tracks",
    )
    p.add_argument("--device", default=None,
                   help="torch device: auto, cpu, cuda, cuda:1, mps... (default: the model's)")
    p.add_argument("--cache", metavar="DIR", default=None, help="per-file feature cache directory")
    p.set_defaults(run=run)
    return p


def _scores(bundle, data, labels, args):
    from sklearn.base import clone

    from ..inference import streaming_stages

    ids, names, Y = read_matrix_csv(labels, what="labels")
    if list(names) != list(bundle["target_names"]):
        raise CLIError(
            f"labels file {labels!r} has columns {names}, the model predicts {bundle['target_names']}"
        )
    # The model's own front end computes (or must have computed) the features.
    mel, tagger = streaming_stages(bundle["pipeline"])
    mel = clone(mel).set_params(n_jobs=args.jobs, memory=args.cache)
    if args.whole_track:
        mel.set_params(duration=None, offset=0.0)
    X, _, keep = features_for(
        [Path(data)], ids, mel=mel, what="labelled tracks", skip_missing=args.skip_missing,
        check_model_front_end=True, command="evaluate", ragged=True,
    )
    if keep is not None:
        Y = Y[keep]
    return Y, np.asarray(tagger.predict_proba(X))


def model_thresholds(bundle, names):
    """The model's decision thresholds, one per context, and how to describe them."""
    tagger = bundle["pipeline"].named_steps["tagger"]
    t = np.broadcast_to(np.asarray(tagger.thresholds_, dtype=float), (len(names),)).copy()
    if np.all(t == t[0]):
        return t, f"the model's threshold {t[0]:g}"
    listed = ", ".join(f"{n}={v:.2f}" for n, v in zip(names, t))
    return t, f"the model's per-context thresholds ({listed})"


def run(args):
    from ..metrics import context_report, tune_thresholds

    if (args.tune_on is None) != (args.tune_labels is None):
        raise CLIError("--tune-on and --tune-labels go together")
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        raise CLIError(f"--threshold must be in [0, 1], got {args.threshold}")
    if args.json:
        check_output_path(args.json)
        refuse_overwrite([args.json], [args.model, args.labels, args.tune_labels,
                                       *data_inputs([args.data, args.tune_on], [args.json])])
    bundle = load_model(args.model)
    names = bundle["target_names"]
    use_model(bundle, device=args.device, whole_track=args.whole_track)
    if args.threshold is None:
        threshold, which = model_thresholds(bundle, names)
    else:
        threshold, which = args.threshold, f"--threshold {args.threshold:g}"
    Y, P = _scores(bundle, args.data, args.labels, args)
    report = context_report(Y, P, threshold=threshold, target_names=names)
    print(f"Table 1 on {len(Y)} tracks, thresholds: {which}:\n")
    print(report)
    results = {
        "n_tracks": int(len(Y)),
        "threshold": threshold if np.ndim(threshold) == 0 else dict(zip(names, map(float, threshold))),
        "threshold_source": "option" if args.threshold is not None else "model",
        "report": report.to_dict(),
    }
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
