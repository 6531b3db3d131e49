"""MusicnnEmbedding: audio to musicnn's embeddings, a scikit-learn transformer."""

import functools
import os
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from ._frontend import PATCH_FRAMES, musicnn_frontend
from ._runner import PatchRunner, resolve_device
from ._weights import MODELS, tag_names

LAYERS = {"penultimate": 200, "pooled": 1506, "taggram": 50}


@functools.lru_cache(maxsize=4)
def _net(model, device):
    from ._musicnn import MusicnnNet

    return MusicnnNet().load_released(model).eval().to(device)


class MusicnnEmbedding(TransformerMixin, BaseEstimator):
    """Embeddings of audio clips by musicnn's released networks (Pons & Serra, 2019).

    Each clip goes through musicnn's front end (16 kHz, 96 mel bands,
    ``log10(1 + 10000 * mel)``, see :func:`~sktags.pretrained.musicnn_frontend`), is cut into
    non-overlapping 3 s patches (187 frames, the partial tail dropped) and
    each patch through the PyTorch port of ``MSD_musicnn`` or
    ``MTT_musicnn``; the per-patch outputs are pooled over the clip. Patches
    of consecutive clips share batches, and whole tracks stream through
    without the catalogue being held in memory.

    The transformer is stateless: :meth:`fit` only validates, and
    :meth:`transform` may be called without it.

    Parameters
    ----------
    model : {"msd", "mtt"}, default="msd"
        ``"msd"``: trained on the Million Song Dataset's 50 most frequent
        Last.fm tags (genres, eras, moods such as happy, sad, mellow, party).
        ``"mtt"``: trained on MagnaTagATune's 50 tags (instruments, genres,
        voice).
    layer : {"penultimate", "pooled", "taggram"}, default="penultimate"
        ``"penultimate"``: the 200 features after the back end's dense layer
        (the usual embedding). ``"pooled"``: the 1,506 mean and max over time
        of the mid end (753 means, then 753 maxima). ``"taggram"``: the 50 tag
        probabilities (:meth:`get_feature_names_out` names them).
    pooling : {"mean", "max", "mean+max"} or None, default="mean"
        How a clip's patches are pooled: ``"mean+max"`` concatenates both
        (twice the size). None keeps one row per patch (see Returns).
    offset : float, default=0.0
        Start of the audio taken, in seconds.
    duration : float or None, default=None
        Seconds taken from ``offset``; None takes the whole track, as musicnn
        does (a 30 s preview gives 10 patches).
    batch_size : int, default=64
        Patches per forward pass.
    device : str, default="auto"
        Torch device; "auto" uses CUDA, then MPS, then the CPU.
    n_jobs : int, default=None
        joblib workers decoding audio and computing spectrograms (the network
        runs in this process while they work ahead), as for
        :class:`~sktags.MelSpectrogramTransformer`.
    memory : None, str, os.PathLike or joblib.Memory, default=None
        Cache of the spectrograms (per file), as for
        :class:`~sktags.MelSpectrogramTransformer`.
    on_error : {"raise", "zeros"}, default="raise"
        A file that cannot be read raises a ValueError naming it, or, with
        ``"zeros"``, gives a row of zeros (no patch when ``pooling=None``)
        and one :class:`~sktags.features.AudioDecodeWarning`.
    verbose : int, default=0
        If positive, a progress bar of the front end.

    See Also
    --------
    sktags.pretrained.musicnn_frontend : The spectrograms alone.
    sktags.pretrained.musicnn_module : The network for fine-tuning with a CNNTagger.

    Notes
    -----
    **Input**, as :class:`~sktags.MelSpectrogramTransformer` takes it: audio
    file paths, or waveforms at 16 kHz (a list of 1-D arrays or a 2-D
    array). A clip under one patch (3 s) gives one patch, zero-padded (in the
    log domain: silence), with a warning naming it.

    **Numerics.** The port matches musicnn's TensorFlow graph within 1e-5 on
    the taggram for the same input. The front end follows musicnn's
    extractor under numpy 1 (mel rounded to float16, then the log in
    float32); decoding and resampling are sktags' (libsndfile, soxr), not
    librosa's audioread fallback, so mp3 previews may differ slightly.

    Examples
    --------
    >>> import numpy as np
    >>> from sktags.demo import load_recordings
    >>> from sktags.pretrained import MusicnnEmbedding
    >>> paths = load_recordings().filenames[:2]
    >>> emb = MusicnnEmbedding(duration=6.0).fit_transform(paths)
    >>> emb.shape, emb.dtype
    ((2, 200), dtype('float32'))
    >>> tagger = MusicnnEmbedding(model="mtt", layer="taggram", pooling=None, duration=6.0)
    >>> taggram = tagger.transform(paths[:1])[0]  # (patches, tags)
    >>> taggram.shape
    (2, 50)
    >>> names = tagger.get_feature_names_out()
    >>> [str(names[k]) for k in np.argsort(-taggram.mean(axis=0))[:3]]
    ['classical', 'violin', 'strings']
    """

    _parameter_constraints = {
        "model": [StrOptions(set(MODELS))],
        "layer": [StrOptions(set(LAYERS))],
        "pooling": [StrOptions({"mean", "max", "mean+max"}), None],
        "offset": [Interval(Real, 0, None, closed="left")],
        "duration": [Interval(Real, 0, None, closed="neither"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "n_jobs": [Interval(Integral, None, -1, closed="right"),
                   Interval(Integral, 1, None, closed="left"), None],
        "memory": [None, str, os.PathLike, HasMethods(["cache"])],
        "on_error": [StrOptions({"raise", "zeros"})],
        "verbose": ["verbose"],
    }

    def __init__(self, *, model="msd", layer="penultimate", pooling="mean", offset=0.0,
                 duration=None, batch_size=64, device="auto", n_jobs=None, memory=None,
                 on_error="raise", verbose=0):
        self.model = model
        self.layer = layer
        self.pooling = pooling
        self.offset = offset
        self.duration = duration
        self.batch_size = batch_size
        self.device = device
        self.n_jobs = n_jobs
        self.memory = memory
        self.on_error = on_error
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate the parameters and the input; nothing is learned.

        Parameters
        ----------
        X : sequence of paths, sequence of 1-D arrays, or array of shape (n_clips, n_samples)
            Audio clips (waveforms at 16 kHz). Files are not opened.
        y : None
            Ignored.

        Returns
        -------
        self : MusicnnEmbedding
        """
        self._frontend().fit(X)
        return self

    def transform(self, X):
        """Embed every clip.

        Parameters
        ----------
        X : sequence of paths, sequence of 1-D arrays, or array of shape (n_clips, n_samples)
            Audio clips (waveforms at 16 kHz).

        Returns
        -------
        embeddings : ndarray of shape (n_clips, d), dtype float32
            ``d`` is 200, 1506 or 50 for the layer, twice that with
            ``pooling="mean+max"``. With ``pooling=None``: an object ndarray
            of shape (n_clips,) whose element ``i`` is a float32 array
            (n_patches_i, d), one row per 3 s patch.
        """
        self._validate_params()
        frontend = self._frontend()
        device = resolve_device(self.device)
        net = _net(self.model, device)
        made = []

        def make_sink(config, n_clips):
            runner = PatchRunner(net, layer=self.layer, pooling=self.pooling,
                                 n_clips=n_clips, dim=LAYERS[self.layer],
                                 batch_size=self.batch_size, device=device)
            made.append(runner)
            return runner

        # the front end's own streaming entry point (decoding, cache, n_jobs,
        # on_error): the runner receives each spectrogram in input order
        frontend._stream(X, make_sink)
        runner = made[0]
        runner.close()
        if runner.short:
            listed = "; ".join(f"X[{i}] has {n} frames" for i, n in runner.short[:10])
            more = f"; and {len(runner.short) - 10} more" if len(runner.short) > 10 else ""
            warnings.warn(
                f"{type(self).__name__}: very short clip(s) under one {PATCH_FRAMES}-frame "
                f"(3 s) patch, zero-padded to one patch: {listed}{more}.",
                UserWarning, stacklevel=2)
        return runner.features

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        Tag names for ``layer="taggram"``, ``musicnn_penultimate0`` ... or
        ``musicnn_mean_pool0`` ... ``musicnn_max_pool752`` otherwise;
        ``"mean+max"`` prefixes ``mean_`` and ``max_``.

        Parameters
        ----------
        input_features : None
            Ignored (the input is audio).

        Returns
        -------
        names : ndarray of str
        """
        self._validate_params()
        if self.layer == "taggram":
            base = tag_names(self.model)
        elif self.layer == "pooled":
            base = [f"musicnn_{p}_pool{k}" for p in ("mean", "max") for k in range(753)]
        else:
            base = [f"musicnn_penultimate{k}" for k in range(200)]
        if self.pooling == "mean+max":
            base = [f"mean_{b}" for b in base] + [f"max_{b}" for b in base]
        return np.asarray(base, dtype=object)

    def stages(self):
        """The two stages of :meth:`transform`: the front end, then the network.

        ``network.transform(frontend.transform(X))`` is ``transform(X)``.
        ``sktags.inference.tag_files`` runs the front end in worker processes
        and the network in batches, and so streams catalogues through
        pipelines that start with this transformer.

        Returns
        -------
        frontend : MelSpectrogramTransformer
            :func:`~sktags.pretrained.musicnn_frontend` with ``offset``,
            ``duration``, ``n_jobs``, ``memory``, ``on_error`` and ``verbose``.
        network : MusicnnTagger
            With ``model``, ``layer``, ``pooling``, ``batch_size`` and ``device``.
        """
        from ._tagger import MusicnnTagger

        self._validate_params()
        return self._frontend(), MusicnnTagger(
            model=self.model, layer=self.layer, pooling=self.pooling,
            batch_size=self.batch_size, device=self.device)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        # audio in, not a feature matrix: a stateless transformer that takes
        # clips of any length, so the n_features_in_ checks do not apply
        tags.no_validation = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    def _frontend(self):
        return musicnn_frontend(offset=float(self.offset), duration=(
            None if self.duration is None else float(self.duration)), n_jobs=self.n_jobs,
            memory=self.memory, on_error=self.on_error, verbose=self.verbose)
