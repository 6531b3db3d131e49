"""Model files of the command line: the one place that writes and reads them.

A model file holds a bundle (a dict): ``format``, ``version``,
``target_names``, ``pipeline`` (a :class:`~sklearn.pipeline.Pipeline` of a
``mel`` :class:`~sktags.MelSpectrogramTransformer` and a ``tagger``
:class:`~sktags.CNNTagger`), ``weighting`` and ``n_train``. On disk it is
the pickle-free zip of :func:`sktags.models.save_model` (the pipeline, with
the other fields as its metadata), so loading a model file runs no code: a
pickle or joblib file is refused by the library, its payload never run.
"""

from pathlib import Path

import numpy as np

from ..utils import first_line
from ._errors import CLIError, CLIUsageError

MODEL_FORMAT = "sktags-model"
REQUIRED_FIELDS = ("pipeline", "target_names")

def save_model(path, bundle):
    """Write a model bundle (a dict) atomically, in the pickle-free model format."""
    from ..models import save_model as save_estimator

    metadata = {k: v for k, v in bundle.items() if k != "pipeline"}
    save_estimator(Path(path), bundle["pipeline"], metadata=metadata)


def load_model(path):
    """Read a model file written by ``sktags train``; check its fields."""
    from ..models import load_model as load_estimator

    path = Path(path)
    if path.is_dir():
        raise CLIError(f"model {str(path)!r} is a folder; expected a model file")
    if not path.is_file():
        raise CLIError(f"model file not found: {str(path)!r}")
    try:
        pipeline, metadata = load_estimator(path)
    except (ValueError, OSError, KeyError) as exc:
        raise CLIError(f"{str(path)!r} is not a readable sktags model file: {exc}") from None
    bundle = dict(metadata or {}, pipeline=pipeline)
    if not isinstance(bundle, dict) or bundle.get("format") != MODEL_FORMAT:
        raise CLIError(f"{str(path)!r} is not an sktags model file (written by `sktags train`)")
    check_bundle(bundle, path)
    return bundle


def check_bundle(bundle, path):
    """Raise a one-line :class:`CLIError` naming a missing or malformed field."""
    for key in REQUIRED_FIELDS:
        if key not in bundle:
            raise CLIError(f"model file {str(path)!r} has no {key!r} field; train it again")
    steps = getattr(bundle["pipeline"], "named_steps", None)
    for step in ("mel", "tagger"):
        if steps is None or step not in steps:
            raise CLIError(
                f"model file {str(path)!r}: its pipeline has no {step!r} step; train it again"
            )
    thresholds = getattr(steps["tagger"], "thresholds_", None)
    n = 0 if thresholds is None else len(np.atleast_1d(thresholds))
    if not isinstance(bundle["target_names"], list) or (n and n != len(bundle["target_names"])):
        raise CLIError(
            f"model file {str(path)!r}: 'target_names' does not match the tagger's outputs"
        )


def use_model(bundle, *, device=None, whole_track=False):
    """Put a loaded model to work: its tagger on ``device``, its front end on whole tracks.

    Parameters
    ----------
    bundle : dict
        From :func:`load_model`.
    device : str or None
        ``--device``; None leaves the tagger where it is.
    whole_track : bool
        ``--whole-track``: the front end reads each whole file (offset 0, no
        duration); the tagger must have been trained with crops (windows).

    Returns
    -------
    mel, tagger : the pipeline's two steps, changed in place

    Raises
    ------
    CLIError
        A device that is unknown or not available here.
    CLIUsageError
        ``--whole-track`` for a model that takes fixed excerpts.
    """
    from ..inference import move_to_device

    steps = bundle["pipeline"].named_steps
    mel, tagger = steps["mel"], steps["tagger"]
    try:
        move_to_device(tagger, device)
    except ValueError as exc:
        raise CLIError(f"--device: {first_line(exc)}") from None
    if whole_track:
        if getattr(tagger, "crop_frames", None) is None:
            raise CLIUsageError("--whole-track needs a model trained with --crop-frames "
                                "(windows); this one takes fixed excerpts")
        mel.set_params(duration=None, offset=0.0)
    return mel, tagger

