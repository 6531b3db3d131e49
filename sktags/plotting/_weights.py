"""Distributions of the per-entry loss weights of several weighting schemes."""

import numpy as np

from ..utils import check_label_matrix
from ._base import label_names, require_pyplot


def _check_weights(weights, shape):
    if not isinstance(weights, dict) or not weights:
        raise ValueError(
            "weights must be a non-empty dict {scheme name: weight matrix}, "
            f"got {type(weights).__name__}."
        )
    checked = {}
    for name, W in weights.items():
        W = np.asarray(W, dtype=np.float64)
        if W.shape != shape:
            raise ValueError(
                f"weights[{name!r}] has shape {W.shape}, but Y has shape {shape}."
            )
        if not np.isfinite(W).all():
            i, j = np.argwhere(~np.isfinite(W))[0]
            raise ValueError(f"weights[{name!r}] has NaN or inf at row {i}, column {j}.")
        checked[str(name)] = W
    return checked


def plot_weight_distributions(
    weights,
    Y,
    *,
    target_names=None,
    by_context=False,
    bins=40,
    log=False,
    ax=None,
):
    """Plot the distributions of negative and positive loss weights per scheme.

    The weight matrices of :class:`~sktags.ContextWeightEstimator`
    hold a negative weight ``P(y_c = 0 | y_i)`` where ``Y == 0`` and a
    positive weight (1, or TF-IDF) where ``Y == 1``. This draws the two kinds
    side by side, one colour per scheme: histograms of all entries, or, with
    ``by_context=True``, one box per context and scheme.

    Parameters
    ----------
    weights : dict of {str: array-like of shape (n_samples, n_labels)}
        Weight matrices keyed by scheme name (legend entry), e.g. the output
        of ``ContextWeightEstimator(...).fit_transform(Y)``.
    Y : array-like or sparse matrix of shape (n_samples, n_labels)
        Binary labels that the weights belong to: ``Y == 0`` selects the
        negative entries, ``Y == 1`` the positive ones.
    target_names : sequence of str of length n_labels, default=None
        Context names for ``by_context=True``; None uses the column indices.
    by_context : bool, default=False
        False: histograms (fraction of entries per bin) over all contexts.
        True: box plots per context (boxes at the quartiles, whiskers at the
        5th and 95th percentiles, a dot at the mean).
    bins : int, default=40
        Number of histogram bins, shared by all schemes of a panel.
    log : bool, default=False
        Logarithmic count axis for the histograms.
    ax : sequence of two matplotlib Axes, default=None
        Axes for the negative and the positive weights; None creates a figure
        with two panels.

    Returns
    -------
    axes : ndarray of shape (2,) of matplotlib Axes
        The negative-weight and positive-weight panels.

    Raises
    ------
    ImportError
        When matplotlib is not installed (``pip install "sktags[plot]"``).
    ValueError
        When a weight matrix does not match ``Y`` or has NaN or inf entries.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sktags import ContextWeightEstimator
    >>> from sktags.plotting import plot_weight_distributions
    >>> Y = np.array([[1, 1, 0], [1, 1, 0], [1, 1, 1], [1, 0, 0]])
    >>> weights = {scheme.replace("_", " "):
    ...            ContextWeightEstimator(negative=scheme).fit_transform(Y)
    ...            for scheme in ("exact_match", "ignore_zeros")}
    >>> neg_ax, pos_ax = plot_weight_distributions(weights, Y)
    >>> [t.get_text() for t in neg_ax.get_legend().get_texts()]
    ['exact match (mean 0.67)', 'ignore zeros (mean 0.58)']
    >>> pos_ax.get_title()
    'positive weights (Y = 1), 8 entries'
    """
    Ym = check_label_matrix(Y, name="Y")
    W = _check_weights(weights, Ym.shape)
    m = Ym.shape[1]
    names = label_names(target_names, m, Y)
    if not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}.")
    plt = require_pyplot("plot_weight_distributions")

    if ax is None:
        width = min(max(10.0, 0.35 * m * len(W) + 2.0), 20.0) if by_context else 11.0
        nrows, ncols = (2, 1) if by_context else (1, 2)
        _, axes = plt.subplots(nrows, ncols, figsize=(width, 7.5 if by_context else 4.2),
                               layout="constrained")
    else:
        axes = np.asarray(ax, dtype=object).ravel()
        if axes.shape != (2,):
            raise ValueError("ax must be a sequence of two Axes (negatives, positives).")
    axes = np.asarray(axes, dtype=object).ravel()

    masks = (Ym == 0, Ym == 1)
    kinds = ("negative weights (Y = 0)", "positive weights (Y = 1)")
    colors = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    # Schemes often share one kind of weight (e.g. all positives at 1): the
    # line styles keep coinciding histograms visible.
    styles = ("-", "--", ":", "-.")
    for panel, (a, mask, kind) in enumerate(zip(axes, masks, kinds)):
        values = {name: w[mask] for name, w in W.items()}
        present = [v for v in values.values() if v.size]
        if not present:
            a.text(0.5, 0.5, "no entries", ha="center", va="center", transform=a.transAxes)
            a.set_title(kind)
            a.set_xlabel("weight")
            continue
        if by_context:
            _boxes(a, W, mask, names, colors)
        else:
            lo = min(float(v.min()) for v in present)
            hi = max(float(v.max()) for v in present)
            if hi - lo < 1e-9:
                lo, hi = lo - 0.5, hi + 0.5
            edges = np.linspace(lo, hi, bins + 1)
            for k, (name, v) in enumerate(values.items()):
                if not v.size:
                    continue
                a.hist(v, bins=edges, weights=np.full(v.size, 1.0 / v.size), histtype="step",
                       linewidth=1.8, color=colors[k % len(colors)], log=log,
                       linestyle=styles[k % len(styles)],
                       label=f"{name} (mean {v.mean():.2f})")
            a.set_xlabel("weight")
            a.set_ylabel("fraction of entries")
            a.legend(fontsize="small")
        a.set_title(f"{kind}, {present[0].size:,} entries")
    return axes


def _boxes(a, W, mask, names, colors):
    m = len(names)
    k = len(W)
    width = 0.8 / k
    handles = []
    for s, (name, w) in enumerate(W.items()):
        data = [w[mask[:, c], c] for c in range(m)]
        keep = [c for c in range(m) if data[c].size]
        pos = np.arange(m) - 0.4 + width * (s + 0.5)
        color = colors[s % len(colors)]
        bp = a.boxplot([data[c] for c in keep], positions=pos[keep], widths=0.85 * width,
                       whis=(5, 95), showfliers=False, showmeans=True, patch_artist=True,
                       manage_ticks=False,
                       boxprops={"facecolor": color, "alpha": 0.6, "edgecolor": color},
                       medianprops={"color": "black"},
                       meanprops={"marker": "o", "markerfacecolor": "white",
                                  "markeredgecolor": "black", "markersize": 3},
                       whiskerprops={"color": color}, capprops={"color": color})
        handles.append((bp["boxes"][0] if bp["boxes"] else None, name))
    a.set_xticks(np.arange(m), labels=names, rotation=45, ha="right", rotation_mode="anchor")
    a.set_xlim(-0.6, m - 0.4)
    a.set_xlabel("context")
    a.set_ylabel("weight")
    a.legend([h for h, _ in handles if h is not None],
             [n for h, n in handles if h is not None], fontsize="small",
             loc="upper left", bbox_to_anchor=(1.005, 1.0))
