"""Work done in joblib workers: decode, window and log-mel a chunk of clips.

Imports stay light (numpy, scipy.fft, soundfile, soxr, threadpoolctl) so
that worker processes start fast; no scikit-learn or librosa here.
"""

from threadpoolctl import threadpool_limits

from ._audio_io import load_window, waveform_window
from ._logmel import log_mel


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
    """
    sr, offset, duration = config["sr"], config["offset"], config["duration"]
    mel_kw = {k: config[k] for k in ("basis", "window", "hop_length", "compression")}
    results = []
    # BLAS / FFT libraries may start one thread per core in every worker;
    # with one clip per worker that only oversubscribes the machine.
    with threadpool_limits(limits=1):
        for position, kind, payload in items:
            if kind == "path":
                try:
                    y = load_window(payload, sr=sr, offset=offset, duration=duration)
                except Exception as exc:  # noqa: BLE001 - reported with file and position
                    results.append((position, False, f"{type(exc).__name__}: {exc}"))
                    continue
            else:
                y = waveform_window(payload, sr=sr, offset=offset, duration=duration)
            results.append((position, True, log_mel(y, **mel_kw)))
    return results
