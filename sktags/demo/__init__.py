"""Offline demonstration: bundled real recordings, a constructed set, the end-to-end run.

:func:`load_recordings` returns the five freely licensed recordings shipped
with sktags. :func:`make_context_mixtures` builds a small multilabel data set
from them whose true labels are known and some of whose positives are hidden,
to measure what the paper's confidence weights recover. :func:`run_demo` runs
the whole demonstration (``sktags demo``) and returns a :class:`DemoResults`.
"""

from ._experiment import BANNER, run_demo
from ._mixtures import DEFAULT_SOURCES, make_context_mixtures
from ._recordings import load_recordings
from ._results import AudioResults, DemoResults, ReleasedResults, Table2Results
from ._table2 import fit_table2

__all__ = [
    "BANNER",
    "DEFAULT_SOURCES",
    "AudioResults",
    "DemoResults",
    "ReleasedResults",
    "Table2Results",
    "fit_table2",
    "load_recordings",
    "make_context_mixtures",
    "run_demo",
]
