"""The two stages of a tagging pipeline that ``tag_files`` streams through, and their device."""

__all__ = ["move_to_device", "streaming_stages"]


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


def move_to_device(tagger, device):
    """Move a fitted tagger, a backbone, or the steps of a Pipeline to ``device``, in place.

    A model trained on one device (a GPU) is used on another (the CPU, or
    another GPU). The device is validated as by the tagger (a bad or absent
    one is a :class:`ValueError` naming it).

    Parameters
    ----------
    tagger : CNNTagger, EmbeddingTagger, MusicnnEmbedding or Pipeline
        Fitted.
    device : str or None
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ... None leaves it.

    Returns
    -------
    tagger : CNNTagger
    """
    if device is None:
        return tagger
    if hasattr(tagger, "steps"):  # a Pipeline: each step that runs a network
        for _, step in tagger.steps:
            if "device" in step.get_params(deep=False):
                move_to_device(step, device)
        return tagger
    tagger.set_params(device=device)
    from ..models import resolve_device

    resolved = resolve_device(device)
    net = getattr(tagger, "net_", None)
    if net is None:  # a stateless network (MusicnnEmbedding) picks its device when run
        return tagger
    net.device = resolved
    for name in ("module_", "criterion_"):
        part = getattr(net, name, None)
        if part is not None and hasattr(part, "to"):
            part.to(resolved)
    tagger.device_ = resolved
    return tagger
