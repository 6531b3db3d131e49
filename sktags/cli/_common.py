"""Shared helpers of the command line, gathered from the modules that define them.

- :mod:`._errors`: :class:`CLIError` (exit 1) and :class:`CLIUsageError` (exit 2);
- :mod:`._paths`: audio inputs, outputs (atomic writes honouring the umask,
  :func:`refuse_overwrite`);
- :mod:`._tables`: the labels, counts, groups and ids CSV files (parsed by
  :mod:`sktags.utils._csv`, the reader :mod:`sktags.datasets` uses too);
- :mod:`._features`: front-end options, feature files and their index;
- :mod:`._models`: model files.

Everything here is light (standard library and numpy) so that ``sktags --help``
starts fast; torch and the estimators are imported inside the subcommands.
"""

from ._errors import CLIError, CLIUsageError
from ._features import (
    MEL_KEYS,
    add_cache_arguments,
    add_mel_arguments,
    check_front_end,
    failed_rows,
    features_for,
    index_path,
    load_features,
    make_transformer,
    mel_defaults,
    mel_options_given,
    mel_params,
    refuse_mel_options_with_features,
)
from ._models import MODEL_FORMAT, load_model, save_model
from ._paths import (
    AUDIO_EXTENSIONS,
    atomic_path,
    audio_by_id,
    check_output_path,
    collect_audio,
    refuse_overwrite,
    write_text_atomic,
)
from ._tables import (
    align,
    check_training_labels,
    read_csv_rows,
    read_groups_csv,
    read_matrix_csv,
)

__all__ = [
    "AUDIO_EXTENSIONS", "MEL_KEYS", "MODEL_FORMAT", "CLIError", "CLIUsageError",
    "add_cache_arguments", "add_mel_arguments", "align", "atomic_path", "audio_by_id",
    "check_front_end", "check_output_path", "check_training_labels", "collect_audio",
    "failed_rows", "features_for", "index_path", "load_features", "load_model",
    "make_transformer", "mel_defaults", "mel_options_given", "mel_params", "read_csv_rows",
    "read_groups_csv", "read_matrix_csv", "refuse_mel_options_with_features",
    "refuse_overwrite", "save_model", "write_text_atomic",
]
