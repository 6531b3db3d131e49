"""joblib with streamed results where the active backend allows it."""


def streaming_parallel(n_jobs):
    """A :class:`joblib.Parallel` that yields results as they complete, where it can.

    Backends that cannot stream (``multiprocessing``, Ray's) refuse
    ``return_as="generator"``; for them the results come as a list.

    Parameters
    ----------
    n_jobs : int or None

    Returns
    -------
    parallel : joblib.Parallel
    streams : bool
        Whether ``parallel`` yields results as they complete.

    Examples
    --------
    >>> from joblib import delayed, parallel_config
    >>> from sktags.utils import streaming_parallel
    >>> parallel, streams = streaming_parallel(1)
    >>> streams, list(parallel(delayed(abs)(x) for x in (-1, 2)))
    (True, [1, 2])
    >>> with parallel_config(backend="multiprocessing"):
    ...     streaming_parallel(2)[1]
    False
    """
    from joblib import Parallel

    try:
        return Parallel(n_jobs=n_jobs, return_as="generator"), True
    except ValueError as exc:  # "Backend ... does not support return_as=generator"
        if "return_as" not in str(exc):
            raise
        return Parallel(n_jobs=n_jobs, return_as="list"), False
