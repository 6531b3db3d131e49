"""context_report: the paper's Table 1 (per-context metrics and their macro average)."""

import numpy as np

from ._checks import check_scores, confusion_counts
from ._ranking import _nanmean, _safe_ratio, roc_auc_per_label

METRICS = ("hamming_loss", "roc_auc", "recall", "precision", "f1", "tn_rate")


class ContextReport:
    """Per-context evaluation table returned by :func:`context_report`.

    Parameters
    ----------
    target_names : sequence of str
        One name per label.
    values : ndarray of shape (n_labels, 6)
        Per-label metrics, columns in the order of ``metrics``.
    macro : ndarray of shape (6,)
        Macro averages.
    support : ndarray of shape (n_labels,)
        Positives per label.
    threshold : ndarray of shape (n_labels,)
        Decision thresholds.
    digits : int, default=2
        Decimals of the text table.

    Attributes
    ----------
    target_names : list of str
        One name per label (context).
    metrics : tuple of str
        Column names, in order: ``"hamming_loss", "roc_auc", "recall",
        "precision", "f1", "tn_rate"``.
    values : ndarray of shape (n_labels, 6)
        ``values[j, k]`` is metric ``metrics[k]`` of label ``j``. ROC-AUC is
        NaN for a label with a single class in ``y_true``.
    macro : ndarray of shape (6,)
        Unweighted mean over labels, NaN entries left out.
    support : ndarray of shape (n_labels,)
        Number of positives of each label in ``y_true``.
    threshold : ndarray of shape (n_labels,)
        Threshold used for each label (predictions are ``score >= threshold``).
    digits : int
        Decimals shown by ``str(report)``.
    """

    def __init__(self, target_names, values, macro, support, threshold, digits=2):
        self.target_names = list(target_names)
        for j, name in enumerate(self.target_names):
            if not isinstance(name, str):
                raise ValueError(f"target_names must be strings, got {name!r} "
                                 f"({type(name).__name__}) at position {j}.")
        self.metrics = METRICS
        self.values = values
        self.macro = macro
        self.support = support
        self.threshold = threshold
        self.digits = digits

    def to_dict(self):
        """The table as nested dicts.

        Returns
        -------
        report : dict
            ``{label: {metric: value, ..., "support": int}, ...,
            "macro avg": {metric: value, ..., "support": int}}``.
        """
        out = {}
        for name, row, sup in zip(self.target_names, self.values, self.support):
            out[name] = {k: float(v) for k, v in zip(self.metrics, row)}
            out[name]["support"] = int(sup)
        out["macro avg"] = {k: float(v) for k, v in zip(self.metrics, self.macro)}
        out["macro avg"]["support"] = int(np.sum(self.support))
        return out

    def __str__(self):
        d = self.digits
        headers = (*self.metrics, "support")
        width = max(len("macro avg"), *(len(n) for n in self.target_names))
        col = [max(len(h), d + 3) for h in headers]
        head = " " * width + "".join(f"  {h:>{w}}" for h, w in zip(headers, col))

        def line(name, row, sup):
            cells = "".join(f"  {v:>{w}.{d}f}" for v, w in zip(row, col))
            return f"{name:>{width}}{cells}  {int(sup):>{col[-1]}}"

        rows = [line(n, r, s) for n, r, s in zip(self.target_names, self.values, self.support)]
        return "\n".join(
            [head, "", *rows, "", line("macro avg", self.macro, np.sum(self.support))]
        ) + "\n"

    def __repr__(self):
        return (
            f"<ContextReport: {len(self.target_names)} labels, "
            f"macro f1={self.macro[4]:.{self.digits}f}>"
        )


