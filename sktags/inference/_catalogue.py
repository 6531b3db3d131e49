"""Tag (or embed) any number of audio files with a fitted pipeline, streaming.

Files are decoded and turned into log-mel spectrograms by joblib tasks of a
few files each; the tagger's forward pass runs in the calling process, in
batches; results are yielded one file at a time, in input order. Memory is
bounded by the tasks in flight and one batch, whatever the number of files.
"""

from dataclasses import dataclass, field

import numpy as np

from ..utils import first_line, streaming_parallel

_DEFAULT_CHUNK = 4

#: The failure recorded for a file whose features hold NaN or infinity.
NOT_FINITE = ("its features are not finite (NaN or infinity): the audio holds non-finite "
              "or out-of-range samples")


@dataclass
class TagResult:
    """The outcome for one file.

    Attributes
    ----------
    position : int
        Position of the file in the input sequence.
    file : str
        The file, as given.
    error : str or None
        One-line message when the file could not be decoded (then every
        other field is None), else None.
    proba : ndarray of shape (n_labels,) or None
        Probability of each label (the mean over windows for a windowed model).
    predicted : ndarray of shape (n_labels,), bool, or None
        ``proba >= thresholds_`` of the tagger, what ``predict`` decides.
    window_starts : ndarray of shape (n_windows,) or None
        Start frame of each window (with ``windows=True``).
    window_proba : ndarray of shape (n_windows, n_labels) or None
        Probabilities of each window (with ``windows=True``).
    embedding : ndarray of shape (d,), float32, or None
        ``tagger.transform`` of the file (with ``embed=True``).
    """

    position: int
    file: str
    error: str = None
    proba: np.ndarray = field(default=None, repr=False)
    predicted: np.ndarray = field(default=None, repr=False)
    window_starts: np.ndarray = field(default=None, repr=False)
    window_proba: np.ndarray = field(default=None, repr=False)
    embedding: np.ndarray = field(default=None, repr=False)

    @property
    def ok(self):
        """True when the file was decoded and tagged."""
        return self.error is None


def _decode_group(transformer, paths):
    """Spectrograms of a few files: ``[(array (1, n_mels, n_frames) or None, error or None)]``.

    Runs in a joblib worker. The whole group is computed at once; when any
    file fails, each file is computed alone so that the others are kept and
    the failure is named.
    """
    from joblib import parallel_config
    from sklearn.base import clone

    mel = clone(transformer).set_params(n_jobs=1, on_error="raise", verbose=0)
    # In this worker, whatever backend sent the task (Dask nests its own).
    with parallel_config(backend="sequential"):
        try:
            out = mel.transform(list(paths))
            return [(np.array(out[i], dtype=np.float32), None) for i in range(len(paths))]
        except Exception:  # noqa: BLE001 - one file at a time finds the culprit
            pass
        results = []
        for path in paths:
            try:
                results.append((np.array(mel.transform([path])[0], dtype=np.float32), None))
            except Exception as exc:  # noqa: BLE001 - reported as this file's failure
                results.append((None, first_line(exc)))
    return results


