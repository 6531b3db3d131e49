"""Model files of the command line: a bundle (a dict) of a pipeline and its metadata.

The bundle holds ``pipeline`` (a :class:`~sklearn.pipeline.Pipeline` of a
``mel`` :class:`~sktags.MelSpectrogramTransformer` and a ``tagger``
:class:`~sktags.CNNTagger`, or of an ``embedding``
:class:`~sktags.pretrained.MusicnnEmbedding` and a ``tagger``
:class:`~sktags.EmbeddingTagger`), ``target_names``, ``weighting`` and ``n_train``.
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


def pretrained_model(name, **params):
    """A bundle of musicnn's released network alone (``--pretrained``): its tags, embeddings."""
    from sklearn.pipeline import Pipeline

    from ..pretrained import MusicnnEmbedding, MusicnnTagger, weights_record

    return {"pipeline": Pipeline([("embedding", MusicnnEmbedding(model=name, **params))]),
            "target_names": MusicnnTagger(model=name).tag_names(),
            "provenance": weights_record(name)}


def use_model(bundle, *, device=None, whole_track=False, cache=None):
    """Put a model to work: on ``device`` (``--device``; None leaves it), its front end on
    whole tracks (``--whole-track``: offset 0, no duration; a CNN needs crops), with ``cache``.

    Returns the front end and the model on its output
    (:func:`sktags.inference.streaming_stages`). Raises :class:`CLIError` for a
    device not available here, :class:`CLIUsageError` for ``--whole-track`` with
    a model of fixed excerpts.
    """
    from ..inference import move_to_device, streaming_stages

    pipeline = bundle["pipeline"]
    first, tagger = pipeline.steps[0][1], pipeline.steps[-1][1]
    try:
        move_to_device(pipeline, device)
    except ValueError as exc:
        raise CLIError(f"--device: {first_line(exc)}") from None
    if whole_track:
        if not hasattr(first, "stages") and getattr(tagger, "crop_frames", None) is None:
            raise CLIUsageError("--whole-track needs a model trained with --crop-frames "
                                "(windows); this one takes fixed excerpts")
        first.set_params(duration=None, offset=0.0)
    first.set_params(memory=cache)
    return streaming_stages(pipeline)
