"""The embeddings file: one row per audio file in a ``.npy``, with a JSON index beside it."""

import json
from pathlib import Path

import numpy as np

from ..features import FRONT_END_KEYS, features_index_path
from ..utils import atomic_path, first_line, write_text_atomic

__all__ = ["embed_to_file", "load_embeddings"]

EMBEDDINGS_FORMAT = "sktags-embeddings"


def embed_to_file(pipeline, files, path, *, ids=None, batch_size=32, n_jobs=None, callback=None):
    """Write the embeddings of audio files (``tagger.transform``) to a ``.npy`` and its index.

    Parameters
    ----------
    pipeline : Pipeline
        ``("mel", MelSpectrogramTransformer), ("tagger", CNNTagger)``, fitted
        (its embeddings: ``tagger.transform``), or ``make_pipeline(MusicnnEmbedding(...))``
        (musicnn's embeddings; any pipeline that :func:`streaming_stages` splits).
    files : sequence of str or os.PathLike
        Audio files, one row each.
    path : str or os.PathLike
        The ``.npy`` file, float32 of shape (n_files, d); the index, a JSON
        object, goes beside it (``x.npy`` -> ``x.json``): ``format``
        (``"sktags-embeddings"``), ``ids``, ``files``, ``shape``, ``dtype``,
        ``transformer`` (the front end), ``failed`` (rows of files that could
        not be decoded: NaN) and their ``errors``. Both are written atomically.
    ids : list of str, default=None
        Track ids (default: the file names without extension).
    batch_size : int, default=32
    n_jobs : int, default=None
        joblib workers decoding files.
    callback : callable, default=None
        Called with each :class:`TagResult` (progress reports).

    Returns
    -------
    E, index : memmap of shape (n_files, d), float32, and dict
        The file just written, opened by :func:`load_embeddings`.

    Raises
    ------
    ValueError
        When no file could be decoded (nothing is written).

    Examples
    --------
    >>> import numpy as np, os, tempfile, soundfile as sf
    >>> from sklearn.pipeline import Pipeline
    >>> from sktags import CNNTagger, MelSpectrogramTransformer
    >>> from sktags.inference import embed_to_file, load_embeddings
    >>> d = tempfile.mkdtemp()
    >>> files = [os.path.join(d, f"{i}.wav") for i in range(3)]
    >>> for i, f in enumerate(files):
    ...     sf.write(f, np.random.default_rng(i).normal(0, 0.1, 22050).astype(np.float32), 22050)
    >>> pipe = Pipeline([("mel", MelSpectrogramTransformer(offset=0.0, duration=1.0, n_mels=16)),
    ...                  ("tagger", CNNTagger(filters=(2, 2, 2, 2), hidden_units=4,
    ...                                       max_epochs=1, valid_size=None, random_state=0))])
    >>> pipe = pipe.fit(files, np.array([[1, 0], [0, 1], [1, 1]]))
    >>> E, index = embed_to_file(pipe, files + [os.path.join(d, "gone.wav")],
    ...                          os.path.join(d, "emb.npy"))
    >>> E.shape, index["failed"], bool(np.isnan(E[3]).all())
    ((4, 4), [3], True)
    >>> np.allclose(E[:3], pipe.transform(files))
    True
    """
    from ._catalogue import tag_files
    from ._stages import streaming_stages

    files = [str(f) for f in files]
    ids = [Path(f).stem for f in files] if ids is None else [str(i) for i in ids]
    if len(ids) != len(files):
        raise ValueError(f"ids has {len(ids)} entries for {len(files)} files.")
    failed, errors, shape = [], [], None
    with atomic_path(path, prefix=f".{Path(path).name}.", suffix=".npy") as tmp:
        E = None
        for r in tag_files(pipeline, files, batch_size=batch_size, n_jobs=n_jobs,
                           embed=True, tag=False):
            if r.ok and E is None:
                E = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32,
                                              shape=(len(files), r.embedding.shape[0]))
                E[: r.position] = np.nan
            if r.ok:
                E[r.position] = r.embedding
            else:
                failed.append(r.position)
                errors.append(r.error)
                if E is not None:
                    E[r.position] = np.nan
            if callback is not None:
                callback(r)
        if E is None:
            raise ValueError(f"none of the {len(files)} files could be decoded (first: "
                             f"{files[0]}: {errors[0] if errors else 'no file'})")
        shape = E.shape
        E.flush()
        del E
    mel = streaming_stages(pipeline)[0]

    index = {"format": EMBEDDINGS_FORMAT, "ids": ids, "files": files, "shape": list(shape),
             "dtype": "float32", "transformer": {k: getattr(mel, k) for k in FRONT_END_KEYS},
             "failed": failed, "errors": errors}
    write_text_atomic(features_index_path(path), json.dumps(index, indent=1))
    return load_embeddings(path)


def load_embeddings(path):
    """Open an embeddings file of :func:`embed_to_file` (read-only memmap) and its index.

    Returns
    -------
    E : memmap of shape (n_files, d), float32
    index : dict

    Raises
    ------
    ValueError
        One line naming the file and what is wrong.
    """
    index_file = features_index_path(path)
    try:
        index = json.loads(index_file.read_text(encoding="utf-8"))
        E = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, RecursionError) as exc:
        raise ValueError(f"{str(path)!r} is not a readable embeddings file: {first_line(exc)}") from None
    if not isinstance(index, dict) or index.get("format") != EMBEDDINGS_FORMAT:
        raise ValueError(f"index {str(index_file)!r} is not that of an embeddings file")
    if E.ndim != 2 or not isinstance(index.get("ids"), list) or len(index["ids"]) != len(E):
        raise ValueError(f"index {str(index_file)!r} does not describe {str(path)!r} "
                         f"(shape {E.shape})")
    return E, index
