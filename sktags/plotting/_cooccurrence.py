"""The paper's Figure 1: a heatmap of context co-occurrences."""

import numpy as np

from ..utils import check_label_matrix
from ._base import label_names, require_pyplot

_NORMALIZE = (None, "row", "all")


def plot_cooccurrence(
    Y,
    *,
    target_names=None,
    normalize=None,
    diagonal=True,
    annotate="auto",
    cmap="viridis",
    ax=None,
):
    """Plot the number of samples co-labelled with each pair of labels.

    This is Figure 1 of Ibrahim et al. (ICASSP 2020): a label x label heatmap
    of ``C = Y.T @ Y``, whose entry ``(a, b)`` counts the tracks tagged with
    both context ``a`` and context ``b`` (the diagonal counts the tracks of
    each context), with a colour bar.

    Parameters
    ----------
    Y : array-like or sparse matrix of shape (n_samples, n_labels)
        Binary label indicator matrix.
    target_names : sequence of str of length n_labels, default=None
        Label names for the ticks; None uses a DataFrame's column names, else
        the column indices.
    normalize : {None, "row", "all"}, default=None
        - None: counts.
        - ``"row"``: ``C[a, b] / C[a, a]``, the fraction of the samples of
          row label ``a`` that also carry column label ``b``, i.e. an
          estimate of ``P(b | a)``. A label without samples gives a row of 0.
        - ``"all"``: ``C / n_samples``, the fraction of all samples.
    diagonal : bool, default=True
        Show the diagonal. With False it is left blank, so that the colour
        scale spans the pairs only.
    annotate : bool or "auto", default="auto"
        Write the value in every cell (counts as integers, fractions with two
        decimals), in a colour that contrasts with the cell. ``"auto"``
        annotates up to 20 labels.
    cmap : str or matplotlib Colormap, default="viridis"
        Colour map of the cells.
    ax : matplotlib Axes, default=None
        Axes to draw on; None creates a new figure sized for the number of
        labels.

    Returns
    -------
    ax : matplotlib Axes
        The heatmap's axes; ``ax.images[0].get_array()`` holds the plotted
        matrix (masked on the diagonal when ``diagonal=False``) and
        ``ax.images[0].colorbar`` its colour bar.

    Raises
    ------
    ImportError
        When matplotlib is not installed (``pip install "sktags[plot]"``).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sktags.plotting import plot_cooccurrence
    >>> Y = [[1, 1, 0], [1, 0, 1], [1, 1, 1]]
    >>> ax = plot_cooccurrence(Y, target_names=["car", "chill", "club"])
    >>> ax.images[0].get_array().tolist()
    [[3, 2, 2], [2, 2, 1], [2, 1, 2]]
    >>> ax.get_xlabel()
    'context'
    """
    if normalize not in _NORMALIZE:
        raise ValueError(f"normalize must be one of {_NORMALIZE}, got {normalize!r}.")
    if annotate not in (True, False, "auto"):
        raise ValueError(f'annotate must be True, False or "auto", got {annotate!r}.')
    Ym = check_label_matrix(Y, name="Y")
    n, m = Ym.shape
    names = label_names(target_names, m, Y)
    plt = require_pyplot("plot_cooccurrence")

    C = Ym.T.astype(np.int64) @ Ym.astype(np.int64)
    if normalize == "row":
        diag = np.diag(C).astype(np.float64)
        values = np.divide(C, diag[:, None], out=np.zeros((m, m)), where=diag[:, None] > 0)
        label = "fraction of the row context's samples"
    elif normalize == "all":
        values = C / n
        label = "fraction of all samples"
    else:
        values = C
        label = "samples with both contexts"
    if not diagonal:
        values = np.ma.masked_array(values, mask=np.eye(m, dtype=bool))

    if ax is None:
        side = min(max(4.0, 0.5 * m + 2.0), 16.0)
        _, ax = plt.subplots(figsize=(side + 1.2, side), layout="constrained")
    im = ax.imshow(values, cmap=cmap, interpolation="nearest")
    ax.figure.colorbar(im, ax=ax, label=label, shrink=0.85)

    ax.set_xticks(np.arange(m), labels=names, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(np.arange(m), labels=names)
    ax.set_xlabel("context")
    ax.set_ylabel("given context" if normalize == "row" else "context")
    title = {
        None: "Co-occurrences of contexts (samples)",
        "row": "P(column context | row context)",
        "all": "Co-occurrences of contexts (fraction of samples)",
    }[normalize]
    ax.set_title(title)
    # Minor ticks between cells, for a thin white grid.
    ax.set_xticks(np.arange(m + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(m + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="w", linewidth=0.5)
    ax.tick_params(which="minor", length=0)

    if annotate == "auto":
        annotate = m <= 20
    if annotate:
        fmt = "{:d}" if normalize is None else "{:.2f}"
        fontsize = 8 if m <= 12 else max(4.5, 8 - 0.25 * (m - 12))
        for a in range(m):
            for b in range(m):
                if not diagonal and a == b:
                    continue
                v = values[a, b]
                text = fmt.format(int(v)) if normalize is None else fmt.format(float(v))
                r, g, bl, _ = im.cmap(im.norm(v))
                color = "black" if 0.299 * r + 0.587 * g + 0.114 * bl > 0.5 else "white"
                ax.text(b, a, text, ha="center", va="center", fontsize=fontsize, color=color)
    return ax
