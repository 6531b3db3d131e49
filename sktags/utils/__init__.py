"""Small helpers shared by several subpackages."""

from ._atomic import atomic_path, write_text_atomic
from ._messages import first_line
from ._parallel import streaming_parallel
from ._validation import check_label_matrix, check_nonnegative_counts

__all__ = ["atomic_path", "check_label_matrix", "check_nonnegative_counts", "first_line",
           "streaming_parallel", "write_text_atomic"]
