"""Validation of label and count matrices, with errors that name the culprit."""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import Interval


class NotNumericError(TypeError, ValueError):
    """A value that is not a number where one is required (a TypeError and a ValueError)."""


def _to_dense_float(A, name):
    if sp.issparse(A):
        A = A.toarray()
    try:
        A = np.asarray(A)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} could not be converted to an array: {exc}") from exc
    if A.dtype == object:  # numbers held as Python objects are converted
        try:
            A = A.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise NotNumericError(f"{name} must be numeric: {exc}") from None
    return A


def _first_bad(mask):
    i, j = np.argwhere(mask)[0]
    return int(i), int(j)


def check_label_matrix(Y, *, name="Y", allow_1d=False, n_labels=None):
    """Validate a binary indicator matrix and return it as ``uint8``.

    Parameters
    ----------
    Y : array-like or sparse matrix of shape (n_samples, n_labels)
        Bool, integer or float entries that are all 0 or 1.
    name : str, default="Y"
        Name used in error messages.
    allow_1d : bool, default=False
        Accept a 1-D vector as a single label (returned as shape (n, 1)).
    n_labels : int or None, default=None
        Expected number of columns.

    Returns
    -------
    Y : ndarray of shape (n_samples, n_labels), dtype uint8

    Raises
    ------
    ValueError
        On a wrong rank, an empty matrix, NaN, or a value other than 0 or 1;
        the message names the first offending row and column.

    Examples
    --------
    >>> from sktags.utils import check_label_matrix
    >>> check_label_matrix([[True, False], [1.0, 1.0]])
    array([[1, 0],
           [1, 1]], dtype=uint8)
    """
    A = _to_dense_float(Y, name)
    if A.ndim == 1 and allow_1d:
        A = A.reshape(-1, 1)
    if A.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D (n_samples, n_labels) indicator matrix, "
            f"got an array of shape {A.shape}."
        )
    if A.shape[0] == 0 or A.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {A.shape}).")
    if n_labels is not None and A.shape[1] != n_labels:
        raise ValueError(f"{name} has {A.shape[1]} label columns, expected {n_labels}.")
    if A.dtype.kind == "b":
        return A.astype(np.uint8)
    if A.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be numeric 0/1, got dtype {A.dtype}.")
    if A.dtype.kind == "f" and not np.isfinite(A).all():
        i, j = _first_bad(~np.isfinite(A))
        raise ValueError(f"{name} contains NaN or inf at row {i}, column {j}.")
    bad = (A != 0) & (A != 1)
    if bad.any():
        i, j = _first_bad(bad)
        raise ValueError(
            f"{name} must contain only 0 and 1; found {A[i, j].item()!r} at row {i}, column {j}."
        )
    return A.astype(np.uint8)


def check_nonnegative_counts(C, *, name="playlist_counts", shape=None):
    """Validate a matrix of non-negative finite counts, returned as float64.

    Parameters
    ----------
    C : array-like or sparse matrix of shape (n_samples, n_labels)
    name : str, default="playlist_counts"
    shape : tuple of int or None
        Required shape, usually that of the label matrix.

    Returns
    -------
    C : ndarray of shape (n_samples, n_labels), dtype float64

    Examples
    --------
    >>> from sktags.utils import check_nonnegative_counts
    >>> check_nonnegative_counts([[0, 3], [5, 1]])
    array([[0., 3.],
           [5., 1.]])
    """
    A = _to_dense_float(C, name)
    if A.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {A.dtype}.")
    A = A.astype(np.float64)
    if A.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got an array of shape {A.shape}.")
    if shape is not None and A.shape != tuple(shape):
        raise ValueError(f"{name} has shape {A.shape}, but the labels have shape {tuple(shape)}.")
    if not np.isfinite(A).all():
        i, j = _first_bad(~np.isfinite(A))
        raise ValueError(f"{name} contains NaN or inf at row {i}, column {j}.")
    if (A < 0).any():
        i, j = _first_bad(A < 0)
        raise ValueError(f"{name} must be non-negative; found {A[i, j].item()!r} at row {i}, column {j}.")
    return A


class NumberInterval(Interval):
    """An :class:`~sklearn.utils._param_validation.Interval` that refuses bools.

    scikit-learn's ``Interval(Integral, ...)`` accepts ``True`` as 1; a flag
    given for a count is a mistake, so these intervals refuse it.
    """

    def is_satisfied_by(self, val):
        if isinstance(val, (bool, np.bool_)):
            return False
        return super().is_satisfied_by(val)


def positive_int():
    """The parameter constraint of a count: an int >= 1, never a bool."""
    return NumberInterval(Integral, 1, None, closed="left")
