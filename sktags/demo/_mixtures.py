"""A constructed multilabel data set with known true labels and hidden positives.

The paper could not measure what its confidence weights recover, because the
real data has no ground truth for the missing labels. This module builds a
small data set where the truth is known: the *label vectors* are drawn from the
real released label matrix (so the contexts co-occur as they really do), each
tag is made audible by mixing an excerpt of one real recording (or one
synthetic signal) into the clip, and a share of the positives is then hidden
from the training labels, as an incomplete playlist annotation would.
"""

import numbers

import numpy as np
from sklearn.utils import Bunch, check_random_state

from ._recordings import load_recordings

#: Which sound makes each demo context audible. The assignment is arbitrary:
#: it only serves to make each tag detectable from the audio.
DEFAULT_SOURCES = {
    "club": "pulse",
    "dance": "hobbs",
    "party": "vibe_ace",
    "relax": "tchaikovsky",
    "sad": "brahms",
    "sleep": "trumpet",
}


def _pulse(n_samples, sr, rng):
    """A synthetic four-on-the-floor beat: 55 Hz kicks and noise hi-hats."""
    bpm = rng.uniform(120.0, 132.0)
    period = int(round(60.0 / bpm * sr))
    out = np.zeros(n_samples, dtype=np.float64)
    t = np.arange(min(period, n_samples)) / sr
    kick = np.sin(2 * np.pi * 55.0 * t * (1 + 2 * np.exp(-t * 30))) * np.exp(-t * 12)
    hat_len = min(int(0.03 * sr), period)
    hat = rng.standard_normal(hat_len) * np.exp(-np.arange(hat_len) / (0.005 * sr)) * 0.3
    start = int(rng.randint(0, period))
    for s in range(start - period, n_samples, period):
        for piece, offset in ((kick, 0), (hat, period // 2)):
            a, b = s + offset, s + offset + len(piece)
            lo, hi = max(a, 0), min(b, n_samples)
            if lo < hi:
                out[lo:hi] += piece[lo - a : hi - a]
    return out


def _excerpt(signal, n_samples, region, rng, min_rms=0.25, tries=20):
    """A random excerpt of ``n_samples`` from the ``region`` fraction of a signal.

    The signal has unit RMS; an excerpt quieter than ``min_rms`` (a pause, a
    fade) is redrawn, so that every positive tag is audible.
    """
    lo = int(region[0] * len(signal))
    hi = max(int(region[1] * len(signal)), lo + 1)
    segment = signal[lo:hi]
    if len(segment) < n_samples:  # loop a short region
        segment = np.tile(segment, int(np.ceil(n_samples / len(segment))) + 1)
    best, best_rms = None, -1.0
    for _ in range(tries):
        start = int(rng.randint(0, len(segment) - n_samples + 1))
        piece = segment[start : start + n_samples]
        rms = float(np.sqrt(np.mean(piece**2)))
        if rms >= min_rms:
            return piece
        if rms > best_rms:
            best, best_rms = piece, rms
    return best


def _load_sources(sr):
    import soundfile as sf

    rec = load_recordings()
    out = {}
    for name, path in zip(rec.names, rec.filenames):
        y, file_sr = sf.read(str(path), dtype="float32", always_2d=True)
        y = y.mean(axis=1)
        if file_sr != sr:
            import soxr

            y = soxr.resample(y, file_sr, sr)
        out[name] = y / (np.sqrt(np.mean(y**2)) + 1e-9)
    return out


def make_context_mixtures(
    n_samples=300,
    *,
    contexts=tuple(DEFAULT_SOURCES),
    sources=None,
    hidden_share=0.4,
    clip_duration=3.0,
    sr=22050,
    region=(0.0, 1.0),
    noise_db=-30.0,
    label_matrix=None,
    random_state=None,
):
    """Build clips whose true context tags are known, with some positives hidden.

    Constructed data for measuring what the confidence weights recover (see the
    module description). For clip *i*:

    1. its **true** label vector is a row drawn at random from the real released
       label matrix (:func:`sktags.datasets.load_context_tags`), restricted to
       ``contexts``; the contexts therefore co-occur as they do in real data;
    2. its audio is the sum of one random excerpt of the source of each true
       context (a bundled real recording, or the synthetic ``"pulse"`` beat),
       each at a random gain between -9 and 0 dB (every source normalised
       to unit RMS; quiet excerpts such as pauses are redrawn), plus white noise at ``noise_db``, scaled down where the
       peak would exceed 0.9; a clip with no context is quiet noise only;
    3. its **observed** labels hide each true positive independently with
       probability ``hidden_share`` (set to 0), as an incomplete playlist
       annotation would;
    4. its playlist counts are what the paper's labelling rule ("at least 3
       playlists") would have seen: 3 + Poisson(3) for an observed positive,
       0, 1 or 2 for a hidden positive, 0 for a true negative.

    Parameters
    ----------
    n_samples : int, default=300
        Number of clips.
    contexts : sequence of str, default=("club", "dance", "party", "relax", "sad", "sleep")
        Context columns of the released matrix to use as tags.
    sources : dict of str to str, default=None
        Source of each context: a name from
        :func:`~sktags.demo.load_recordings` or ``"pulse"``. Defaults to
        ``DEFAULT_SOURCES`` (an arbitrary assignment).
    hidden_share : float in [0, 1), default=0.4
        Probability that a true positive is hidden in the observed labels.
    clip_duration : float, default=3.0
        Clip length in seconds.
    sr : int, default=22050
        Sample rate of the clips.
    region : tuple of two floats, default=(0.0, 1.0)
        The fraction of every recording from which excerpts are drawn. Give the
        training and the test clips disjoint regions, e.g. ``(0, 0.7)`` and
        ``(0.7, 1)``, so that no test excerpt was heard in training.
    noise_db : float, default=-30.0
        Level of the added white noise relative to a source at 0 dB.
    label_matrix : array-like of shape (n_tracks, len(contexts)), default=None
        The matrix to draw label vectors from; defaults to the released one.
    random_state : int, RandomState instance or None, default=None
        Controls every random draw.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With the fields

        data : ndarray of shape (n_samples, round(clip_duration * sr)), float32
            The waveforms.
        target : ndarray of shape (n_samples, n_contexts), uint8
            The true labels.
        target_observed : ndarray of shape (n_samples, n_contexts), uint8
            The labels with hidden positives (what a model is trained on).
        playlist_counts : ndarray of shape (n_samples, n_contexts), float64
            Constructed playlist counts consistent with ``target_observed``.
        target_names : list of str
            The contexts.
        sources : dict of str to str
            The source of each context.
        sr : int
            The sample rate.
        DESCR : str
            What is real and what is constructed.

    Examples
    --------
    >>> import numpy as np
    >>> from sktags.demo import make_context_mixtures
    >>> mix = make_context_mixtures(20, clip_duration=1.0, random_state=0)
    >>> mix.data.shape, mix.target.shape
    ((20, 22050), (20, 6))
    >>> bool(np.all(mix.target_observed <= mix.target))
    True
    """
    if not isinstance(n_samples, numbers.Integral) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
    if not 0.0 <= hidden_share < 1.0:
        raise ValueError(f"hidden_share must be in [0, 1), got {hidden_share!r}.")
    if not (0.0 <= region[0] < region[1] <= 1.0):
        raise ValueError(f"region must satisfy 0 <= start < end <= 1, got {region!r}.")
    contexts = list(contexts)
    sources = dict(DEFAULT_SOURCES if sources is None else sources)
    missing = [c for c in contexts if c not in sources]
    if missing:
        raise ValueError(f"No source given for contexts {missing}.")
    rng = check_random_state(random_state)

    if label_matrix is None:
        from ..datasets import load_context_tags

        tags = load_context_tags()
        names = list(tags.target_names)
        unknown = [c for c in contexts if c not in names]
        if unknown:
            raise ValueError(f"Unknown contexts {unknown}; choose from {names}.")
        label_matrix = np.asarray(tags.target)[:, [names.index(c) for c in contexts]]
    label_matrix = np.asarray(label_matrix, dtype=np.uint8)
    if label_matrix.ndim != 2 or label_matrix.shape[1] != len(contexts):
        raise ValueError(
            f"label_matrix must have shape (n_tracks, {len(contexts)}), got {label_matrix.shape}."
        )

    target = label_matrix[rng.randint(0, len(label_matrix), size=n_samples)].copy()
    n_audio = int(round(clip_duration * sr))
    recordings = _load_sources(sr)
    data = np.empty((n_samples, n_audio), dtype=np.float32)
    noise_gain = 10 ** (noise_db / 20)
    for i in range(n_samples):
        clip = rng.standard_normal(n_audio) * noise_gain
        for j, context in enumerate(contexts):
            if target[i, j]:
                name = sources[context]
                if name == "pulse":
                    part = _pulse(n_audio, sr, rng)
                    part /= np.sqrt(np.mean(part**2)) + 1e-9
                else:
                    part = _excerpt(recordings[name], n_audio, region, rng)
                clip += part * 10 ** (rng.uniform(-9.0, 0.0) / 20)
        # Scale down only what would clip, so a clip without context stays quiet noise.
        data[i] = clip * (0.9 / max(np.max(np.abs(clip)), 1.0))

    hidden = (target == 1) & (rng.random_sample(target.shape) < hidden_share)
    observed = np.where(hidden, 0, target).astype(np.uint8)
    counts = np.zeros(target.shape, dtype=np.float64)
    counts[observed == 1] = 3 + rng.poisson(3.0, size=int(observed.sum()))
    counts[hidden] = rng.randint(0, 3, size=int(hidden.sum()))

    descr = (
        "Constructed data (sktags.demo.make_context_mixtures).\n"
        "REAL: the label vectors (rows of the released Deezer context matrix, Zenodo "
        "3648287, restricted to the chosen contexts) and the recordings mixed in.\n"
        "CONSTRUCTED: the clips (mixtures of excerpts, one source per true context, "
        "an arbitrary assignment), the hidden positives "
        f"(each true positive hidden with probability {hidden_share}) and the "
        "playlist counts.\nSources: "
        + ", ".join(f"{c} <- {sources[c]}" for c in contexts)
    )
    return Bunch(
        data=data,
        target=target,
        target_observed=observed,
        playlist_counts=counts,
        target_names=contexts,
        sources={c: sources[c] for c in contexts},
        sr=sr,
        DESCR=descr,
    )
