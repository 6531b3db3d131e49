"""Offline demonstration data: bundled real recordings and a constructed set.

:func:`load_recordings` returns the five freely licensed recordings shipped
with sktags. :func:`make_context_mixtures` builds a small multilabel data set
from them whose true labels are known and some of whose positives are hidden,
to measure what the paper's confidence weights recover. ``sktags demo`` runs
both end to end.
"""

from ._mixtures import DEFAULT_SOURCES, make_context_mixtures
from ._recordings import load_recordings

__all__ = ["DEFAULT_SOURCES", "load_recordings", "make_context_mixtures"]
