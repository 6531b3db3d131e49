"""ContextWeightEstimator: the paper's per-entry confidence weights (equations 2 to 4)."""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils import NumberInterval, check_label_matrix, check_nonnegative_counts
from . import _label_sets as ls
from ._tfidf import fit_tfidf, tfidf_weights



class ContextWeightEstimator(TransformerMixin, BaseEstimator):
    """Per-entry loss weights for multi-label data with missing negatives.

    Learns label co-occurrence statistics (and, for TF-IDF, playlist-count
    statistics) from a training label matrix, and turns any label matrix ``Y``
    into a weight matrix ``W`` of the same shape for the sample-level weighted
    cross-entropy of Ibrahim et al. (ICASSP 2020), equation 2::

        loss = -W * (Y * log p + (1 - Y) * log(1 - p))

    Where ``Y == 1``, ``W`` holds the positive weight (equation 4); where
    ``Y == 0``, the negative weight ``P(y_c = 0 | y_i)`` (equation 3).

    Parameters
    ----------
    negative : {"ignore_zeros", "exact_match"} or None, default="ignore_zeros"
        Negative weight of entry ``(i, c)`` with ``y_ic = 0``, estimated from the
        fitted rows only:

        - ``"ignore_zeros"``: condition on the positive labels ``S_i`` of row
          ``i``. With ``T`` the number of fitted rows whose positives include
          all of ``S_i`` and ``P`` the number of those that also carry ``c``,
          the weight is ``(T - P) / T``. A row without labels conditions on
          nothing: ``T`` is the number of fitted rows and the weight is the
          fraction of them without ``c``.
        - ``"exact_match"``: condition on the whole vector, zeros included.
          With ``N0`` the number of fitted rows equal to ``y_i`` and ``N1``
          the number equal to ``y_i`` with ``c`` switched on, the weight is
          ``N0 / (N0 + N1)`` (1 when the switched-on vector never occurs).
          No smoothing.
        - ``None``: every negative weight is 1.
    positive : {"tfidf"} or None, default=None
        Positive weight of entry ``(i, c)`` with ``y_ic = 1``:

        - ``"tfidf"``: ``raw = n_ic / N_c * ln(m / |S_i|)`` with ``n`` the
          ``playlist_counts`` and ``N_c`` the column sums of the *fitted*
          counts. Per context, the fitted entries with ``raw > 0`` give a mean
          and a sample standard deviation (``ddof=1``); an entry with
          ``raw > 0`` gets ``(raw - mean) / std + 1`` clipped to ``clip``, any
          other entry gets 0. The statistics are taken over all entries with
          ``raw > 0``, as the authors computed them on the count matrix, even
          the few with ``y = 0`` and a count below the labelling threshold.
          Consequences kept from the paper: a positive with a zero count,
          and every positive of a row carrying all ``m`` labels (idf 0), get
          weight 0. A context with fewer than two ``raw > 0`` fitted entries
          or no spread has no z-score: its ``raw > 0`` entries get weight 1
          (clipped). A context without fitted counts (``N_c = 0``) has raw 0
          everywhere, so weight 0. A row without labels has idf 0 (it has no
          positive entry). Weights are never NaN or infinite.
        - ``None``: every positive weight is 1.
    unseen : "ignore_zeros" or float in [0, 1], default="ignore_zeros"
        Negative weights for a row whose conditioning event never occurs in
        the fitted rows, so that the formula above is 0 / 0. This happens only
        in ``transform`` on rows other than the fitted ones: fitted and applied
        on the same matrix, the weights are exactly the definitions above.

        - For ``negative="exact_match"``, a row is unseen when its label vector
          never occurs in the fitted rows. With ``"ignore_zeros"`` it backs off
          to the ignore-zeros weights of the same fit (and then to 1, see
          below); with a float it gets that weight on all its negatives.
        - For ``negative="ignore_zeros"``, a row is unseen when no fitted row
          carries all its positive labels (``T = 0``). It gets weight 1.0 with
          ``"ignore_zeros"``, or the given float.
    clip : tuple of (float, float) or None, default=(0.0, 2.0)
        Bounds applied to the normalised TF-IDF weights (the authors' [0, 2]);
        None leaves them unclipped.
    label_names : sequence of str or None, default=None
        Names of the ``m`` label columns, for reports and plots. When None, the
        column names of a DataFrame passed to ``fit`` are used, else
        ``"y0", "y1", ...``.

    Attributes
    ----------
    n_labels_ : int
        Number of label columns ``m``.
    n_features_in_ : int
        Same as ``n_labels_`` (the label matrix is this transformer's input).
    label_names_ : ndarray of shape (n_labels,), dtype object
        Label names.
    n_samples_fit_ : int
        Number of fitted rows.
    cooccurrence_ : ndarray of shape (n_labels, n_labels), dtype int64
        ``Y.T @ Y`` over the fitted rows: ``cooccurrence_[a, b]`` is the number
        of rows carrying both labels; the diagonal holds the label counts.
    label_vectors_ : ndarray of shape (n_vectors, n_labels), dtype uint8
        The distinct label vectors of the fitted rows.
    label_vector_counts_ : ndarray of shape (n_vectors,), dtype int64
        How many fitted rows carry each distinct vector.
    playlist_totals_ : ndarray of shape (n_labels,)
        ``N_c``, the column sums of the fitted ``playlist_counts``. Only with
        ``positive="tfidf"``.
    tfidf_mean_, tfidf_std_ : ndarray of shape (n_labels,)
        Mean and sample standard deviation of the fitted ``raw > 0`` TF-IDF
        entries of each context; both 0 for a context without a z-score. Only
        with ``positive="tfidf"``.

    See Also
    --------
    sklearn.preprocessing.MultiLabelBinarizer : Builds the label matrix.

    Notes
    -----
    The statistics are kept as the distinct label vectors of the fitted rows
    and their multiplicities (and, for at most 20 labels, a table of
    ``2**m`` superset counts), never as pairs of rows. Transform looks each
    distinct query vector up by binary search, so fit + transform on the
    49,929 x 15 released dataset takes about 0.1 s on two cores.

    The authors estimated the weights on all tracks, test set included; fit
    this estimator on the training labels only.

    Examples
    --------
    >>> import numpy as np
    >>> from sktags import ContextWeightEstimator
    >>> Y = np.array([[1, 1, 0],
    ...               [1, 1, 0],
    ...               [1, 1, 1],
    ...               [1, 0, 0]])
    >>> est = ContextWeightEstimator(negative="exact_match").fit(Y)

    Row 4 lacks label 1: one row equals it, two equal it with label 1 switched
    on, so its weight is 1 / (1 + 2). Ignoring zeros, all four rows contain
    its positives {0}, three of them carry label 1: (4 - 3) / 4 = 0.25.

    >>> est.transform(Y)
    array([[1.        , 1.        , 0.6666667 ],
           [1.        , 1.        , 0.6666667 ],
           [1.        , 1.        , 1.        ],
           [1.        , 0.33333334, 1.        ]], dtype=float32)
    >>> est.set_params(negative="ignore_zeros").fit_transform(Y)[3]
    array([1.  , 0.25, 0.75], dtype=float32)
    >>> est.cooccurrence_
    array([[4, 3, 1],
           [3, 3, 1],
           [1, 1, 1]])
    """

    _parameter_constraints: dict = {
        "negative": [None, StrOptions({"ignore_zeros", "exact_match"})],
        "positive": [None, StrOptions({"tfidf"})],
        "unseen": [StrOptions({"ignore_zeros"}), NumberInterval(Real, 0, 1, closed="both")],
        "clip": [None, tuple, list, np.ndarray],
        "label_names": [None, "array-like"],
    }

    def __init__(
        self,
        *,
        negative="ignore_zeros",
        positive=None,
        unseen="ignore_zeros",
        clip=(0.0, 2.0),
        label_names=None,
    ):
        self.negative = negative
        self.positive = positive
        self.unseen = unseen
        self.clip = clip
        self.label_names = label_names

    # ------------------------------------------------------------------ checks
    def _check_clip(self):
        if self.clip is None:
            return None
        try:
            lo, hi = (float(v) for v in self.clip)
        except (TypeError, ValueError):
            raise ValueError(f"clip must be None or a pair (low, high), got {self.clip!r}.") from None
        if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
            raise ValueError(f"clip must be finite with low <= high, got {self.clip!r}.")
        return lo, hi

    def _check_counts(self, playlist_counts, shape, where):
        if playlist_counts is None:
            if self.positive == "tfidf":
                raise ValueError(
                    f"positive='tfidf' needs playlist_counts in {where}: an "
                    f"(n_samples, n_labels) matrix of non-negative playlist counts."
                )
            return None
        return check_nonnegative_counts(
            playlist_counts, name="playlist_counts", shape=shape
        )

    # ---------------------------------------------------------------- fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, Y, y=None, *, playlist_counts=None):
        """Learn the weight statistics from a training label matrix.

        Parameters
        ----------
        Y : {array-like, sparse matrix} of shape (n_samples, n_labels)
            Binary indicator matrix (bool, int or float 0/1).
        y : None
            Ignored; present for API consistency (pipelines pass it).
        playlist_counts : {array-like, sparse matrix} of shape (n_samples, n_labels), \
default=None
            Non-negative number of playlists of each context that contain each
            track. Required when ``positive="tfidf"``; otherwise only checked.

        Returns
        -------
        self : ContextWeightEstimator
            Fitted estimator.
        """
        self._check_clip()
        Y = validate_data(
            self, Y, accept_sparse=True, dtype=None, ensure_all_finite=False
        )
        Y = check_label_matrix(Y)
        n, m = Y.shape
        C = self._check_counts(playlist_counts, Y.shape, "fit")

        if self.label_names is not None:
            names = np.asarray(list(self.label_names), dtype=object)
            if names.shape != (m,):
                raise ValueError(
                    f"label_names has {names.size} names, but Y has {m} label columns."
                )
        elif hasattr(self, "feature_names_in_"):
            names = np.asarray(self.feature_names_in_, dtype=object)
        else:
            names = np.asarray([f"y{j}" for j in range(m)], dtype=object)

        keys, bits, counts, _ = ls.distinct_rows(Y)
        self.n_labels_ = m
        self.label_names_ = names
        self.n_samples_fit_ = n
        self.label_vectors_ = bits
        self.label_vector_counts_ = counts
        self.cooccurrence_ = bits.T.astype(np.int64) @ (
            bits.astype(np.int64) * counts[:, None]
        )
        self._keys = keys
        self._superset_table = (
            ls.superset_table(bits, counts) if m <= ls.SOS_MAX_LABELS else None
        )
        if self.positive == "tfidf":
            (
                self.playlist_totals_,
                self.tfidf_mean_,
                self.tfidf_std_,
                self._tfidf_scorable,
            ) = fit_tfidf(Y, C)
        else:  # no TF-IDF statistics of an earlier fit may outlive this one
            for name in ("playlist_totals_", "tfidf_mean_", "tfidf_std_", "_tfidf_scorable"):
                self.__dict__.pop(name, None)
        return self

    # ------------------------------------------------------------- transform
    def _negative_weights(self, bits, packed):
        """Negative weights of distinct query vectors, shape (q, m), float64."""
        m = self.n_labels_
        q = bits.shape[0]
        fallback = 1.0 if self.unseen == "ignore_zeros" else float(self.unseen)
        if self.negative == "exact_match":
            n0, n1 = ls.exact_match_counts(self._keys, self.label_vector_counts_, packed, m)
            seen = n0 > 0
            w = np.ones((q, m))
            den = n0[seen, None] + n1[seen] * (1 - bits[seen])
            w[seen] = n0[seen, None] / den
            unseen = ~seen
            if unseen.any():
                if self.unseen == "ignore_zeros":
                    w[unseen] = self._ignore_zeros(bits[unseen], fallback)
                else:
                    w[unseen] = fallback
            return w
        return self._ignore_zeros(bits, fallback)

    def _ignore_zeros(self, bits, fallback):
        t, p = ls.superset_counts(
            self.label_vectors_,
            self.label_vector_counts_,
            bits,
            table=self._superset_table,
        )
        w = np.full(p.shape, fallback)
        ok = t > 0
        w[ok] = (t[ok, None] - p[ok]) / t[ok, None]
        return w

    def transform(self, Y, *, playlist_counts=None):
        """Weight matrix of a label matrix, with the fitted statistics.

        Parameters
        ----------
        Y : {array-like, sparse matrix} of shape (n_samples, n_labels)
            Binary indicator matrix.
        playlist_counts : {array-like, sparse matrix} of shape (n_samples, n_labels), \
default=None
            Playlist counts of these rows; required when ``positive="tfidf"``.

        Returns
        -------
        W : ndarray of shape (n_samples, n_labels), dtype float32
            Positive weights where ``Y == 1`` and negative weights where
            ``Y == 0``; finite and non-negative (with a non-negative ``clip``).
        """
        check_is_fitted(self, "cooccurrence_")
        self._validate_params()  # parameters may have been set after fit
        clip = self._check_clip()
        Y = validate_data(
            self, Y, accept_sparse=True, dtype=None, ensure_all_finite=False, reset=False
        )
        Y = check_label_matrix(Y, n_labels=self.n_labels_)
        C = self._check_counts(playlist_counts, Y.shape, "transform")
        if self.positive == "tfidf" and not hasattr(self, "playlist_totals_"):
            raise ValueError(
                "positive='tfidf' was set after fit; fit again with playlist_counts."
            )

        if self.negative is None:
            neg = np.ones(Y.shape)
        else:
            keys, packed = ls.pack_rows(Y)
            _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
            neg = self._negative_weights(Y[first], packed[first])[inverse.ravel()]

        if self.positive == "tfidf":
            pos = tfidf_weights(
                Y,
                C,
                self.playlist_totals_,
                self.tfidf_mean_,
                self.tfidf_std_,
                self._tfidf_scorable,
                clip,
            )
        else:
            pos = 1.0
        return np.where(Y == 1, pos, neg).astype(np.float32)

    def fit_transform(self, Y, y=None, *, playlist_counts=None):
        """Fit on ``Y`` and return its weight matrix.

        Fitted and applied on the same rows, the weights are exactly the
        authors' definitions (no row is unseen).

        Parameters
        ----------
        Y : {array-like, sparse matrix} of shape (n_samples, n_labels)
            Binary indicator matrix.
        y : None
            Ignored.
        playlist_counts : {array-like, sparse matrix} of shape (n_samples, n_labels), \
default=None
            Playlist counts; required when ``positive="tfidf"``.

        Returns
        -------
        W : ndarray of shape (n_samples, n_labels), dtype float32
            Positive weights where ``Y == 1``, negative weights elsewhere.
        """
        return self.fit(Y, playlist_counts=playlist_counts).transform(
            Y, playlist_counts=playlist_counts)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: the label names.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored; present for API consistency.

        Returns
        -------
        names : ndarray of shape (n_labels,), dtype object
            ``label_names_``.
        """
        check_is_fitted(self, "label_names_")
        return self.label_names_.copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = False
        tags.transformer_tags.preserves_dtype = []
        return tags
