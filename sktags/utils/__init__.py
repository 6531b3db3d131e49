"""Small helpers shared by several subpackages.

Most of these names are internal helpers that the other subpackages import
from here (so that no module reaches into another subpackage's private
modules); the user-facing ones are :func:`atomic_path` and
:func:`write_text_atomic`. The names are imported lazily, so that importing
one helper does not import scikit-learn.
"""

from ._lazy import lazy_exports

_EXPORTS = {
    "atomic_path": "._atomic",
    "write_text_atomic": "._atomic",
    "first_line": "._messages",
    "streaming_parallel": "._parallel",
    "NumberInterval": "._validation",
    "check_label_matrix": "._validation",
    "check_nonnegative_counts": "._validation",
    "positive_int": "._validation",
    "align_ids": "._align",
    "check_ids": "._csv",
    "read_csv_table": "._csv",
    "read_id_column": "._csv",
    "read_id_matrix": "._csv",
    "BoundedZip": "._zipread",
    "DamagedArchive": "._zipread",
    "check_depth": "._zipread",
    "one_line": "._zipread",
    "open_zip": "._zipread",
}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__.insert(0, "lazy_exports")
