"""Input checks shared by the metrics: label matrices and score matrices."""

import numpy as np
import scipy.sparse as sp

from ..utils import check_label_matrix


def proba_to_scores(y_score, classes=None):
    """Turn ``predict_proba`` output into an (n, m) matrix of positive-class scores.

    Accepts an array of shape (n, m) (returned as is) or a list of m 2-D arrays of
    shape (n, 2) or (n, 1), as returned by a multi-output classifier such as
    :class:`~sklearn.neighbors.KNeighborsClassifier`. For a list, the column of
    class 1 is taken; a label whose classifier saw a single class gives a
    constant column (1.0 when that class is 1, else 0.0). ``classes`` is the
    classifier's ``classes_`` (a list of arrays), used to find class 1; without
    it, the last column is taken, as scikit-learn orders classes.
    """
    is_list_of_proba = (
        isinstance(y_score, (list, tuple))
        and len(y_score) > 0
        and all(getattr(p, "ndim", None) == 2 for p in y_score)
    )
    if not is_list_of_proba:  # an array, or rows as nested lists
        return y_score
    cols = []
    for j, p in enumerate(y_score):
        p = np.asarray(p, dtype=np.float64)
        cls = None if classes is None else np.asarray(classes[j])
        if cls is not None and cls.shape == (p.shape[1],):
            hit = np.flatnonzero(cls == 1)
            cols.append(p[:, hit[0]] if hit.size else np.zeros(p.shape[0]))
        elif p.shape[1] == 1:
            raise ValueError(
                f"predict_proba output {j} has a single column and no classes_ "
                "tell which class it is."
            )
        else:
            cols.append(p[:, -1])
    return np.column_stack(cols)


def check_targets(y_true, y_pred):
    """Validate a pair of binary label matrices of the same shape.

    1-D inputs are one label. Returns two ``uint8`` arrays of shape (n, m).
    """
    y_true = check_label_matrix(y_true, name="y_true", allow_1d=True)
    y_pred = check_label_matrix(
        y_pred, name="y_pred", allow_1d=True, n_labels=y_true.shape[1]
    )
    if y_pred.shape[0] != y_true.shape[0]:
        raise ValueError(
            f"y_true has {y_true.shape[0]} rows but y_pred has {y_pred.shape[0]}."
        )
    return y_true, y_pred


def check_scores(y_true, y_score, name="y_score"):
    """Validate binary ``y_true`` and a finite score matrix of the same shape.

    ``y_score`` may also be a list of (n, 2) ``predict_proba`` arrays.
    Returns ``(y_true uint8 (n, m), y_score float64 (n, m))``.
    """
    y_true = check_label_matrix(y_true, name="y_true", allow_1d=True)
    y_score = proba_to_scores(y_score)
    if sp.issparse(y_score):
        y_score = y_score.toarray()
    y_score = np.asarray(y_score)
    if y_score.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {y_score.dtype}.")
    y_score = y_score.astype(np.float64)
    if y_score.ndim == 1:
        y_score = y_score.reshape(-1, 1)
    if y_score.shape != y_true.shape:
        raise ValueError(
            f"{name} has shape {y_score.shape}, but y_true has shape {y_true.shape}."
        )
    if not np.isfinite(y_score).all():
        i, j = np.argwhere(~np.isfinite(y_score))[0]
        raise ValueError(f"{name} contains NaN or inf at row {i}, column {j}.")
    return y_true, y_score


def check_sample_weight(sample_weight, n):
    """None, or a finite non-negative vector of length n (float64)."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"sample_weight has shape {w.shape}, expected ({n},).")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("sample_weight must be finite and non-negative.")
    return w


def confusion_counts(y_true, y_pred, sample_weight=None):
    """Per-label (tn, fp, fn, tp), each of shape (m,), weighted if asked."""
    w = np.ones(y_true.shape[0]) if sample_weight is None else sample_weight
    t = y_true.astype(bool)
    p = y_pred.astype(bool)
    tp = w @ (t & p)
    fp = w @ (~t & p)
    fn = w @ (t & ~p)
    tn = w @ (~t & ~p)
    return tn, fp, fn, tp
