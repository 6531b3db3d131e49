"""Dispatch the front end over joblib, in input order, with bounded memory.

:func:`parallel_map` runs tasks through :class:`joblib.Parallel` on whatever
backend is active (loky, threading, multiprocessing, Dask, Ray, ...). It
streams results (``return_as="generator"``) where the backend supports it;
otherwise (multiprocessing, Ray) it runs the tasks in bounded windows, so
that memory holds only a few tasks per worker either way.

:func:`stream_features` feeds a transformer's clips through it: per chunk of
clips it checks the files and reads the per-file cache in this process,
computes the rest in workers, and hands every feature to ``emit`` in input
order.
"""

import collections
import itertools
import os

from ..utils import streaming_parallel
from ._cache import file_stamp

_MAX_CHUNK = 16
_TASKS_PER_WORKER = 4


def n_workers_of(n_jobs):
    """Number of workers joblib's active backend gives ``n_jobs``."""
    from joblib import effective_n_jobs

    return max(1, effective_n_jobs(n_jobs))


def parallel_map(function, arguments, n_jobs):
    """Yield ``function(*args)`` for each ``args`` of ``arguments``, in order.

    ``arguments`` may be a lazy iterator: it is consumed only as tasks are
    dispatched. With a backend that cannot return a generator, at most
    ``4 * n_workers`` tasks are submitted (and their results held) at once.
    """
    from joblib import delayed

    parallel, streaming = streaming_parallel(n_jobs)
    if streaming:
        yield from parallel(delayed(function)(*args) for args in arguments)
        return
    window = _TASKS_PER_WORKER * n_workers_of(n_jobs)
    arguments = iter(arguments)
    with parallel:  # one pool for every window
        while batch := list(itertools.islice(arguments, window)):
            yield from parallel(delayed(function)(*args) for args in batch)


def _problem(path):
    """``(message, None)`` if ``path`` cannot be a readable audio file, else ``(None, stamp)``."""
    try:
        stamp = file_stamp(path)
    except FileNotFoundError:
        return "no such file", None
    except OSError as exc:
        return " ".join(f"{type(exc).__name__}: {exc}".split()), None
    if not os.path.isfile(path):
        return "not a regular file", None
    if stamp[0] == 0:
        return "the file is empty (0 bytes)", None
    return None, stamp


def stream_features(items, config, *, compute, n_jobs, cache, emit, on_failure, progress):
    """Compute every clip's feature and call ``emit(i, feature)`` in input order.

    Parameters
    ----------
    items : list of (str, object)
        ``(kind, payload)``: ``("path", str)`` or ``("wave", float32 1-D array)``.
    config : FrontEndConfig
    compute : callable
        ``compute(chunk, config)``, run in the workers (``compute_chunk``).
    n_jobs : int or None
    cache : FeatureCache or None
    emit : callable
        ``emit(i, feature)`` with a float32 ``(n_mels, n_frames)`` feature, or
        ``None`` for a file that failed (after ``on_failure`` returned).
    on_failure : callable
        ``on_failure(i, path, message)``; raises to stop, or returns to go on.
    progress : callable
        Called once per clip done.

    Returns
    -------
    cache_errors : list of str
        Cache writes that failed (a read-only or full cache).
    notes : list of str
        One line per very short clip, from the workers.
    """
    n = len(items)
    chunk = int(min(_MAX_CHUNK, max(1, -(-n // (_TASKS_PER_WORKER * n_workers_of(n_jobs))))))
    starts = range(0, n, chunk)
    ready = {}  # chunk start -> {position: (ok, value)} known before computing
    stamps = {}
    dispatched = collections.deque()  # starts of the chunks sent to workers, in order

    def tasks():  # consumed lazily, possibly in a joblib dispatch thread
        for start in starts:
            found, todo = {}, []
            for i in range(start, min(n, start + chunk)):
                kind, payload = items[i]
                if kind == "path":
                    message, stamp = _problem(payload)
                    if message is not None:
                        found[i] = (False, message)
                        continue
                    hit = cache.load(payload, stamp) if cache is not None else None
                    if hit is not None:
                        found[i] = (True, hit)
                        continue
                    payload = os.path.abspath(payload)
                    stamps[i] = stamp
                todo.append((i, kind, payload))
            if todo:  # a chunk of cache hits and failures needs no worker
                dispatched.append(start)
            ready[start] = found
            if todo:
                yield (todo, config)

    results = iter(parallel_map(compute, tasks(), n_jobs))
    computed = {}
    cache_errors, notes = [], []
    for start in starts:
        # results come in the order chunks were sent; pull until this one is known
        while start not in ready or (dispatched and dispatched[0] == start):
            try:
                value = next(results)
            except StopIteration:  # the last chunks needed no worker
                if start in ready and not dispatched:
                    break
                raise RuntimeError(f"no result for the clips from X[{start}]") from None
            computed[dispatched.popleft()] = value
        found = ready.pop(start)
        chunk_results, chunk_notes = computed.pop(start, ((), ()))
        notes.extend(chunk_notes)
        for i, ok, value in chunk_results:
            found[i] = (ok, value)
            if ok and cache is not None and items[i][0] == "path":
                try:
                    cache.store(os.path.abspath(items[i][1]), stamps.pop(i), value)
                except OSError as exc:  # a read-only or full cache
                    cache_errors.append(f"{type(exc).__name__}: {exc}")
        for i in range(start, min(n, start + chunk)):
            ok, value = found.pop(i)
            if not ok:
                on_failure(i, items[i][1], value)
            emit(i, value if ok else None)
            progress()
    return cache_errors, notes
