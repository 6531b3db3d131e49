"""Features on the command line: the front end's options, feature files and their index."""

import json
import sys
from pathlib import Path

import numpy as np

from ._errors import CLIError, CLIUsageError
from ._paths import audio_by_id, collect_audio
from ._tables import align

#: The front end's parameters that define the features (not how they are computed).
MEL_KEYS = ("sr", "n_fft", "hop_length", "n_mels", "offset", "duration", "compression")
_FLAGS = {k: "--" + k.replace("_", "-") for k in MEL_KEYS}


def mel_defaults():
    """The front end's defaults (the paper's), from :class:`MelSpectrogramTransformer` itself."""
    from ..features import MelSpectrogramTransformer

    params = MelSpectrogramTransformer().get_params()
    return {k: params[k] for k in MEL_KEYS}


def add_mel_arguments(parser):
    """Front-end options; unset ones take :class:`MelSpectrogramTransformer`'s defaults."""
    d = mel_defaults()
    g = parser.add_argument_group("log-mel front end (defaults: the paper's)")
    g.add_argument("--sr", type=int, default=None, help=f"sample rate in Hz ({d['sr']})")
    g.add_argument("--n-fft", type=int, default=None, help=f"FFT size ({d['n_fft']})")
    g.add_argument("--hop-length", type=int, default=None, help=f"hop in samples ({d['hop_length']})")
    g.add_argument("--n-mels", type=int, default=None, help=f"mel bands ({d['n_mels']})")
    g.add_argument("--offset", type=float, default=None, help=f"excerpt start in s ({d['offset']})")
    g.add_argument("--duration", type=float, default=None, help=f"excerpt length in s ({d['duration']})")
    g.add_argument(
        "--compression", default=None, choices=["log1p", "db"],
        help=f"log(1 + 100 mel) or decibels ({d['compression']})",
    )


def mel_options_given(args):
    """The front-end options set on the command line, as flags (``--n-mels``, ...)."""
    return [_FLAGS[k] for k in MEL_KEYS if getattr(args, k, None) is not None]


def mel_params(args):
    """The front-end parameters: the options given, the defaults for the others."""
    params = mel_defaults()
    params.update({k: getattr(args, k) for k in MEL_KEYS if getattr(args, k, None) is not None})
    return params


def add_cache_arguments(parser):
    parser.add_argument(
        "--cache", metavar="DIR", default=None, help="per-file feature cache directory"
    )
    parser.add_argument(
        "--jobs", "-j", type=int, default=None, help="parallel decoding processes (-1: all cores)"
    )


def make_transformer(params, *, cache=None, jobs=None, verbose=0, on_error="raise"):
    """A :class:`MelSpectrogramTransformer` with front-end ``params`` and run options."""
    from ..features import MelSpectrogramTransformer

    return MelSpectrogramTransformer(
        **params, n_jobs=jobs, memory=cache, verbose=verbose, on_error=on_error
    )


def extraction_parts(result, mel=None):
    """Features, failed rows and their messages from what ``extract_to_file`` returns.

    An :class:`~sktags.features.ExtractionResult` (``.features``, ``.failed``,
    ``.errors``), a ``(features, report)`` pair, or (sktags 0.1) the features
    alone with the failures in ``mel.failed_indices_``.

    Returns
    -------
    X : array-like
    failed : list of int
        Sorted row indices.
    errors : list of str
        One message per failed row, in the order of ``failed``.
    """
    if isinstance(result, tuple):
        X, report = result
    elif hasattr(result, "features"):
        X, report = result.features, result
    else:
        X, report = result, None
    failed = getattr(report, "failed", None)
    errors = getattr(report, "errors", None)
    if failed is None:
        failed = getattr(mel, "failed_indices_", None)
    failed = [] if failed is None else [int(i) for i in np.asarray(failed).ravel()]
    if errors is None or len(errors) != len(failed):
        errors = ["could not be decoded"] * len(failed)
    pairs = sorted(zip(failed, (str(e) for e in errors)))
    return X, [i for i, _ in pairs], [e for _, e in pairs]


def refuse_mel_options_with_features(args, path):
    """Front-end options do not apply to a feature file: refuse them (exit status 2)."""
    given = mel_options_given(args)
    if given:
        raise CLIUsageError(
            f"{', '.join(given)} set(s) the front end for audio, but {str(path)!r} is a feature "
            "file whose front end is fixed by its index; drop the option(s) or extract again "
            "with `sktags extract`"
        )


