"""Part 3 of the demo: Table 2 on constructed clips whose true labels are known."""

import os
import time

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone

from ._mixtures import make_context_mixtures
from ._results import Table2Results, csv_table, write_text


def _auc(pos, neg):
    """P(score of a random ``pos`` > score of a random ``neg``), ties counting half."""
    from sklearn.metrics import roc_auc_score

    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    return float(roc_auc_score(np.r_[np.ones(len(pos)), np.zeros(len(neg))], np.r_[pos, neg]))


def _recovery(observed, hidden, true_neg, configurations):
    """How each negative scheme ranks hidden positives against true negatives."""
    recovery, weights = {}, {}
    for cfg in configurations:
        if cfg.negative is None or cfg.positive is not None:
            continue
        W = cfg.make_estimator().fit_transform(observed)
        weights[cfg.name] = W
        recovery[cfg.name] = {
            "mean_weight_hidden_positives": float(W[hidden].mean()) if hidden.any() else float("nan"),
            "mean_weight_true_negatives": float(W[true_neg].mean()),
            "auc_hidden_vs_true_negative": _auc(-W[hidden], -W[true_neg]),
        }
    return recovery, weights


def _fit_predict(tagger, X_train, y_train, counts, X_test):
    """Fit one configuration on the training clips; its held-out probabilities."""
    tagger.fit(X_train, y_train, playlist_counts=counts)
    return np.asarray(tagger.predict_proba(X_test), dtype=np.float64)


def fit_table2(tagger, X_train, y_train, X_test, *, playlist_counts, configurations, n_jobs=None):
    """Fit ``tagger`` with each weighting configuration; the held-out probabilities.

    Every configuration is fitted on a clone of ``tagger`` with its own fresh
    weighting estimator, on the same training rows, and predicts the same
    held-out rows: exactly the candidates a ``GridSearchCV`` over
    :func:`~sktags.weighting.table2_param_grid` with one predefined split
    would fit, but keeping their predictions.

    Parameters
    ----------
    tagger : CNNTagger
        The unfitted model; its ``weighting`` is replaced.
    X_train, X_test : array-like
        Features of the training and held-out clips.
    y_train : ndarray of shape (n_train, n_labels)
        Training labels.
    playlist_counts : ndarray of shape (n_train, n_labels)
        Playlist counts of the training clips (used by TF-IDF).
    configurations : iterable of WeightingConfiguration
    n_jobs : int or None, default=None
        Parallel processes (joblib); None means one per configuration, at
        most one per core.

    Returns
    -------
    predictions : dict of str to ndarray of shape (n_test, n_labels)
        Keyed by configuration name, in the given order.
    n_jobs : int
        The number of workers used.
    """
    configurations = list(configurations)
    if n_jobs is None:
        n_jobs = min(len(configurations), os.cpu_count() or 1)
    probas = Parallel(n_jobs=n_jobs)(
        delayed(_fit_predict)(
            clone(tagger).set_params(weighting=cfg.make_estimator()),
            X_train, y_train, playlist_counts, X_test,
        )
        for cfg in configurations
    )
    return {cfg.name: P for cfg, P in zip(configurations, probas)}, n_jobs


