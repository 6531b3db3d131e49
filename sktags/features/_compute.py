"""Work done in joblib workers: decode, window and log-mel a chunk of clips.

Imports stay light (numpy, scipy.fft, soundfile, soxr, threadpoolctl) so
that worker processes start fast; no scikit-learn or librosa here.
"""

import threading
from contextlib import contextmanager

import numpy as np
from threadpoolctl import threadpool_limits

from ._audio_io import load_window, waveform_window
from ._logmel import log_mel


_lock = threading.Lock()
_active = 0
_limiter = None


@contextmanager
def _one_thread_per_worker():
    """Limit BLAS/OpenMP pools to one thread while any chunk runs here.

    Reference-counted, so that concurrent chunks in one process (joblib's
    threading backend) restore the original limits only when the last one
    ends; nested ``threadpool_limits`` contexts would restore them out of
    order.
    """
    global _active, _limiter
    with _lock:
        if _active == 0:
            _limiter = threadpool_limits(limits=1)
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                _limiter.restore_original_limits()
                _limiter = None


def _signal(kind, payload, config, notes, position):
    """The samples to analyse: the excerpt, or the whole track from the offset.

    ``config.duration`` is None for whole tracks. Very short clips add a
    line to ``notes`` (warned about by the caller).
    """
    if kind == "path":
        return load_window(payload, sr=config.sr, offset=config.offset,
                           duration=config.duration, notes=notes)
    return waveform_window(payload, sr=config.sr, offset=config.offset,
                           duration=config.duration, notes=notes,
                           name=f"waveform X[{position}]")


def compute_chunk(items, config):
    """Log-mel features of a chunk of clips, one thread per worker.

    Parameters
    ----------
    items : list of (int, str, object)
        ``(position, kind, payload)`` with ``kind`` ``"path"`` (payload an
        absolute file path) or ``"wave"`` (payload a 1-D float32 waveform).
    config : FrontEndConfig
        The whole front-end configuration (filter bank and window included).

    Returns
    -------
    results : list of (int, bool, object)
        ``(position, True, feature)`` with a float32 ``(n_mels, n_frames)``
        feature (``n_frames`` varies with the clip when
        ``config.duration`` is None), or ``(position, False, message)`` when
        a file failed to decode or gave a non-finite feature (a waveform
        that does so raises: waveforms were validated before).
    notes : list of str
        One line per very short clip (see :func:`load_window`).
    """
    mel_kw = dict(
        basis=config.basis,
        window=config.window,
        hop_length=config.hop_length,
        compression=config.compression,
    )
    results, notes = [], []
    # BLAS / FFT libraries may start one thread per core in every worker;
    # with one clip per worker that only oversubscribes the machine.
    with _one_thread_per_worker():
        for position, kind, payload in items:
            try:
                feature = log_mel(_signal(kind, payload, config, notes, position), **mel_kw)
                if not np.isfinite(feature).all():
                    raise ValueError(
                        f"its log-mel feature has {int((~np.isfinite(feature)).sum())} "
                        "non-finite values (audio too loud or corrupt); rescale it to [-1, 1]"
                    )
            except Exception as exc:  # noqa: BLE001 - reported with file and position
                if kind != "path":
                    raise
                message = " ".join(f"{type(exc).__name__}: {exc}".split())
                results.append((position, False, message))
                continue
            results.append((position, True, feature))
    return results, notes
