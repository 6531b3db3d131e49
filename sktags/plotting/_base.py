"""Lazy matplotlib import and small helpers shared by the plotting functions."""

import importlib

import numpy as np


def require_pyplot(caller):
    """Import and return ``matplotlib.pyplot``, or fail with an install hint."""
    try:
        return importlib.import_module("matplotlib.pyplot")
    except ImportError as exc:
        raise ImportError(
            f"{caller} requires matplotlib, an optional dependency of sktags. "
            'Install it with: pip install "sktags[plot]"'
        ) from exc


def label_names(target_names, n_labels, Y=None):
    """Return ``n_labels`` tick labels: the given names, a DataFrame's columns, or 0..m-1."""
    if target_names is None:
        columns = getattr(Y, "columns", None)
        if columns is not None and len(columns) == n_labels:
            return [str(c) for c in columns]
        return [str(i) for i in range(n_labels)]
    names = [str(t) for t in np.asarray(target_names, dtype=object).ravel()]
    if len(names) != n_labels:
        raise ValueError(f"target_names has {len(names)} names for {n_labels} labels.")
    return names
