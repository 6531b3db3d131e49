"""Per-label decision thresholds that maximise F1 (the authors' Table 1 protocol)."""

import numpy as np

from ._checks import check_scores


def default_threshold_grid():
    """The authors' grid, 0.00, 0.01, ..., 0.99 (``np.arange(100) / 100``)."""
    return np.arange(100) / 100


def f1_per_threshold(y_true, y_score, grid):
    """F1 of each label at each threshold, predicting ``score >= threshold``.

    F1 is ``2 TP / (2 TP + FP + FN)``, and 1.0 where the label has no positive
    and none is predicted, as :func:`sklearn.metrics.f1_score` with
    ``zero_division=1.0``.

    Returns
    -------
    f1 : ndarray of shape (n_labels, n_thresholds)
    """
    n, m = y_true.shape
    f1 = np.empty((m, grid.size))
    for j in range(m):
        s = y_score[:, j]
        pos = np.sort(s[y_true[:, j] == 1])
        all_sorted = np.sort(s)
        n_pos = pos.size
        tp = n_pos - np.searchsorted(pos, grid, side="left")  # positives with s >= t
        pp = n - np.searchsorted(all_sorted, grid, side="left")  # predicted positives
        den = n_pos + pp  # = 2 TP + FP + FN
        f1[j] = np.where(den > 0, 2.0 * tp / np.maximum(den, 1), 1.0)
    return f1


def tune_thresholds(y_true, y_score, *, grid=None):
    """Per-label thresholds that maximise F1 on the given (validation) data.

    For each label, every threshold ``t`` of ``grid`` predicts
    ``y_score >= t``; the threshold with the highest F1 is kept. Ties go to the
    first threshold in ``grid`` order (with the default ascending grid, the
    lowest). F1 follows :func:`sklearn.metrics.f1_score` with
    ``zero_division=1.0``: a label without positives scores 1.0 at thresholds
    that predict no positive, so it gets the lowest such threshold.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_labels) or (n_samples,)
        Binary indicator matrix.
    y_score : array-like of the same shape, or a list of (n_samples, 2) arrays
        Scores, e.g. ``predict_proba`` output.
    grid : array-like of shape (n_thresholds,), default=None
        Candidate thresholds. None uses the authors' grid 0.00, 0.01, ..., 0.99
        (``np.arange(100) / 100``).

    Returns
    -------
    thresholds : ndarray of shape (n_labels,)
        One value of ``grid`` per label; pass it to
        :func:`~sktags.metrics.context_report` as ``threshold``.

    Examples
    --------
    >>> from sktags.metrics import tune_thresholds
    >>> y_true = [[1, 0], [1, 1], [0, 0], [0, 1]]
    >>> y_score = [[0.8, 0.1], [0.35, 0.6], [0.3, 0.2], [0.1, 0.7]]
    >>> tune_thresholds(y_true, y_score)
    array([0.31, 0.21])
    """
    y_true, y_score = check_scores(y_true, y_score)
    grid = default_threshold_grid() if grid is None else np.asarray(grid, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0 or not np.isfinite(grid).all():
        raise ValueError("grid must be a non-empty 1-D array of finite thresholds.")
    f1 = f1_per_threshold(y_true, y_score, grid)
    return grid[np.argmax(f1, axis=1)]
