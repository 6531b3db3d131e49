"""Small helpers shared by several subpackages."""

from ._validation import check_label_matrix, check_nonnegative_counts

__all__ = ["check_label_matrix", "check_nonnegative_counts"]
