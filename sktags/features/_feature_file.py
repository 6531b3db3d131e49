"""The feature file: log-mels in a ``.npy`` file, with a JSON index beside it.

``x.npy`` holds the features, opened as a read-only memmap: fixed excerpts
of shape ``(n_tracks, 1, n_mels, n_frames)``, or whole tracks in the ragged
layout (``x.npy`` the frames, ``x.offsets.npy`` where each track starts; see
:class:`~sktags.features.RaggedSpectrograms`). ``x.json``, the index, is a
JSON object: ``format`` (``"sktags-features"``), ``ids`` (one per track),
``files``, ``shape``, ``dtype``, ``transformer`` (the front end's
parameters, :data:`FRONT_END_KEYS`), ``failed`` (rows whose audio could not
be decoded: zeros, or no frames) with their ``errors``, and for whole tracks
``layout`` (``"ragged"``) and ``offsets``. Every file is written atomically.
"""

import json
import os
from pathlib import Path

import numpy as np

from ..utils import first_line, write_text_atomic

__all__ = ["FRONT_END_KEYS", "check_front_end", "features_index_path", "load_features",
           "write_features"]

FEATURE_FORMAT = "sktags-features"

#: The front end's parameters that define the features (not how they are computed).
FRONT_END_KEYS = ("sr", "n_fft", "hop_length", "n_mels", "offset", "duration", "compression")


def features_index_path(path):
    """The JSON index of a feature (or embeddings) file: ``x.npy`` -> ``x.json``.

    Examples
    --------
    >>> from sktags.features import features_index_path
    >>> features_index_path("feats/train.npy").as_posix()
    'feats/train.json'
    """
    return Path(path).with_suffix(".json")


def write_features(files, path, *, transformer, ids=None, dtype="float32", reuse=False):
    """Extract the log-mels of audio files into a feature file and its index.

    Parameters
    ----------
    files : sequence of str or os.PathLike
        Audio files, one row each.
    path : str or os.PathLike
        The ``.npy`` file; the index goes to :func:`features_index_path`,
        whole tracks' offsets (``transformer.duration=None``) to
        ``<name>.offsets.npy``.
    transformer : MelSpectrogramTransformer
        The front end (its ``on_error`` decides whether an undecodable file
        stops the extraction or is listed in ``failed``).
    ids : list of str, default=None
        Track ids (default: the file names without extension).
    dtype : {"float32", "float16"}, default="float32"
    reuse : bool, default=False
        A resumable cache: when ``path`` and its index already hold these
        ``ids`` computed with this front end, they are opened, not computed
        again.

    Returns
    -------
    X : memmap of shape (n_tracks, 1, n_mels, n_frames) or RaggedSpectrograms
    index : dict
        The index written (see the module's description).

    Examples
    --------
    >>> import numpy as np, os, tempfile, soundfile as sf
    >>> from sktags.features import MelSpectrogramTransformer, load_features, write_features
    >>> d = tempfile.mkdtemp()
    >>> sf.write(os.path.join(d, "a.wav"), np.zeros(22050, dtype=np.float32), 22050)
    >>> mel = MelSpectrogramTransformer(offset=0.0, duration=1.0, n_mels=16)
    >>> X, index = write_features([os.path.join(d, "a.wav")], os.path.join(d, "f.npy"),
    ...                           transformer=mel)
    >>> X.shape, index["ids"], index["failed"]
    ((1, 1, 16, 22), ['a'], [])
    >>> load_features(os.path.join(d, "f.npy"))[0].shape
    (1, 1, 16, 22)
    """
    from ._extract import extract_to_file
    from ._ragged import offsets_path

    files = [str(f) for f in files]
    ids = [Path(f).stem for f in files] if ids is None else [str(i) for i in ids]
    if len(ids) != len(files):
        raise ValueError(f"ids has {len(ids)} entries for {len(files)} files.")
    front_end = {k: transformer.get_params()[k] for k in FRONT_END_KEYS}
    ragged = front_end["duration"] is None
    if reuse:
        try:
            X, index = load_features(path, ragged=ragged)
            if index["ids"] == ids and index["transformer"] == front_end:
                return X, index
        except (ValueError, OSError):
            pass  # absent or stale: compute again
    result = extract_to_file(files, path, transformer=transformer, dtype=dtype)
    X = result.features
    pairs = sorted(zip((int(i) for i in result.failed), map(str, result.errors)))
    index = {
        "format": FEATURE_FORMAT,
        "ids": ids,
        "files": files,
        "shape": list(X.frames.shape if ragged else X.shape),
        "dtype": str(np.dtype(dtype)),
        "transformer": front_end,
        "failed": [i for i, _ in pairs],
        "errors": [e for _, e in pairs],
    }
    if ragged:
        index.update(layout="ragged", offsets=Path(offsets_path(path)).name)
    write_text_atomic(features_index_path(path), json.dumps(index, indent=1))
    return X, index


