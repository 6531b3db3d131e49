"""The tagging model file: a fitted pipeline with its tag names and metadata."""

import os

import numpy as np

from ..utils import first_line

__all__ = ["load_tagging_model", "save_tagging_model"]


def check_steps(pipeline, what="pipeline", *, embed=False):
    """Check a tagging pipeline's shape: a ``"mel"`` front end first, a ``"tagger"`` last.

    Or a pretrained backbone with ``stages()`` first (e.g.
    :class:`~sktags.pretrained.MusicnnEmbedding`), alone (its own tags) or
    followed by a head. ``what`` names the pipeline in the message (e.g. the
    model file). The tagger must have ``predict_proba`` (and ``transform``
    when ``embed``). Returns ``(front end, tagger)``; raises a one-line
    ValueError otherwise.
    """
    from ..features import MelSpectrogramTransformer

    first = (getattr(pipeline, "steps", None) or [(None, None)])[0][1]
    if hasattr(first, "stages"):  # a pretrained backbone (MusicnnEmbedding) leads
        return _check_backbone_steps(pipeline, what, embed)
    steps = getattr(pipeline, "named_steps", None)
    for step in ("mel", "tagger"):
        if steps is None or step not in steps:
            raise ValueError(f"{what}: its pipeline has no {step!r} step; "
                             "train it again")
    mel, tagger = steps["mel"], steps["tagger"]
    names = [name for name, _ in pipeline.steps]
    if not isinstance(mel, MelSpectrogramTransformer) or not hasattr(tagger, "predict_proba"):
        raise ValueError(
            f"{what}: its 'mel' step is a {type(mel).__name__} and its 'tagger' step a "
            f"{type(tagger).__name__}; expected a MelSpectrogramTransformer and a tagger "
            "(with predict_proba), in that order")
    if names[0] != "mel" or names[-1] != "tagger":
        raise ValueError(f"{what}: its steps are {names}; the 'mel' step must come first and "
                         "the 'tagger' step last")
    if embed and not hasattr(tagger, "transform"):
        raise ValueError(f"{what}: its tagger, a {type(tagger).__name__}, gives no embeddings "
                         "(no transform method)")
    return mel, tagger


def _check_backbone_steps(pipeline, what, embed):
    from ._stages import final_step, streaming_stages

    _, model = streaming_stages(pipeline)
    tagger, name = final_step(model), pipeline.steps[-1][0]
    if not hasattr(tagger, "predict_proba"):
        raise ValueError(f"{what}: its last step {name!r} is a {type(tagger).__name__}, which "
                         "has no predict_proba; a tagger must come last")
    if embed and not hasattr(tagger, "transform"):
        raise ValueError(f"{what}: its tagger, a {type(tagger).__name__}, gives no embeddings "
                         "(no transform method)")
    return pipeline.steps[0][1], pipeline.steps[-1][1]


def _backbone(pipeline):
    """The weights record of the pipeline's pretrained backbone, or None."""
    first = (getattr(pipeline, "steps", None) or [(None, None)])[0][1]
    if type(first).__name__ != "MusicnnEmbedding":
        return None
    from ..pretrained import weights_record

    return weights_record(first.model)


def _check(pipeline, metadata, path):
    steps = check_steps(pipeline, f"model file {path!r}")
    recorded, installed = metadata.get("backbone"), _backbone(pipeline)
    if recorded != installed:
        raise ValueError(f"model file {path!r} was trained on the backbone {recorded}, "
                         f"and the installed one is {installed}; train it again")
    names = metadata.get("target_names")
    if names is None:
        raise ValueError(f"model file {path!r} has no 'target_names' field; train it again")
    thresholds = getattr(steps[1], "thresholds_", None)
    n = 0 if thresholds is None else len(np.atleast_1d(thresholds))
    if not isinstance(names, list) or (n and n != len(names)):
        raise ValueError(f"model file {path!r}: 'target_names' does not match the tagger's outputs")


def save_tagging_model(path, pipeline, *, target_names, **metadata):
    """Write a fitted tagging pipeline, its tag names and metadata to a model file.

    The file is the pickle-free zip of :func:`sktags.models.save_model`
    (written atomically), with ``target_names`` and ``metadata`` (JSON
    values: how it was trained, e.g. ``weighting``, ``n_train``) stored as
    its metadata. ``sktags train`` writes these files; ``sktags tag``,
    ``embed`` and ``evaluate`` read them with :func:`load_tagging_model`.

    Parameters
    ----------
    path : str or os.PathLike
    pipeline : Pipeline
        ``("mel", MelSpectrogramTransformer), ("tagger", CNNTagger)``, fitted,
        or ``("embedding", MusicnnEmbedding), ("tagger", EmbeddingTagger)``:
        the file then records the backbone's weights (``metadata["backbone"]``,
        :func:`sktags.pretrained.weights_record`), and loading it refuses
        other weights.
    target_names : sequence of str
        One per output of the tagger (see :func:`check_tag_names`).
    **metadata
        More fields, JSON-serialisable.

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> from sklearn.pipeline import Pipeline
    >>> from sktags import CNNTagger, MelSpectrogramTransformer
    >>> from sktags.inference import load_tagging_model, save_tagging_model
    >>> X = np.random.default_rng(0).normal(0, 0.1, (4, 22050)).astype(np.float32)
    >>> pipe = Pipeline([("mel", MelSpectrogramTransformer(offset=0.0, duration=1.0, n_mels=16)),
    ...                  ("tagger", CNNTagger(filters=(2, 2, 2, 2), hidden_units=4, max_epochs=1,
    ...                                       valid_size=None, random_state=0))])
    >>> pipe = pipe.fit(X, np.array([[1, 0], [0, 1], [1, 1], [0, 0]]))
    >>> path = os.path.join(tempfile.mkdtemp(), "m.sktags")
    >>> save_tagging_model(path, pipe, target_names=["party", "sleep"], n_train=4)
    >>> again, meta = load_tagging_model(path)
    >>> meta["target_names"], meta["n_train"], np.allclose(again.predict_proba(X), pipe.predict_proba(X))
    (['party', 'sleep'], 4, True)
    """
    from ..models import save_model
    from ._rows import check_tag_names

    metadata = {**metadata, "target_names": check_tag_names(target_names)}
    if _backbone(pipeline) is not None:  # name and checksum of the pretrained weights
        metadata["backbone"] = _backbone(pipeline)
    _check(pipeline, metadata, os.fspath(path))
    save_model(path, pipeline, metadata=metadata)


def load_tagging_model(path):
    """Read a model file of :func:`save_tagging_model`; check its pipeline and tag names.

    Returns
    -------
    pipeline : Pipeline
    metadata : dict
        With ``target_names`` (list of str, one per output of the tagger).

    Raises
    ------
    ValueError
        One line naming the file and what is wrong (not a model file, a
        pickle, no such file, a field missing or not matching the tagger).
    """
    from ..models import load_model

    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"model {path!r} is a folder; expected a model file")
    if not os.path.isfile(path):
        raise ValueError(f"model file not found: {path!r}")
    try:
        pipeline, metadata = load_model(path)
    except (ValueError, OSError, KeyError) as exc:
        raise ValueError(f"{path!r} is not a readable sktags model file: {first_line(exc)}") from None
    if not isinstance(metadata, dict):
        raise ValueError(f"{path!r} is not a tagging model file (written by `sktags train`)")
    _check(pipeline, metadata, path)
    return pipeline, metadata
