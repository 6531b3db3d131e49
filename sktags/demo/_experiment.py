"""The end-to-end demo: released labels, real audio, Table 2 on constructed clips."""

import json
import platform
import time
from pathlib import Path

import numpy as np

from ._recordings import load_recordings
from ._results import AudioResults, DemoResults, ReleasedResults, write_text
from ._table2 import run_table2

BANNER = """\
sktags demo -- what is real and what is constructed
  REAL       the released label matrix (49,929 Deezer tracks x 15 contexts, Zenodo 3648287),
             bundled with sktags: used for the co-occurrences, the weight statistics, and
             as the source of the label vectors in part 3.
  REAL       five freely licensed recordings bundled with sktags (librosa's examples,
             CC BY 3.0 / public domain): decoded and turned into log-mels in part 2,
             and mixed into the clips of part 3.
  CONSTRUCTED  part 3's clips: each tag is made audible by mixing in one recording (or a
             synthetic beat), an arbitrary assignment; a share of the true positives is then
             HIDDEN from the training labels. Because the truth is known, part 3 measures
             what the confidence weights recover -- which the paper could not measure.
  No Deezer audio is used: this demo says nothing about how well contexts are predicted
  from real music; see the examples for the paper's protocol on real previews."""

#: Sizes of the full demo (1-3 minutes on two CPU cores).
FULL_SETTINGS = {
    "n_train": 300,
    "n_test": 160,
    "clip_duration": 3.0,
    "n_mels": 48,
    "max_epochs": 30,
    "patience": 8,
    "filters": (16, 32, 64),
    "hidden_units": 64,
    "released_rows": None,
}
#: Sizes of the quick smoke run (seconds; its numbers mean nothing).
QUICK_SETTINGS = {
    "n_train": 48,
    "n_test": 32,
    "clip_duration": 1.5,
    "n_mels": 32,
    "max_epochs": 2,
    "patience": 2,
    "filters": (8, 16),
    "hidden_units": 16,
    "released_rows": 5000,
}

STEPS = (
    "1/3  REAL labels: the released context-tags matrix",
    "2/3  REAL audio: log-mel extraction from the bundled recordings",
    "3/3  CONSTRUCTED clips with known true labels and hidden positives: Table 2",
)


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def _savefig(fig, path):
    import matplotlib.pyplot as plt

    from ..utils import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return Path(path)


def _released_part(out, plt, settings):
    from ..datasets import load_context_tags
    from ..weighting import ContextWeightEstimator

    tags = load_context_tags()
    Y_all = np.asarray(tags.target)
    names = list(tags.target_names)
    Y = Y_all
    if settings["released_rows"]:
        Y = Y_all[np.random.RandomState(0).choice(len(Y_all), settings["released_rows"], replace=False)]
    C = np.triu(Y.T.astype(np.int64) @ Y.astype(np.int64), k=1)
    a, b = np.unravel_index(np.argsort(-C, axis=None)[:3], C.shape)
    weights, stats = {}, {}
    for scheme in ("exact_match", "ignore_zeros"):
        t0 = time.perf_counter()
        W = ContextWeightEstimator(negative=scheme, positive=None).fit_transform(Y)
        seconds = time.perf_counter() - t0
        neg = W[Y == 0]
        weights[f"negative: {scheme}"] = W
        stats[scheme] = {
            "seconds": seconds,
            "mean_negative_weight": float(neg.mean()),
            "median_negative_weight": float(np.median(neg)),
            "share_below_0.5": float((neg < 0.5).mean()),
            "share_equal_1": float((neg == 1.0).mean()),
            "mean_negative_weight_per_context": {
                n: float(W[:, c][Y[:, c] == 0].mean()) for c, n in enumerate(names)
            },
        }
    res = ReleasedResults(
        n_tracks=len(Y_all), n_contexts=len(names),
        labels_per_track=float(Y_all.sum(1).mean()),
        n_all_contexts=int((Y_all.sum(1) == len(names)).sum()),
        positives={n: int(c) for n, c in zip(names, Y_all.sum(0))},
        top_pairs=[(names[i], names[j], int(C[i, j])) for i, j in zip(a, b)],
        n_rows_weighted=len(Y), weight_stats=stats,
    )
    res.files.append(write_text(out / "released_weight_stats.json", json.dumps(stats, indent=1)))
    if plt is not None:
        from ..plotting import plot_cooccurrence, plot_weight_distributions

        ax = plot_cooccurrence(Y_all, target_names=names)
        ax.set_title("Released dataset: tracks co-labelled with each pair of contexts (Figure 1)")
        res.files.append(_savefig(ax.figure, out / "fig1_cooccurrence.png"))
        axes = plot_weight_distributions(weights, Y, target_names=names)
        axes[0].figure.suptitle("Released dataset: loss weights per scheme (fitted on all of it)")
        res.files.append(_savefig(axes[0].figure, out / "released_weights.png"))
    return res


