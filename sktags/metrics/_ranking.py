"""True negative rate and a macro ROC-AUC that tolerates single-class labels."""

import warnings

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import roc_auc_score

from ._checks import check_sample_weight, check_scores, check_targets, confusion_counts

_AVERAGES = (None, "macro", "micro")


def _check_zero_division(zero_division):
    if isinstance(zero_division, str):
        if zero_division != "warn":
            raise ValueError(
                f"zero_division must be 'warn', 0.0, 1.0 or np.nan, got {zero_division!r}."
            )
        return 0.0, True
    z = float(zero_division)
    if not (np.isnan(z) or z in (0.0, 1.0)):
        raise ValueError(
            f"zero_division must be 'warn', 0.0, 1.0 or np.nan, got {zero_division!r}."
        )
    return z, False


def _safe_ratio(num, den, zero_division, what):
    """num / den with ``zero_division`` where den == 0 (element-wise)."""
    value, warn = _check_zero_division(zero_division)
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, value)
    ok = den > 0
    np.divide(num, den, out=out, where=ok)
    if warn and not np.all(ok):
        warnings.warn(
            f"{what} is ill-defined and being set to 0.0 where there are no "
            "negative samples in y_true. Use `zero_division` to control this.",
            UndefinedMetricWarning,
            stacklevel=3,
        )
    return out


def _nanmean(values):
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0 or np.isnan(values).all():
        return np.nan
    return float(np.nanmean(values))


def true_negative_rate(y_true, y_pred, *, average=None, sample_weight=None, zero_division="warn"):
    """True negative rate (specificity), TN / (TN + FP), per label or averaged.

    Parameters
    ----------
    y_true : {array-like, sparse matrix} of shape (n_samples, n_labels) or (n_samples,)
        Ground-truth binary indicator matrix (1-D: a single label).
    y_pred : {array-like, sparse matrix} of the same shape
        Predicted binary indicator matrix.
    average : {None, "macro", "micro"}, default=None
        ``None`` returns one rate per label; ``"macro"`` their unweighted mean;
        ``"micro"`` pools the counts of all labels: sum(TN) / sum(TN + FP).
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the rows in the counts.
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        Value for a label without negatives in ``y_true`` (TN + FP = 0).
        ``"warn"`` gives 0.0 with an ``UndefinedMetricWarning``; with
        ``np.nan``, such labels are left out of the macro average.

    Returns
    -------
    tnr : float or ndarray of shape (n_labels,)
        The rate of each label, or their average.

    See Also
    --------
    sklearn.metrics.recall_score : The same rate for the positive class.

    Examples
    --------
    >>> from sktags.metrics import true_negative_rate
    >>> y_true = [[0, 1], [0, 0], [1, 0], [0, 0]]
    >>> y_pred = [[1, 1], [0, 0], [1, 1], [0, 0]]
    >>> true_negative_rate(y_true, y_pred)
    array([0.66666667, 0.66666667])
    >>> float(true_negative_rate(y_true, y_pred, average="micro"))
    0.6666666666666666
    """
    if average not in _AVERAGES:
        raise ValueError(f"average must be one of {_AVERAGES}, got {average!r}.")
    _check_zero_division(zero_division)
    y_true, y_pred = check_targets(y_true, y_pred)
    w = check_sample_weight(sample_weight, y_true.shape[0])
    tn, fp, _, _ = confusion_counts(y_true, y_pred, w)
    if average == "micro":
        return float(_safe_ratio(tn.sum(), tn.sum() + fp.sum(), zero_division, "True negative rate"))
    tnr = _safe_ratio(tn, tn + fp, zero_division, "True negative rate")
    if average == "macro":
        return _nanmean(tnr)
    return tnr


def roc_auc_per_label(y_true, y_score, *, sample_weight=None):
    """ROC-AUC of each label, NaN for a label with a single class in ``y_true``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_labels) or (n_samples,)
        Binary indicator matrix.
    y_score : array-like of the same shape, or a list of (n_samples, 2) arrays
        Scores of the positive class, e.g. ``predict_proba`` output.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the rows.

    Returns
    -------
    auc : ndarray of shape (n_labels,)
        ROC-AUC of each label; NaN where it is undefined.

    Examples
    --------
    >>> from sktags.metrics import roc_auc_per_label
    >>> roc_auc_per_label([[1, 0], [0, 0], [1, 0]], [[0.9, 0.2], [0.1, 0.3], [0.4, 0.8]])
    array([ 1., nan])
    """
    y_true, y_score = check_scores(y_true, y_score)
    w = check_sample_weight(sample_weight, y_true.shape[0])
    m = y_true.shape[1]
    auc = np.full(m, np.nan)
    for j in range(m):
        col = y_true[:, j]
        if w is None:
            scorable = 0 < col.sum() < col.size
        else:
            scorable = w[col == 1].sum() > 0 and w[col == 0].sum() > 0
        if scorable:
            auc[j] = roc_auc_score(col, y_score[:, j], sample_weight=w)
    return auc


def roc_auc_macro(y_true, y_score, *, sample_weight=None):
    """Macro-averaged ROC-AUC over the labels that have both classes in ``y_true``.

    :func:`sklearn.metrics.roc_auc_score` gives NaN (or raises) for a label
    absent from a cross-validation fold; this function leaves such labels out
    of the mean instead. When no label has both classes, it warns
    (``UndefinedMetricWarning``) and returns NaN.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_labels) or (n_samples,)
        Binary indicator matrix.
    y_score : array-like of the same shape, or a list of (n_samples, 2) arrays
        Scores or probabilities of the positive class, as from ``predict_proba``.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the rows.

    Returns
    -------
    auc : float
        Mean ROC-AUC over the scorable labels, or NaN if there is none.

    Examples
    --------
    >>> from sktags.metrics import roc_auc_macro
    >>> y_true = [[1, 0], [0, 0], [1, 0], [0, 0]]
    >>> y_score = [[0.9, 0.2], [0.1, 0.3], [0.4, 0.8], [0.5, 0.1]]
    >>> roc_auc_macro(y_true, y_score)  # label 1 has no positive: skipped
    0.75
    """
    auc = roc_auc_per_label(y_true, y_score, sample_weight=sample_weight)
    if np.isnan(auc).all():
        warnings.warn(
            "No label has both classes in y_true: ROC-AUC is undefined, returning NaN.",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        return np.nan
    return float(np.nanmean(auc))