# --------------------------------------------------------------------------- feature files


def index_path(features_path):
    """The JSON index written beside a feature file (``x.npy`` -> ``x.json``)."""
    return Path(features_path).with_suffix(".json")


def _index_field(meta, key, meta_path):
    if key not in meta:
        raise CLIError(
            f"index {str(meta_path)!r} has no {key!r} entry; write feature files with "
            "`sktags extract`"
        )
    return meta[key]


def _read_index(path):
    path = Path(path)
    meta_path = index_path(path)
    if not meta_path.is_file():
        raise CLIError(
            f"feature file {str(path)!r} has no index {str(meta_path)!r} "
            "(write feature files with `sktags extract`)"
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CLIError(f"index {str(meta_path)!r} is not valid JSON: {exc}") from None
    if not isinstance(meta, dict):
        raise CLIError(f"index {str(meta_path)!r} is not a JSON object")
    return meta, meta_path


def feature_layout(path):
    """``"ragged"`` (whole tracks, ``sktags extract --whole-track``) or ``"fixed"``.

    A missing or unreadable index reads as ``"fixed"``: :func:`load_features`
    reports it.
    """
    try:
        meta, _ = _read_index(path)
    except (CLIError, OSError):
        return "fixed"
    return "ragged" if meta.get("layout") == "ragged" else "fixed"


def load_features(path, *, ragged=False):
    """Open a feature file written by ``sktags extract`` (read-only memmap) and its index.

    The index is checked: it is a JSON object with ``ids`` (one per row),
    ``transformer`` (the front-end parameters) and ``failed`` (row indices
    whose audio could not be decoded, ``[]`` when none; read as such).
    A file of whole tracks (index ``"layout": "ragged"``) is opened as a
    :class:`~sktags.features.RaggedSpectrograms` when ``ragged`` is true,
    and refused otherwise.
    """
    path = Path(path)
    if not path.is_file():
        raise CLIError(f"feature file not found: {str(path)!r}")
    meta, meta_path = _read_index(path)
    if meta.get("layout") == "ragged":
        if not ragged:
            raise CLIError(
                f"{str(path)!r} holds whole tracks (extracted with --whole-track); "
                "this command reads fixed excerpts: give it the audio instead"
            )
        from ..features import RaggedSpectrograms

        try:
            X = RaggedSpectrograms.load(path)
        except (ValueError, OSError) as exc:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CLIError(f"{str(path)!r} is not a readable whole-track feature file: "
                           f"{message}") from None
    else:
        try:
            X = np.load(path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise CLIError(f"{str(path)!r} is not a readable .npy feature file: {exc}") from None
    ids = _index_field(meta, "ids", meta_path)
    transformer = _index_field(meta, "transformer", meta_path)
    if not isinstance(transformer, dict):
        raise CLIError(f"index {str(meta_path)!r}: 'transformer' is not an object")
    if not isinstance(ids, list) or len(ids) != len(X):
        raise CLIError(
            f"index {str(meta_path)!r} lists {len(ids) if isinstance(ids, list) else '?'} "
            f"tracks but {str(path)!r} holds {len(X)}"
        )
    meta["failed"] = failed_rows(meta, meta_path)
    return X, meta


def failed_rows(meta, meta_path="index"):
    """Sorted row indices (list of int) whose audio failed to decode, from an index.

    Rows stored as zeros by ``sktags extract --on-error zeros`` are not audio
    features: ``train`` and ``evaluate`` exclude them, ``tag`` reports them
    as failed. Indexes of sktags 0.1 listed track ids; those are mapped to rows.
    """
    failed = meta.get("failed") or []
    ids = meta.get("ids") or []
    if failed and all(isinstance(f, str) for f in failed):  # sktags 0.1: track ids
        row_of = {t: i for i, t in enumerate(ids)}
        failed = [row_of[f] for f in failed if f in row_of]
    if not isinstance(failed, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(ids) for i in failed
    ):
        raise CLIError(
            f"index {str(meta_path)!r}: 'failed' must list row indices below {len(ids)}"
        )
    return sorted(set(failed))


def check_front_end(meta, mel, path):
    """Raise when a feature file was computed with another front end than ``mel``'s.

    ``meta`` is the feature file's index; ``mel`` the model's fitted
    :class:`~sktags.MelSpectrogramTransformer`. Same-shaped features from
    another excerpt or compression would otherwise be scored silently.
    """
    stored = meta.get("transformer")
    if not isinstance(stored, dict):
        raise CLIError(
            f"the index of feature file {str(path)!r} has no 'transformer' entry; "
            "write feature files with `sktags extract`"
        )
    for key in MEL_KEYS:
        if key not in stored:
            continue
        mine, theirs = stored[key], getattr(mel, key, None)
        same = (
            float(mine) == float(theirs)
            if isinstance(mine, (int, float)) and isinstance(theirs, (int, float))
            else mine == theirs
        )
        if not same:
            hint = (" (or pass --whole-track, for a model trained with crops)"
                    if key == "duration" and mine is None else "")
            raise CLIError(
                f"feature file {str(path)!r} was extracted with {key}={mine!r}, but the model "
                f"expects {key}={theirs!r}; re-extract it with the model's front end{hint}"
            )


def _drop_failed(pos, keep, ids, failed, path, command):
    """Remove rows whose audio failed to decode; say which on stderr."""
    bad = np.isin(pos, failed)
    if not bad.any():
        return pos, keep
    names = [ids[i] for i in pos[bad]]
    shown = ", ".join(map(repr, names[:5])) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    print(
        f"sktags {command}: excluding {len(names)} track(s) whose audio could not be decoded "
        f"(marked failed in the index of {str(path)!r}): {shown}",
        file=sys.stderr,
    )
    return pos[~bad], keep[~bad]


def features_for(data, ids_wanted=None, *, mel, what, skip_missing=False, verbose=0,
                 check_model_front_end=False, command="train", ragged=False):
    """Features for a DATA argument: a feature file, an audio folder or audio files.

    Parameters
    ----------
    data : list of path
    ids_wanted : list of str, default=None
        Track ids to return, in this order.
    mel : MelSpectrogramTransformer
        Computes the features of audio; with ``check_model_front_end``, a
        feature file must have been made with this front end.
    ragged : bool, default=False
        Accept a feature file of whole tracks (returned as a
        :class:`~sktags.features.RaggedSpectrograms`).

    Returns ``(X, ids, keep)``: features in the order of ``ids_wanted`` (only
    the ``keep`` positions of it when some are skipped or failed to decode),
    or of the files.
    """
    data = [Path(d) for d in data]
    if len(data) == 1 and data[0].suffix == ".npy":
        X, meta = load_features(data[0], ragged=ragged)
        if check_model_front_end:
            check_front_end(meta, mel, data[0])
        ids = meta["ids"]
        if ids_wanted is None:
            return X, ids, None
        keep, pos = align(
            ids_wanted, ids, what=what, where=str(data[0]), skip_missing=skip_missing
        )
        pos, keep = _drop_failed(pos, keep, ids, meta["failed"], data[0], command)
        if not len(pos):
            raise CLIError(f"no {what} left: every one failed to decode in {str(data[0])!r}")
        if len(pos) == len(X) and np.all(pos == np.arange(len(X))):
            return X, list(ids), keep  # the memmap itself: no copy
        if hasattr(X, "lengths"):  # whole tracks: a subset over the same frames, no copy
            return X[pos], [ids[i] for i in pos], keep
        # A subset or another order: this copies the selected rows into memory.
        return np.asarray(X[pos]), [ids[i] for i in pos], keep
    if ids_wanted is None:
        files = collect_audio(data)
        ids = [p.stem for p in files]
    else:
        if len(data) != 1 or not data[0].is_dir():
            raise CLIError(
                "with a labels file, DATA must be one audio folder (files named by track id) "
                "or one feature file (.npy from `sktags extract`)"
            )
        by_id = audio_by_id(data[0])
        keep, _ = align(
            ids_wanted, list(by_id), what=what, where=str(data[0]), skip_missing=skip_missing
        )
        ids = [ids_wanted[i] for i in keep]
        files = [by_id[i] for i in ids]
    mel = mel.set_params(verbose=verbose, on_error="raise")
    X = mel.fit_transform([str(f) for f in files])
    return X, ids, (None if ids_wanted is None else keep)
