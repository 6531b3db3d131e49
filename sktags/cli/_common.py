"""Shared helpers of the command line: errors, files, CSV tables, models.

Everything here is light (standard library and numpy) so that ``sktags --help``
starts fast; torch and the estimators are imported inside the subcommands.
"""

import contextlib
import csv
import json
import os
import tempfile
from pathlib import Path

import numpy as np

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff")
MODEL_FORMAT = "sktags-model"


class CLIError(Exception):
    """An error reported to the user as one line on stderr (exit status 1)."""


# --------------------------------------------------------------------------- files


def check_output_path(target):
    """Raise unless ``target`` can be written: its folder exists, it is not a folder."""
    target = Path(target)
    if not target.parent.is_dir():
        raise CLIError(f"output directory {str(target.parent)!r} does not exist")
    if target.is_dir():
        raise CLIError(f"output {str(target)!r} is a folder; give a file name")


@contextlib.contextmanager
def atomic_path(target):
    """Yield a temporary path beside ``target``; move it into place on success.

    The temporary file is in the same directory, so :func:`os.replace` is
    atomic; on any error it is removed and ``target`` is left untouched.
    """
    target = Path(target)
    check_output_path(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text_atomic(target, text):
    """Write ``text`` to ``target`` atomically (UTF-8)."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def collect_audio(inputs, *, recursive=True):
    """Audio files named on the command line, folders expanded (sorted).

    Raises
    ------
    CLIError
        When a path does not exist or a folder holds no audio file.
    """
    files = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            pattern = "**/*" if recursive else "*"
            found = sorted(
                p for p in path.glob(pattern) if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS
            )
            if not found:
                raise CLIError(
                    f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) in folder {str(path)!r}"
                )
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise CLIError(f"no such file or folder: {str(path)!r}")
    if not files:
        raise CLIError("no audio files given")
    return files


def audio_by_id(folder):
    """Map track id (file name without extension) to audio path in ``folder``."""
    files = collect_audio([folder])
    by_id = {}
    for path in files:
        if path.stem in by_id:
            raise CLIError(
                f"two audio files for track id {path.stem!r}: {str(by_id[path.stem])!r} "
                f"and {str(path)!r}"
            )
        by_id[path.stem] = path
    return by_id


# --------------------------------------------------------------------------- CSV


def read_csv_rows(path, what, *, kind="CSV"):
    """All rows of a UTF-8 CSV file (a byte-order mark is allowed).

    A missing or unreadable file is a one-line :class:`CLIError` naming
    ``what`` (e.g. "labels") and the path.
    """
    path = Path(path)
    if not path.is_file():
        raise CLIError(f"{what} file not found: {str(path)!r}")
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            return list(csv.reader(fh))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise CLIError(f"{what} file {str(path)!r} is not a readable {kind}: {exc}") from None


def read_matrix_csv(path, *, what="labels", binary=True):
    """Read a table in the released dataset's format.

    The first column is the track id; every other column is one context, with
    0/1 values (``binary=True``) or non-negative counts.

    Returns
    -------
    ids : list of str
    names : list of str
    values : ndarray of shape (n_rows, n_columns)
        uint8 for labels, float64 for counts.
    """
    path = Path(path)
    rows = read_csv_rows(path, what)
    if len(rows) < 2:
        raise CLIError(f"{what} file {str(path)!r} needs a header line and at least one row")
    header = [h.strip() for h in rows[0]]
    if len(header) < 2:
        raise CLIError(
            f"{what} file {str(path)!r}: expected a track id column and one column per context, "
            f"got header {rows[0]!r}"
        )
    names = header[1:]
    for j, name in enumerate(names):
        if not name:
            raise CLIError(f"{what} file {str(path)!r}: column {j + 2} of the header has no name")
        if name in names[:j]:
            raise CLIError(f"{what} file {str(path)!r}: duplicate column {name!r} in the header")
    ids, values, seen = [], [], {}
    for lineno, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise CLIError(
                f"{what} file {str(path)!r}, line {lineno}: {len(row)} fields, "
                f"expected {len(header)}"
            )
        track = row[0].strip()
        if not track:
            raise CLIError(f"{what} file {str(path)!r}, line {lineno}: empty track id")
        if track in seen:
            raise CLIError(
                f"{what} file {str(path)!r}, line {lineno}: duplicate track id {track!r} "
                f"(first on line {seen[track]})"
            )
        seen[track] = lineno
        parsed = []
        for name, cell in zip(names, row[1:]):
            try:
                v = float(cell)
            except ValueError:
                v = float("nan")
            ok = (v in (0.0, 1.0)) if binary else (np.isfinite(v) and v >= 0)
            if not ok:
                kind = "0 or 1" if binary else "a non-negative number"
                raise CLIError(
                    f"{what} file {str(path)!r}, line {lineno}, column {name!r}: "
                    f"expected {kind}, got {cell!r}"
                )
            parsed.append(v)
        ids.append(track)
        values.append(parsed)
    if not ids:
        raise CLIError(f"{what} file {str(path)!r} has no data rows")
    dtype = np.uint8 if binary else np.float64
    return ids, names, np.asarray(values, dtype=dtype)


def read_groups_csv(path, column=None):
    """Read a track id -> group (e.g. artist id) table.

    The first column is the track id. The group is ``column`` when given, else
    a column named ``artist_id`` when present, else the second column.
    """
    path = Path(path)
    rows = read_csv_rows(path, "groups")
    reader = iter(rows)
    header = next(reader, None)
    if not header or len(header) < 2:
        raise CLIError(f"groups file {str(path)!r} needs a header with at least two columns")
    header = [h.strip() for h in header]
    if column is None:
        column = "artist_id" if "artist_id" in header else header[1]
    if column not in header:
        raise CLIError(f"groups file {str(path)!r} has no column {column!r}; it has {header}")
    j = header.index(column)
    groups = {}
    for lineno, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) <= j:
            raise CLIError(f"groups file {str(path)!r}, line {lineno}: missing column {column!r}")
        groups[row[0].strip()] = row[j].strip()
    return groups


def align(wanted, available, *, what, where, skip_missing=False):
    """Positions of ``wanted`` ids in ``available``.

    Returns ``(keep, positions)``: the indices into ``wanted`` that were found
    and their positions in ``available``. Missing ids raise :class:`CLIError`
    unless ``skip_missing``.
    """
    index = {k: i for i, k in enumerate(available)}
    keep = [i for i, k in enumerate(wanted) if k in index]
    missing = [k for k in wanted if k not in index]
    if missing and not skip_missing:
        shown = ", ".join(repr(m) for m in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise CLIError(
            f"{len(missing)} of {len(wanted)} {what} have no match in {where} "
            f"({shown}{more}); pass --skip-missing to use only the matched ones"
        )
    if not keep:
        raise CLIError(f"none of the {what} match {where}")
    return np.asarray(keep, dtype=np.intp), np.asarray(
        [index[wanted[i]] for i in keep], dtype=np.intp
    )


# --------------------------------------------------------------------------- features


def index_path(features_path):
    """The JSON index written beside a feature file (``x.npy`` -> ``x.json``)."""
    return Path(features_path).with_suffix(".json")


def load_features(path):
    """Open a feature file written by ``sktags extract`` (read-only memmap) and its index."""
    path = Path(path)
    if not path.is_file():
        raise CLIError(f"feature file not found: {str(path)!r}")
    try:
        X = np.load(path, mmap_mode="r")
    except (ValueError, OSError) as exc:
        raise CLIError(f"{str(path)!r} is not a readable .npy feature file: {exc}") from None
    meta_path = index_path(path)
    if not meta_path.is_file():
        raise CLIError(
            f"feature file {str(path)!r} has no index {str(meta_path)!r} "
            "(write feature files with `sktags extract`)"
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CLIError(f"index {str(meta_path)!r} is not valid JSON: {exc}") from None
    if len(meta.get("ids", [])) != len(X):
        raise CLIError(
            f"index {str(meta_path)!r} lists {len(meta.get('ids', []))} tracks but "
            f"{str(path)!r} holds {len(X)}"
        )
    return X, meta


# --------------------------------------------------------------------------- mel options

MEL_DEFAULTS = {
    "sr": 22050,
    "n_fft": 1024,
    "hop_length": 1024,
    "n_mels": 96,
    "offset": 30.0,
    "duration": 30.0,
    "compression": "log1p",
}


def add_mel_arguments(parser):
    """Front-end options (the paper's defaults)."""
    g = parser.add_argument_group("log-mel front end (defaults: the paper's)")
    g.add_argument("--sr", type=int, default=MEL_DEFAULTS["sr"], help="sample rate (Hz)")
    g.add_argument("--n-fft", type=int, default=MEL_DEFAULTS["n_fft"], help="FFT size")
    g.add_argument("--hop-length", type=int, default=MEL_DEFAULTS["hop_length"], help="hop (samples)")
    g.add_argument("--n-mels", type=int, default=MEL_DEFAULTS["n_mels"], help="mel bands")
    g.add_argument(
        "--offset", type=float, default=MEL_DEFAULTS["offset"], help="excerpt start (s)"
    )
    g.add_argument(
        "--duration", type=float, default=MEL_DEFAULTS["duration"], help="excerpt length (s)"
    )
    g.add_argument(
        "--compression",
        default=MEL_DEFAULTS["compression"],
        choices=["log1p", "db"],
        help="log(1 + 100 mel) or decibels",
    )


def mel_params(args):
    """The transformer parameters chosen on the command line."""
    return {k: getattr(args, k) for k in MEL_DEFAULTS}


def add_cache_arguments(parser):
    parser.add_argument(
        "--cache", metavar="DIR", default=None, help="per-file feature cache directory"
    )
    parser.add_argument(
        "--jobs", "-j", type=int, default=None, help="parallel decoding processes (-1: all cores)"
    )


def check_front_end(meta, mel, path):
    """Raise when a feature file was computed with another front end than ``mel``'s.

    ``meta`` is the feature file's index; ``mel`` the model's fitted
    :class:`~sktags.MelSpectrogramTransformer`. Same-shaped features from
    another excerpt or compression would otherwise be scored silently.
    """
    stored = meta.get("transformer") or {}
    for key in MEL_DEFAULTS:
        if key not in stored:
            continue
        mine, theirs = stored[key], getattr(mel, key, None)
        same = (
            float(mine) == float(theirs)
            if isinstance(mine, (int, float)) and isinstance(theirs, (int, float))
            else mine == theirs
        )
        if not same:
            raise CLIError(
                f"feature file {str(path)!r} was extracted with {key}={mine!r}, but the model "
                f"expects {key}={theirs!r}; re-extract it with the model's front end"
            )


def make_transformer(params, *, cache=None, jobs=None, verbose=0, on_error="raise"):
    from ..features import MelSpectrogramTransformer

    return MelSpectrogramTransformer(
        **params, n_jobs=jobs, memory=cache, verbose=verbose, on_error=on_error
    )


# --------------------------------------------------------------------------- models


def save_model(path, bundle):
    """Write a model bundle (a dict) with joblib, atomically."""
    import joblib

    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            joblib.dump(bundle, fh)


def load_model(path):
    """Read a model file written by ``sktags train``."""
    import joblib

    path = Path(path)
    if not path.is_file():
        raise CLIError(f"model file not found: {str(path)!r}")
    try:
        bundle = joblib.load(path)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad file
        raise CLIError(f"{str(path)!r} is not a readable sktags model file: {exc}") from None
    if not isinstance(bundle, dict) or bundle.get("format") != MODEL_FORMAT:
        raise CLIError(f"{str(path)!r} is not an sktags model file (written by `sktags train`)")
    return bundle


def features_for(data, ids_wanted=None, *, args, what, skip_missing=False, verbose=0,
                 model_mel=None):
    """Features for a DATA argument: a feature file, an audio folder or audio files.

    Returns ``(X, ids, keep)``: features in the order of ``ids_wanted`` (only
    the ``keep`` positions of it when some are skipped), or of the files.
    With ``model_mel``, a feature file must match that transformer's front end.
    """
    data = [Path(d) for d in data]
    if len(data) == 1 and data[0].suffix == ".npy":
        X, meta = load_features(data[0])
        if model_mel is not None:
            check_front_end(meta, model_mel, data[0])
        ids = meta["ids"]
        if ids_wanted is None:
            return X, ids, None
        keep, pos = align(
            ids_wanted, ids, what=what, where=str(data[0]), skip_missing=skip_missing
        )
        if len(pos) == len(X) and np.all(pos == np.arange(len(X))):
            return X, list(ids), keep  # the memmap itself: no copy
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
    mel = make_transformer(
        mel_params(args), cache=getattr(args, "cache", None), jobs=getattr(args, "jobs", None),
        verbose=verbose,
    )
    X = mel.fit_transform([str(f) for f in files])
    return X, ids, (None if ids_wanted is None else keep)
