"""Per-context bar chart of an evaluation report (the paper's Tables 1 and 2)."""

import numpy as np

from ._base import require_pyplot

_LOWER_IS_BETTER = {"hamming_loss": " (lower is better)"}


def _report_arrays(report):
    try:
        names = [str(t) for t in report.target_names]
        metric_names = [str(s) for s in report.metrics]
        values = np.asarray(report.values, dtype=np.float64)
        macro = np.asarray(report.macro, dtype=np.float64)
    except AttributeError as exc:
        raise TypeError(
            "report must have the attributes target_names, metrics, values and macro "
            f"(as returned by sktags.metrics.context_report): {exc}"
        ) from exc
    if values.shape != (len(names), len(metric_names)):
        raise ValueError(
            f"report.values has shape {values.shape}, expected "
            f"({len(names)}, {len(metric_names)}) = (n_labels, n_metrics)."
        )
    if macro.shape != (len(metric_names),):
        raise ValueError(
            f"report.macro has shape {macro.shape}, expected ({len(metric_names)},)."
        )
    return names, metric_names, values, macro


def plot_context_report(report, *, metrics=None, macro=True, ax=None):
    """Plot a grouped bar chart of per-context metrics.

    One group of bars per context (and one for the macro average), one bar
    per metric, as in the paper's per-context results.

    Parameters
    ----------
    report : object
        An evaluation report with the attributes ``target_names`` (n_labels
        str), ``metrics`` (n_metrics str), ``values`` (array of shape
        (n_labels, n_metrics)) and ``macro`` (array of shape (n_metrics,)),
        such as the one returned by ``sktags.metrics.context_report``.
    metrics : sequence of str, default=None
        Metrics to show, in this order; None shows all of ``report.metrics``.
    macro : bool, default=True
        Add a last group with the macro averages.
    ax : matplotlib Axes, default=None
        Axes to draw on; None creates a figure wide enough for the contexts.

    Returns
    -------
    ax : matplotlib Axes
        One ``BarContainer`` per metric in ``ax.containers``, in the order of
        ``metrics``. NaN values (e.g. an undefined ROC-AUC) leave their bar
        out.

    Raises
    ------
    ImportError
        When matplotlib is not installed (``pip install "sktags[plot]"``).
    ValueError
        When a requested metric is not in the report.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sktags.metrics import context_report
    >>> from sktags.plotting import plot_context_report
    >>> y_true = [[1, 0], [1, 1], [0, 0], [0, 1]]
    >>> y_score = [[0.8, 0.1], [0.35, 0.6], [0.3, 0.2], [0.1, 0.7]]
    >>> report = context_report(y_true, y_score, target_names=["car", "chill"])
    >>> ax = plot_context_report(report, metrics=["recall", "f1"])
    >>> [round(float(bar.get_height()), 2) for bar in ax.containers[0]]
    [0.5, 1.0, 0.75]
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['car', 'chill', 'macro']
    """
    names, metric_names, values, macro_values = _report_arrays(report)
    if metrics is None:
        metrics = metric_names
    elif isinstance(metrics, str):
        metrics = [metrics]
    missing = [s for s in metrics if s not in metric_names]
    if missing or not len(metrics):
        raise ValueError(
            f"metrics {missing} are not in the report, whose metrics are {metric_names}."
            if missing else "metrics is empty."
        )
    plt = require_pyplot("plot_context_report")

    cols = [metric_names.index(s) for s in metrics]
    data = values[:, cols]
    groups = list(names)
    if macro:
        data = np.vstack([data, macro_values[cols]])
        groups.append("macro")
    n_groups, k = data.shape
    if ax is None:
        width = min(max(6.0, 0.15 * n_groups * k + 2.5), 18.0)
        _, ax = plt.subplots(figsize=(width, 4.5), layout="constrained")
    bar = 0.8 / k
    x = np.arange(n_groups)
    for j, metric in enumerate(metrics):
        ax.bar(x - 0.4 + bar * (j + 0.5), data[:, j], width=bar,
               label=metric.replace("_", " ") + _LOWER_IS_BETTER.get(metric, ""))
    if macro:
        ax.axvline(n_groups - 1.5, color="0.5", linewidth=0.8, linestyle="--")
    ax.set_xticks(x, labels=groups, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_xlim(-0.6, n_groups - 0.4)
    finite = data[np.isfinite(data)]
    if finite.size and finite.min() >= 0 and finite.max() <= 1:
        ax.set_ylim(0, 1.0)
    ax.set_xlabel("context")
    ax.set_ylabel("score")
    ax.set_title("Per-context evaluation")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.legend(ncols=min(k, 6), fontsize="small", loc="lower center",
              bbox_to_anchor=(0.5, 1.06), frameon=False)
    return ax