def run_table2(out, plt, settings, *, hidden_share, random_state, n_jobs, savefig):
    """Part 3: train the five configurations; score them against true and observed labels."""
    from ..features import MelSpectrogramTransformer
    from ..metrics import context_report
    from ..models import CNNTagger
    from ..weighting import TABLE2_CONFIGURATIONS

    configurations = list(TABLE2_CONFIGURATIONS.values())
    seed = random_state
    common = {"hidden_share": hidden_share, "clip_duration": settings["clip_duration"]}
    train = make_context_mixtures(settings["n_train"], region=(0.0, 0.7), random_state=seed, **common)
    test = make_context_mixtures(settings["n_test"], region=(0.7, 1.0), random_state=seed + 1, **common)
    names = list(train.target_names)
    hidden = (train.target == 1) & (train.target_observed == 0)
    true_neg = (train.target_observed == 0) & (train.target == 0)
    recovery, weights = _recovery(train.target_observed, hidden, true_neg, configurations)

    mel = MelSpectrogramTransformer(
        offset=0.0, duration=settings["clip_duration"], n_mels=settings["n_mels"], sr=train.sr
    )
    X_train = mel.fit_transform(train.data)
    X_test = mel.transform(test.data)
    tagger = CNNTagger(
        filters=settings["filters"],
        hidden_units=settings["hidden_units"],
        lr=1.0,
        lr_decay_steps=10**9,
        max_epochs=settings["max_epochs"],
        patience=settings["patience"],
        device="cpu",
        random_state=seed,
    )
    t0 = time.perf_counter()
    # The model trains on the OBSERVED labels of the training clips and is
    # scored against the TRUE labels of the held-out clips.
    predictions, n_jobs = fit_table2(
        tagger, X_train, train.target_observed, X_test,
        playlist_counts=train.playlist_counts, configurations=configurations, n_jobs=n_jobs,
    )
    seconds = time.perf_counter() - t0
    reports_true = {n: context_report(test.target, P, threshold=0.5, target_names=names)
                    for n, P in predictions.items()}
    reports_obs = {n: context_report(test.target_observed, P, threshold=0.5, target_names=names)
                   for n, P in predictions.items()}
    res = Table2Results(
        target_names=names, sources=dict(train.sources), n_train=settings["n_train"],
        n_test=settings["n_test"], clip_duration=settings["clip_duration"],
        n_hidden=int(hidden.sum()), n_true_positives=int(train.target.sum()), recovery=recovery,
        y_true=test.target, y_observed=test.target_observed, predictions=predictions,
        reports_true=reports_true, reports_observed=reports_obs, training_seconds=seconds,
        n_jobs=n_jobs,
        model=f"CNN {tuple(settings['filters'])}, {settings['n_mels']} mel bands, "
        f"<= {settings['max_epochs']} epochs",
    )
    for fname, table in (("table2_true_labels.csv", res.table2_true),
                         ("table2_observed_labels.csv", res.table2_observed)):
        res.files.append(write_text(out / fname, csv_table(table, "weighting")))
    res.files.append(_save_predictions(out / "table2_predictions.npz", res, configurations))
    if plt is not None:
        _figures(res, weights, train.target_observed, out, plt, savefig)
    return res


def _save_predictions(path, res, configurations):
    """The held-out labels and every configuration's probabilities, for re-scoring."""
    from ..utils import atomic_path

    arrays = {"y_true": res.y_true, "y_observed": res.y_observed,
              "target_names": np.asarray(res.target_names, dtype=str)}
    arrays.update({f"proba_{cfg.key}": res.predictions[cfg.name] for cfg in configurations})
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
    return path


def _figures(res, weights, observed, out, plt, savefig):
    from ..plotting import plot_context_report, plot_weight_distributions

    best = res.best
    ax = plot_context_report(res.reports_true[best])
    ax.set_title(f"Constructed set, held-out TRUE labels: {best}")
    res.files.append(savefig(ax.figure, out / "constructed_table1_best.png"))
    axes = plot_weight_distributions(weights, observed, target_names=res.target_names)
    axes[0].figure.suptitle("Constructed training labels: loss weights per scheme")
    res.files.append(savefig(axes[0].figure, out / "constructed_weights.png"))
    true, obs = res.table2_true, res.table2_observed
    configs = list(true)
    fig, ax = plt.subplots(figsize=(8, 4))
    xs = np.arange(len(configs))
    for metric in ("recall", "precision", "tn_rate", "roc_auc"):
        ax.plot(xs, [true[n][metric] for n in configs], "o-", label=f"{metric} (true)")
        ax.plot(xs, [obs[n][metric] for n in configs], "x--", color=ax.lines[-1].get_color(),
                label=f"{metric} (observed)")
    ax.set_xticks(xs, [n.replace(" (", "\n(") for n in configs], fontsize=8)
    ax.set_ylabel("macro average on held-out clips")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7, ncol=2)
    ax.set_title("Table 2 on constructed data: true vs observed labels")
    res.files.append(savefig(fig, out / "constructed_table2.png"))
