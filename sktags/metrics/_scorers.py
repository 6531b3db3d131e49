"""Scorers for ``GridSearchCV(scoring=...)`` on multi-label taggers."""

import numpy as np
from sklearn.metrics import hamming_loss

from ._checks import proba_to_scores
from ._ranking import roc_auc_macro, true_negative_rate


class MultilabelScorer:
    """A scorer ``scorer(estimator, X, y_true)`` for multi-label estimators.

    It calls ``estimator.<response_method>(X)`` itself, turns a list of
    ``(n_samples, 2)`` ``predict_proba`` arrays into an ``(n_samples,
    n_labels)`` matrix, and returns ``sign * score_func(y_true, y_pred)``.

    Unlike :func:`sklearn.metrics.make_scorer`, it does not need the
    estimator's ``classes_`` to describe a multi-label target (scikit-learn's
    scorers read ``classes_`` of every classifier and, for two labels, would
    take ``predict_proba`` for a binary problem and keep one column).

    Parameters
    ----------
    score_func : callable
        ``score_func(y_true, y_pred, **kwargs)``.
    response_method : {"predict", "predict_proba", "decision_function"}
        Estimator method that gives ``y_pred``.
    sign : {1, -1}, default=1
        -1 for a loss, so that greater is better.
    **kwargs
        Passed to ``score_func``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from sktags.metrics import SCORERS
    >>> X = np.array([[0.0], [0.1], [1.0], [1.1]])
    >>> Y = np.array([[1, 0], [1, 0], [0, 1], [0, 1]])
    >>> knn = KNeighborsClassifier(n_neighbors=1).fit(X, Y)
    >>> SCORERS["roc_auc_macro"](knn, X, Y)
    1.0
    >>> SCORERS["neg_hamming_loss"](knn, X, Y)
    -0.0
    """

    def __init__(self, score_func, response_method, sign=1, **kwargs):
        self.score_func = score_func
        self.response_method = response_method
        self.sign = sign
        self.kwargs = kwargs

    def __call__(self, estimator, X, y_true, sample_weight=None):
        y_pred = getattr(estimator, self.response_method)(X)
        if self.response_method == "predict_proba":
            y_pred = proba_to_scores(y_pred, getattr(estimator, "classes_", None))
        kwargs = dict(self.kwargs)
        if sample_weight is not None:
            kwargs["sample_weight"] = sample_weight
        return self.sign * self.score_func(np.asarray(y_true), y_pred, **kwargs)

    def __repr__(self):
        args = "".join(f", {k}={v!r}" for k, v in self.kwargs.items())
        sign = "" if self.sign == 1 else f", sign={self.sign}"
        return (
            f"MultilabelScorer({self.score_func.__name__}, "
            f"response_method={self.response_method!r}{sign}{args})"
        )


tn_rate_macro_scorer = MultilabelScorer(
    true_negative_rate, "predict", average="macro", zero_division=0.0
)
neg_hamming_loss_scorer = MultilabelScorer(hamming_loss, "predict", sign=-1)
roc_auc_macro_scorer = MultilabelScorer(roc_auc_macro, "predict_proba")

SCORERS = {
    "tn_rate_macro": tn_rate_macro_scorer,
    "neg_hamming_loss": neg_hamming_loss_scorer,
    "roc_auc_macro": roc_auc_macro_scorer,
}