def _read_index(path):
    index_file = features_index_path(path)
    if not index_file.is_file():
        raise ValueError(f"feature file {str(path)!r} has no index {str(index_file)!r} "
                         "(write feature files with `sktags extract` or write_features)")
    try:
        index = json.loads(index_file.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ValueError(f"index {str(index_file)!r} is not valid JSON: {first_line(exc)}") from None
    if not isinstance(index, dict):
        raise ValueError(f"index {str(index_file)!r} is not a JSON object")
    return index, index_file


def load_features(path, *, ragged=False):
    """Open a feature file (read-only memmap) and check its index.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.npy`` file written by :func:`write_features` (or ``sktags extract``).
    ragged : bool, default=False
        Accept a file of whole tracks (index ``"layout": "ragged"``), opened
        as a :class:`~sktags.features.RaggedSpectrograms`; refused otherwise.

    Returns
    -------
    X : memmap of shape (n_tracks, 1, n_mels, n_frames) or RaggedSpectrograms
    index : dict
        With ``ids`` (one per row), ``transformer`` (an object) and
        ``failed`` (sorted row indices, ``[]`` when absent) checked.

    Raises
    ------
    ValueError
        One line naming the file and what is wrong with it.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"feature file not found: {str(path)!r}")
    index, index_file = _read_index(path)
    try:
        if index.get("layout") == "ragged":
            if not ragged:
                raise ValueError(
                    f"{str(path)!r} holds whole tracks (extracted with --whole-track); "
                    "this reads fixed excerpts: give it the audio instead")
            from ._ragged import RaggedSpectrograms

            X = RaggedSpectrograms.load(path)
        else:
            X = np.load(path, mmap_mode="r", allow_pickle=False)
            if not isinstance(X, np.ndarray):  # an .npz archive under a .npy name
                X.close()
                raise ValueError("it is not a single .npy array")
    except (ValueError, OSError, EOFError) as exc:  # EOFError: an empty file
        if "holds whole tracks" in str(exc):
            raise
        raise ValueError(f"{str(path)!r} is not a readable feature file: {first_line(exc)}") from None
    ids, transformer = index.get("ids"), index.get("transformer")
    for key, value, kind in (("ids", ids, list), ("transformer", transformer, dict)):
        if not isinstance(value, kind):
            raise ValueError(f"index {str(index_file)!r}: {key!r} is missing or not a JSON "
                             f"{'array' if kind is list else 'object'}")
    if len(ids) != len(X):
        raise ValueError(f"index {str(index_file)!r} lists {len(ids)} tracks but {str(path)!r} "
                         f"holds {len(X)}")
    failed = index.get("failed") or []
    if not isinstance(failed, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(ids) for i in failed):
        raise ValueError(f"index {str(index_file)!r}: 'failed' must list row indices below "
                         f"{len(ids)}")
    index["failed"] = sorted(set(failed))
    return X, index


def check_front_end(index, transformer, path):
    """Refuse a feature file computed with another front end than ``transformer``'s.

    Same-shaped features of another excerpt or compression would otherwise
    be scored silently.

    Parameters
    ----------
    index : dict
        The feature file's index (from :func:`load_features`).
    transformer : MelSpectrogramTransformer
        The model's front end.
    path : str or os.PathLike
        The feature file, for the message.

    Raises
    ------
    ValueError
        Naming the first parameter that differs.
    """
    stored = index.get("transformer")
    if not isinstance(stored, dict):
        raise ValueError(f"the index of feature file {os.fspath(path)!r} has no 'transformer' "
                         "entry; write feature files with `sktags extract`")
    for key in FRONT_END_KEYS:
        if key not in stored:
            continue
        mine, theirs = stored[key], getattr(transformer, key, None)
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (mine, theirs))
        if not (float(mine) == float(theirs) if numbers else mine == theirs):
            hint = (" (or pass --whole-track, for a model trained with crops)"
                    if key == "duration" and mine is None else "")
            raise ValueError(
                f"feature file {os.fspath(path)!r} was extracted with {key}={mine!r}, but the "
                f"model expects {key}={theirs!r}; re-extract it with the model's front end{hint}")