def context_report(
    y_true, y_score, *, threshold=0.5, target_names=None, digits=2, zero_division=0.0
):
    """Per-context Hamming loss, ROC-AUC, recall, precision, F1 and TN rate (Table 1).

    Predictions are ``y_score >= threshold``. The Hamming loss of a context is
    the fraction of misclassified entries in its column; its macro average is
    the usual multi-label Hamming loss. ROC-AUC uses the scores, not the
    thresholded predictions, and is NaN for a context with a single class in
    ``y_true``. The macro row is the unweighted mean over contexts, leaving
    NaN entries out.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_labels)
        Binary indicator matrix.
    y_score : array-like of shape (n_samples, n_labels), or a list of (n_samples, 2) arrays
        Scores of the positive class, e.g. ``predict_proba`` output.
    threshold : float or array-like of shape (n_labels,), default=0.5
        Decision threshold, one for all labels or one per label (e.g. from
        :func:`~sktags.metrics.tune_thresholds`).
    target_names : sequence of str of length n_labels, default=None
        Label names (other values are shown as ``str(name)``); default
        ``"0", "1", ...``. A single string or a nested sequence is refused.
    digits : int, default=2
        Decimals in the text table.
    zero_division : {0.0, 1.0, np.nan}, default=0.0
        Value of recall, precision, F1 or TN rate where its denominator is 0.

    Returns
    -------
    report : ContextReport
        ``str(report)`` is a text table; ``report.values``, ``report.macro``
        and ``report.to_dict()`` give the numbers.

    Examples
    --------
    >>> from sktags.metrics import context_report
    >>> y_true = [[1, 0], [1, 1], [0, 0], [0, 1]]
    >>> y_score = [[0.8, 0.1], [0.35, 0.6], [0.3, 0.2], [0.1, 0.7]]
    >>> report = context_report(y_true, y_score, target_names=["car", "chill"])
    >>> print(report)
               hamming_loss  roc_auc  recall  precision     f1  tn_rate  support
    <BLANKLINE>
          car          0.25     1.00    0.50       1.00   0.67     1.00        2
        chill          0.00     1.00    1.00       1.00   1.00     1.00        2
    <BLANKLINE>
    macro avg          0.12     1.00    0.75       1.00   0.83     1.00        4
    <BLANKLINE>
    >>> report.to_dict()["car"]["recall"]
    0.5
    """
    if isinstance(zero_division, str):
        raise ValueError("zero_division must be 0.0, 1.0 or np.nan in context_report.")
    y_true, y_score = check_scores(y_true, y_score)
    n, m = y_true.shape
    thr = np.asarray(threshold, dtype=np.float64)
    if thr.ndim == 0:
        thr = np.full(m, float(thr))
    if thr.shape != (m,) or not np.isfinite(thr).all():
        raise ValueError(
            f"threshold must be a finite float or an array of {m} floats, got shape {thr.shape}."
        )
    if target_names is not None and (isinstance(target_names, (str, bytes))
                                     or np.ndim(target_names) != 1):
        raise ValueError(f"target_names must be a sequence of {m} names, got "
                         f"{str(target_names)[:80]!r}.")
    names = [str(j) for j in range(m)] if target_names is None else [str(t) for t in target_names]
    if len(names) != m:
        raise ValueError(f"target_names has {len(names)} names, but y_true has {m} labels.")
    if not (isinstance(digits, int) and digits >= 0):
        raise ValueError(f"digits must be a non-negative int, got {digits!r}.")

    y_pred = (y_score >= thr).astype(np.uint8)
    tn, fp, fn, tp = confusion_counts(y_true, y_pred)
    values = np.column_stack(
        [
            (fp + fn) / n,
            roc_auc_per_label(y_true, y_score),
            _safe_ratio(tp, tp + fn, zero_division, "Recall"),
            _safe_ratio(tp, tp + fp, zero_division, "Precision"),
            _safe_ratio(2 * tp, 2 * tp + fp + fn, zero_division, "F1"),
            _safe_ratio(tn, tn + fp, zero_division, "True negative rate"),
        ]
    )
    macro = np.array([_nanmean(values[:, k]) for k in range(len(METRICS))])
    support = y_true.sum(axis=0).astype(np.int64)
    return ContextReport(names, values, macro, support, thr, digits)
