"""Small helpers shared by several subpackages."""

from ._atomic import atomic_path
from ._messages import first_line
from ._validation import check_label_matrix, check_nonnegative_counts

__all__ = ["atomic_path", "check_label_matrix", "check_nonnegative_counts", "first_line"]
