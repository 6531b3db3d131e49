"""Model files of the command line: a bundle (a dict) of a pipeline and its metadata.

The bundle holds ``pipeline`` (a :class:`~sklearn.pipeline.Pipeline` of a
``mel`` :class:`~sktags.MelSpectrogramTransformer` and a ``tagger``
:class:`~sktags.CNNTagger`), ``target_names``, ``weighting`` and ``n_train``.
The file format is the library's (:func:`sktags.inference.save_tagging_model`,
:func:`sktags.inference.load_tagging_model`): a pickle-free zip, so loading a
model file runs no code.
"""

from ..utils import first_line
from ._errors import CLIError, CLIUsageError


def save_model(path, bundle):
    """Write a model bundle (a dict) atomically."""
    from ..inference import save_tagging_model

    metadata = {k: v for k, v in bundle.items() if k not in ("pipeline", "format")}
    save_tagging_model(path, bundle["pipeline"], **metadata)


def load_model(path):
    """Read a model file written by ``sktags train`` as a bundle (a dict)."""
    from ..inference import load_tagging_model

    pipeline, metadata = load_tagging_model(path)
    return dict(metadata, pipeline=pipeline)


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

