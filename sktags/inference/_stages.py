"""The two stages of a tagging pipeline that ``tag_files`` streams through."""

__all__ = ["streaming_stages"]


def streaming_stages(pipeline):
    """Split a fitted pipeline into its audio front end and the model on its output.

    :func:`tag_files` and :func:`embed_to_file` run the front end in joblib
    workers and the model in batches in this process. The pipeline's first
    step is either a front end (:class:`~sktags.MelSpectrogramTransformer`)
    or a pretrained backbone with ``stages()``
    (:class:`~sktags.pretrained.MusicnnEmbedding`), whose network then
    leads the model; the steps after it follow.

    Parameters
    ----------
    pipeline : Pipeline

    Returns
    -------
    frontend : MelSpectrogramTransformer
    model : estimator
        The step after the front end, or a :class:`~sklearn.pipeline.Pipeline`
        of the remaining steps. With a backbone alone, its network: its
        ``predict_proba`` gives the backbone's own tags, ``transform`` its
        embeddings.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sktags.inference import streaming_stages
    >>> from sktags.pretrained import MusicnnEmbedding
    >>> frontend, model = streaming_stages(make_pipeline(MusicnnEmbedding(model="mtt")))
    >>> frontend.sr, type(model).__name__, model.model
    (16000, 'MusicnnTagger', 'mtt')
    """
    from sklearn.pipeline import Pipeline

    steps = list(pipeline.steps)
    first = steps[0][1]
    if hasattr(first, "stages"):
        frontend, network = first.stages()
        steps[0] = ("backbone", network)
    else:
        frontend = first
        steps = steps[1:]
    if not steps:
        raise ValueError("the pipeline has a front end and no model after it.")
    return frontend, steps[0][1] if len(steps) == 1 else Pipeline(steps)


def final_step(model):
    """The last step of a pipeline, or the model itself."""
    return model.steps[-1][1] if hasattr(model, "steps") else model
