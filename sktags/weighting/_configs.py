"""The five weighting configurations of the paper's Table 2, defined once."""

from dataclasses import dataclass
from types import MappingProxyType

from ._context_weights import ContextWeightEstimator

__all__ = ["TABLE2_CONFIGURATIONS", "WeightingConfiguration", "table2_param_grid"]


@dataclass(frozen=True)
class WeightingConfiguration:
    """One weighting of the loss, as a row of the paper's Table 2.

    Parameters
    ----------
    key : str
        Short identifier, e.g. ``"ignore_zeros+tfidf"`` (the values of
        ``sktags train --weighting``).
    name : str
        The row name used in tables, e.g. ``"Both (ignore zeros)"``.
    negative : {"exact_match", "ignore_zeros"} or None
        :class:`~sktags.ContextWeightEstimator`'s ``negative``; unused when both
        ``negative`` and ``positive`` are None.
    positive : {"tfidf"} or None
        :class:`~sktags.ContextWeightEstimator`'s ``positive``.

    Examples
    --------
    >>> from sktags.weighting import TABLE2_CONFIGURATIONS
    >>> cfg = TABLE2_CONFIGURATIONS["exact_match+tfidf"]
    >>> cfg.name
    'Both (exact match)'
    >>> cfg.make_estimator()
    ContextWeightEstimator(negative='exact_match', positive='tfidf')
    >>> TABLE2_CONFIGURATIONS["none"].make_estimator() is None
    True
    """

    key: str
    name: str
    negative: str | None
    positive: str | None

    @property
    def params(self):
        """:class:`~sktags.ContextWeightEstimator` parameters, or None for no weights.

        Returns
        -------
        params : dict or None
            ``{"negative": ..., "positive": ...}``; None when the configuration
            uses no weights at all.
        """
        if self.negative is None and self.positive is None:
            return None
        return {"negative": self.negative, "positive": self.positive}

    @property
    def needs_playlist_counts(self):
        """bool : Whether fitting needs ``playlist_counts`` (TF-IDF)."""
        return self.positive == "tfidf"

    def make_estimator(self):
        """A new, unfitted weighting estimator for ``CNNTagger(weighting=...)``.

        Returns
        -------
        weighting : ContextWeightEstimator or None
            A fresh estimator on every call; None for no weights.
        """
        params = self.params
        return None if params is None else ContextWeightEstimator(**params)

    def matches(self, weighting):
        """Whether a ``weighting`` value (an estimator or None) is this configuration.

        Parameters
        ----------
        weighting : ContextWeightEstimator or None
            For example ``CNNTagger.weighting``.

        Returns
        -------
        matches : bool
        """
        if weighting is None:
            return self.params is None
        params = self.params
        return params is not None and all(
            getattr(weighting, k, object()) == v for k, v in params.items()
        )


_ROWS = (
    WeightingConfiguration("none", "No weights", None, None),
    WeightingConfiguration("exact_match", "Negative (exact match)", "exact_match", None),
    WeightingConfiguration("ignore_zeros", "Negative (ignore zeros)", "ignore_zeros", None),
    WeightingConfiguration("exact_match+tfidf", "Both (exact match)", "exact_match", "tfidf"),
    WeightingConfiguration("ignore_zeros+tfidf", "Both (ignore zeros)", "ignore_zeros", "tfidf"),
)

#: The five configurations of the paper's Table 2, in its order: a read-only
#: mapping from key (``"none"``, ``"exact_match"``, ``"ignore_zeros"``,
#: ``"exact_match+tfidf"``, ``"ignore_zeros+tfidf"``) to
#: :class:`WeightingConfiguration`.
TABLE2_CONFIGURATIONS = MappingProxyType({row.key: row for row in _ROWS})


def table2_param_grid(param="weighting"):
    """A GridSearchCV ``param_grid`` with the five configurations of Table 2.

    Parameters
    ----------
    param : str, default="weighting"
        Name of the tagger's weighting parameter in the searched estimator:
        ``"weighting"`` for a bare :class:`~sktags.CNNTagger`,
        ``"tagger__weighting"`` for a pipeline step named ``tagger``.

    Returns
    -------
    param_grid : list of dict, length 5
        One single-candidate grid per configuration, in Table 2's order, each
        holding a fresh weighting estimator (or None), so that
        ``cv_results_["params"][i]`` is the configuration
        ``list(TABLE2_CONFIGURATIONS.values())[i]``.

    Examples
    --------
    >>> from sktags.weighting import table2_param_grid
    >>> grid = table2_param_grid("tagger__weighting")
    >>> len(grid), grid[0]
    (5, {'tagger__weighting': [None]})
    >>> grid[2]
    {'tagger__weighting': [ContextWeightEstimator()]}
    """
    return [{param: [cfg.make_estimator()]} for cfg in TABLE2_CONFIGURATIONS.values()]