def _audio_part(out, plt, n_jobs):
    from ..features import MelSpectrogramTransformer

    rec = load_recordings()
    files = [str(f) for f in rec.filenames]
    mel = MelSpectrogramTransformer(n_jobs=n_jobs, memory=str(out / "mel_cache"))
    t0 = time.perf_counter()
    X = mel.fit_transform(files)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    X2 = mel.transform(files)
    warm = time.perf_counter() - t0
    if not np.array_equal(X, X2):
        raise RuntimeError("cached features differ from the computed ones")
    res = AudioResults(
        names=list(rec.names), filenames=list(rec.filenames), shape=tuple(X.shape),
        mean_logmel={n: float(x.mean()) for n, x in zip(rec.names, X)},
        first_pass_s=cold, cached_pass_s=warm,
    )
    if plt is not None:
        fig, axes = plt.subplots(1, len(files), figsize=(3.2 * len(files), 3), sharey=True)
        for ax, name, x in zip(np.atleast_1d(axes), rec.names, X):
            im = ax.imshow(x[0], origin="lower", aspect="auto", cmap="magma")
            ax.set_title(name)
            ax.set_xlabel("frame (46 ms)")
        np.atleast_1d(axes)[0].set_ylabel("mel band")
        fig.colorbar(im, ax=axes, label="log(1 + 100 mel)")
        res.files.append(_savefig(fig, out / "bundled_logmels.png"))
    return res


def run_demo(out_dir, *, quick=False, hidden_share=0.4, random_state=0, n_jobs=None,
             figures=True, progress=None):
    """Run the end-to-end demo offline and write its tables, figures and JSON.

    Three parts (see ``BANNER``): statistics and weights of the released label
    matrix; the log-mel front end on the bundled recordings, with its cache;
    and the five weighting configurations of the paper's Table 2
    (:data:`~sktags.weighting.TABLE2_CONFIGURATIONS`), each trained on the
    observed labels of constructed clips (:func:`make_context_mixtures`) and
    scored on held-out clips against their true and their observed labels.

    Parameters
    ----------
    out_dir : str or path-like
        Output folder, created when missing.
    quick : bool, default=False
        A tiny smoke run (seconds); its numbers mean nothing.
    hidden_share : float in [0, 1), default=0.4
        Share of the true positives hidden from the training labels.
    random_state : int, default=0
        Seed of the constructed clips and of the networks.
    n_jobs : int or None, default=None
        Parallel processes: for the front end, and for training the
        configurations (None: one per configuration, at most one per core).
    figures : bool, default=True
        Draw the figures (needs matplotlib; skipped when it is missing).
    progress : callable or None, default=None
        Called as ``progress(step, None)`` when each of the three parts starts
        and ``progress(step, part_results)`` when it ends; ``step`` is a line
        of ``STEPS``.

    Returns
    -------
    results : DemoResults
        Every number of the three parts, the paths written and the timings.

    Examples
    --------
    >>> import tempfile
    >>> from sktags.demo import run_demo
    >>> res = run_demo(tempfile.mkdtemp(), quick=True, figures=False)  # doctest: +SKIP
    >>> list(res.table2.table2_true)  # doctest: +SKIP
    ['No weights', 'Negative (exact match)', 'Negative (ignore zeros)', 'Both (exact match)', \
'Both (ignore zeros)']
    """
    if not 0.0 <= hidden_share < 1.0:
        raise ValueError(f"hidden_share must be in [0, 1), got {hidden_share!r}.")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"output folder {str(out)!r} exists and is not a folder.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create output folder {str(out)!r}: {exc.strerror}.") from None
    settings = dict(QUICK_SETTINGS if quick else FULL_SETTINGS)
    report = progress or (lambda step, part: None)
    plt = _pyplot() if figures else None
    start = time.perf_counter()

    report(STEPS[0], None)
    released = _released_part(out, plt, settings)
    report(STEPS[0], released)
    report(STEPS[1], None)
    audio = _audio_part(out, plt, n_jobs)
    report(STEPS[1], audio)
    report(STEPS[2], None)
    table2 = run_table2(out, plt, settings, hidden_share=hidden_share, random_state=random_state,
                        n_jobs=n_jobs, savefig=_savefig)
    report(STEPS[2], table2)

    settings = {k: (list(v) if isinstance(v, tuple) else v) for k, v in settings.items()}
    settings.update(hidden_share=hidden_share, random_state=random_state, quick=bool(quick),
                    figures=plt is not None)
    results = DemoResults(
        released=released, audio=audio, table2=table2, settings=settings,
        machine={"python": platform.python_version(), "platform": platform.platform()},
        total_seconds=time.perf_counter() - start, out_dir=out,
        files=[*released.files, *audio.files, *table2.files,
               out / "results.json", out / "README.txt"],
    )
    write_text(out / "results.json", results.to_json())
    write_text(out / "README.txt", BANNER + "\n\nFiles: see results.json and the tables/figures here.\n")
    return results
