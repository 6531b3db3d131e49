"""Work done in joblib workers: decode, window and log-mel a chunk of clips.

Imports stay light (numpy, scipy.fft, soundfile, soxr, threadpoolctl) so
that worker processes start fast; no scikit-learn or librosa here.
"""

import threading
from contextlib import contextmanager

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


def compute_chunk(items, config):
    """Log-mel features of a chunk of clips, one thread per worker.

    Parameters
    ----------
    items : list of (int, str, object)
        ``(position, kind, payload)`` with ``kind`` ``"path"`` (payload an
        absolute file path) or ``"wave"`` (payload a 1-D float32 waveform).
    config : dict
        ``sr, offset, duration, hop_length, compression, basis, window``.

    Returns
    -------
    results : list of (int, bool, object)
        ``(position, True, feature)`` with a float32 ``(n_mels, n_frames)``
        feature, or ``(position, False, message)`` when a file failed to
        decode (waveforms were validated before and do not fail).
    notes : list of str
        One line per very short clip (see :func:`load_window`).
    """
    sr, offset, duration = config["sr"], config["offset"], config["duration"]
    mel_kw = {k: config[k] for k in ("basis", "window", "hop_length", "compression")}
    results, notes = [], []  # notes: very short clips, warned about by the caller
    # BLAS / FFT libraries may start one thread per core in every worker;
    # with one clip per worker that only oversubscribes the machine.
    with _one_thread_per_worker():
        for position, kind, payload in items:
            if kind == "path":
                try:
                    y = load_window(payload, sr=sr, offset=offset, duration=duration, notes=notes)
                except Exception as exc:  # noqa: BLE001 - reported with file and position
                    results.append((position, False, f"{type(exc).__name__}: {exc}"))
                    continue
            else:
                y = waveform_window(
                    payload, sr=sr, offset=offset, duration=duration, notes=notes,
                    name=f"waveform X[{position}]",
                )
            results.append((position, True, log_mel(y, **mel_kw)))
    return results, notes