def iter_spectrograms(transformer, files, *, n_jobs=None, chunk_size=_DEFAULT_CHUNK,
                      round_size=128):
    """Log-mel spectrograms of many files, streamed in input order.

    Parameters
    ----------
    transformer : MelSpectrogramTransformer
        The front end (its ``n_jobs`` and ``on_error`` are ignored: each
        task runs one file after another, and failures are yielded).
    files : sequence of str or os.PathLike
        Audio files.
    n_jobs : int, default=None
        joblib workers (``None``: 1 unless in a :func:`joblib.parallel_config`
        context; -1: all cores). Tasks go through :class:`joblib.Parallel`,
        so a Dask or Ray backend spreads them. They run in rounds of
        ``round_size`` files (at least four tasks per worker), so memory stays
        bounded however slow the consumer; within a round results stream back
        as they complete (except with a backend that cannot stream results,
        ``return_as="generator"``, e.g. Ray's or ``multiprocessing``).
    chunk_size : int, default=4
        Files per task.
    round_size : int, default=128
        Files per round: the most spectrograms computed ahead of the consumer.

    Yields
    ------
    position : int
    spectrogram : ndarray of shape (1, n_mels, n_frames), float32, or None
    error : str or None
        One-line message when the file could not be decoded.

    Examples
    --------
    >>> import numpy as np, os, tempfile, soundfile as sf
    >>> from sktags.features import MelSpectrogramTransformer
    >>> from sktags.inference import iter_spectrograms
    >>> d = tempfile.mkdtemp()
    >>> sf.write(os.path.join(d, "a.wav"), np.zeros(22050, dtype=np.float32), 22050)
    >>> mel = MelSpectrogramTransformer(offset=0.0, duration=1.0, n_mels=16)
    >>> [(i, None if s is None else s.shape, e is not None) for i, s, e in
    ...  iter_spectrograms(mel, [os.path.join(d, "a.wav"), os.path.join(d, "missing.wav")])]
    [(0, (1, 16, 22), False), (1, None, True)]
    """
    from joblib import delayed, effective_n_jobs

    files = [str(f) for f in files]
    chunk_size = max(1, int(chunk_size))
    groups = [(k, files[k : k + chunk_size]) for k in range(0, len(files), chunk_size)]
    if not groups:
        return
    n_workers = max(1, effective_n_jobs(n_jobs))

    def tasks(selection):
        return (delayed(_decode_group)(transformer, paths) for _, paths in selection)

    # Rounds of tasks, one after the other. joblib dispatches a new task
    # whenever one completes, whether or not its result was consumed, so a
    # single Parallel call over all files would pile up results whenever the
    # consumer (the network) is slower than decoding. Within a round, results
    # stream back while the remaining tasks run (a backend that cannot stream,
    # e.g. Ray's or "multiprocessing", returns the round at once).
    step = max(4 * n_workers, -(-int(round_size) // chunk_size))
    for k in range(0, len(groups), step):
        selection = groups[k : k + step]
        results = streaming_parallel(n_jobs)[0](tasks(selection))
        for (first, _), group in zip(selection, results):
            for j, (spec, error) in enumerate(group):
                yield first + j, spec, error


def _as_batch(specs):
    """A 4-D array when every clip has the same shape, else a 1-D object array."""
    if len({s.shape for s in specs}) == 1:
        return np.stack(specs)
    batch = np.empty(len(specs), dtype=object)
    for i, s in enumerate(specs):
        batch[i] = s
    return batch


def _windows(tagger, X):
    """``[(starts, proba (k, m))]`` per clip; one window at 0 for a whole-input model."""
    if hasattr(tagger, "predict_proba_windows"):
        return [(np.asarray(s), np.asarray(p, dtype=np.float64))
                for s, p in tagger.predict_proba_windows(X)]
    proba = np.asarray(tagger.predict_proba(X), dtype=np.float64)
    return [(np.zeros(1, dtype=np.int64), p[None]) for p in proba]


def tag_files(pipeline, files, *, batch_size=32, n_jobs=None, chunk_size=_DEFAULT_CHUNK,
              windows=False, embed=False, tag=True):
    """Tag many audio files with a fitted pipeline, one result at a time.

    Parameters
    ----------
    pipeline : Pipeline
        ``("mel", MelSpectrogramTransformer), ("tagger", CNNTagger)``, fitted,
        or any pipeline that :func:`streaming_stages` splits (e.g.
        ``make_pipeline(MusicnnEmbedding(), EmbeddingTagger())``, or a
        ``MusicnnEmbedding`` alone: musicnn's own tags).
    files : sequence of str or os.PathLike
        Audio files. Undecodable ones give a failed :class:`TagResult`.
    batch_size : int, default=32
        Clips per forward pass of the network (in this process).
    n_jobs : int, default=None
        joblib workers decoding files (see :func:`iter_spectrograms`).
    chunk_size : int, default=4
        Files per joblib task.
    windows : bool, default=False
        Also give each window's probabilities (``predict_proba_windows``);
        the file's probability is then the mean of its windows'.
    embed : bool, default=False
        Also give ``tagger.transform`` (embeddings).
    tag : bool, default=True
        Compute probabilities (False with ``embed=True`` gives embeddings only).

    Yields
    ------
    result : TagResult
        One per file, in input order.

    Raises
    ------
    ValueError
        At once, for a ``batch_size`` that is not a positive int, or a
        pipeline whose first step is not a ``"mel"``
        MelSpectrogramTransformer or whose last is not a ``"tagger"`` with
        ``predict_proba`` (and ``transform`` for ``embed``): e.g. steps swapped.

    Examples
    --------
    >>> import numpy as np, os, tempfile, soundfile as sf
    >>> from sklearn.pipeline import Pipeline
    >>> from sktags import CNNTagger, MelSpectrogramTransformer
    >>> from sktags.inference import tag_files
    >>> d = tempfile.mkdtemp()
    >>> rng = np.random.default_rng(0)
    >>> files = []
    >>> for i in range(4):
    ...     files.append(os.path.join(d, f"{i}.wav"))
    ...     sf.write(files[-1], rng.normal(0, 0.1, 22050).astype(np.float32), 22050)
    >>> pipe = Pipeline([("mel", MelSpectrogramTransformer(offset=0.0, duration=1.0, n_mels=16)),
    ...                  ("tagger", CNNTagger(filters=(2, 2, 2, 2), hidden_units=4,
    ...                                       max_epochs=1, valid_size=None,
    ...                                       random_state=0))])
    >>> pipe = pipe.fit(files, np.array([[1, 0], [0, 1], [1, 1], [0, 0]]))
    >>> results = list(tag_files(pipe, files + [os.path.join(d, "missing.wav")]))
    >>> [r.ok for r in results]
    [True, True, True, True, False]
    >>> np.allclose([r.proba for r in results[:4]], pipe.predict_proba(files))
    True
    """
    from ._model_file import check_steps

    _check_batch_size(batch_size)
    check_steps(pipeline, embed=embed)
    return _tag_files(pipeline, files, batch_size=int(batch_size), n_jobs=n_jobs,
                      chunk_size=chunk_size, windows=windows, embed=embed, tag=tag)


def _check_batch_size(batch_size):
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")


def _tag_files(pipeline, files, *, batch_size, n_jobs, chunk_size, windows, embed, tag):
    from ._stages import final_step, streaming_stages

    mel, tagger = streaming_stages(pipeline)
    files = [str(f) for f in files]
    thresholds = np.asarray(getattr(final_step(tagger), "thresholds_", 0.5), dtype=np.float64)
    pending = []  # (position, spectrogram or None, error)
    n_ok = 0

    def flush():
        specs = [s for _, s, e in pending if e is None]
        out = {}
        if specs:
            X = _as_batch(specs)
            if tag and windows:
                out["win"] = _windows(tagger, X)
                out["proba"] = [p.mean(axis=0) for _, p in out["win"]]
            elif tag:
                out["proba"] = list(np.asarray(tagger.predict_proba(X), dtype=np.float64))
            if embed:
                out["emb"] = list(np.asarray(tagger.transform(X), dtype=np.float32))
        k = 0
        for position, _, error in pending:
            result = TagResult(position, files[position], error)
            if error is None:
                if tag:
                    result.proba = out["proba"][k]
                    result.predicted = result.proba >= thresholds
                if "win" in out:
                    result.window_starts, result.window_proba = out["win"][k]
                if embed:
                    result.embedding = out["emb"][k]
                k += 1
            yield result
        pending.clear()

    stream = iter_spectrograms(mel, files, n_jobs=n_jobs, chunk_size=chunk_size,
                               round_size=4 * int(batch_size))
    for position, spec, error in stream:
        if error is None and not np.isfinite(spec).all():
            spec, error = None, NOT_FINITE
        pending.append((position, spec, error))
        n_ok += error is None
        # a batch of clips, or many failures in a row: either way bounded
        if n_ok >= batch_size or len(pending) >= 4 * batch_size:
            yield from flush()
            n_ok = 0
    if pending:
        yield from flush()


def tag_features(tagger, X, files, *, failed=(), errors=(), batch_size=32, windows=False):
    """Tag the rows of a feature array (a feature file), one result at a time.

    Parameters
    ----------
    tagger : CNNTagger
        Fitted.
    X : array-like of shape (n_files, 1, n_mels, n_frames)
        Features (a memmap is read one batch at a time).
    files : sequence of str
        The file of each row (for the results).
    failed : sequence of int, default=()
        Rows whose audio could not be decoded (a feature file's index):
        failed results, with the message of ``errors`` at the same position.
    errors : sequence of str, default=()
    batch_size : int, default=32
    windows : bool, default=False
        Also give each window's probabilities.

    Yields
    ------
    result : TagResult
        One per row, in order; a row whose features are not finite is a
        failed result naming the reason.

    Examples
    --------
    >>> import numpy as np
    >>> from sktags import CNNTagger
    >>> from sktags.inference import tag_features
    >>> X = np.random.default_rng(0).normal(size=(4, 1, 8, 16)).astype(np.float32)
    >>> tagger = CNNTagger(filters=(2, 2), hidden_units=4, max_epochs=1, valid_size=None,
    ...                    random_state=0).fit(X, np.array([[1, 0], [0, 1], [1, 1], [0, 0]]))
    >>> X[2, 0, 0, 0] = np.nan
    >>> [r.ok for r in tag_features(tagger, X, ["a", "b", "c", "d"], failed=[1], errors=["?"])]
    [True, False, False, True]
    """
    _check_batch_size(batch_size)
    return _tag_features(tagger, X, files, failed, errors, int(batch_size), windows)


def _tag_features(tagger, X, files, failed, errors, batch_size, windows):
    why = {int(i): (errors[k] if k < len(errors) else "could not be decoded at extraction")
           for k, i in enumerate(failed)}
    thresholds = np.asarray(getattr(tagger, "thresholds_", 0.5), dtype=np.float64)
    for start in range(0, len(X), batch_size):
        stop = min(start + batch_size, len(X))
        batch = {i: np.asarray(X[i]) for i in range(start, stop) if i not in why}
        for i, x in list(batch.items()):
            if not np.isfinite(x).all():
                why[i] = NOT_FINITE
                del batch[i]
        out = dict(zip(batch, _windows(tagger, _as_batch(list(batch.values()))))) if batch else {}
        for i in range(start, stop):
            if i not in out:
                yield TagResult(i, str(files[i]), why[i])
                continue
            s, p = out[i]
            proba = p.mean(axis=0)
            yield TagResult(i, str(files[i]), None, proba, proba >= thresholds,
                            s if windows else None, p if windows else None)
