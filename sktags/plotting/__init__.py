"""Figures for context tagging: co-occurrences, loss weights, evaluation reports.

matplotlib is an optional dependency (``pip install "sktags[plot]"``), imported
only when a function is called.
"""

from ._cooccurrence import plot_cooccurrence
from ._report import plot_context_report
from ._weights import plot_weight_distributions

__all__ = ["plot_context_report", "plot_cooccurrence", "plot_weight_distributions"]
