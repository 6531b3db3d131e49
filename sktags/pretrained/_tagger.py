"""MusicnnTagger: musicnn's released network on musicnn's spectrograms."""

import warnings
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions

from ._embedding import LAYERS, _net
from ._frontend import MUSICNN_N_MELS, PATCH_FRAMES
from ._runner import POOLINGS, PatchRunner, resolve_device
from ._weights import MODELS, tag_names


class MusicnnTagger(TransformerMixin, BaseEstimator):
    """musicnn's released network on spectrograms of :func:`~sktags.pretrained.musicnn_frontend`.

    The second stage of :class:`~sktags.pretrained.MusicnnEmbedding` (see its
    :meth:`~sktags.pretrained.MusicnnEmbedding.stages`): each spectrogram is
    cut into non-overlapping 3 s patches (187 frames, the partial tail
    dropped) that go through the network in batches. :meth:`predict_proba`
    gives musicnn's own 50 tags (the taggram averaged over patches, as
    musicnn's command line reports them), :meth:`predict_proba_windows` the
    taggram per patch, :meth:`transform` the embeddings of ``layer`` and
    ``pooling``. The estimator is stateless: :meth:`fit` only validates.
    ``sktags.inference.tag_files`` runs it on catalogues
    (``sktags tag --pretrained``).

    Parameters
    ----------
    model : {"msd", "mtt"}, default="msd"
        The released weights (see :class:`~sktags.pretrained.MusicnnEmbedding`).
    layer : {"penultimate", "pooled", "taggram"}, default="penultimate"
        The output of :meth:`transform`.
    pooling : {"mean", "max", "mean+max"} or None, default="mean"
        How :meth:`transform` pools a clip's patches (None: one array per clip).
    batch_size : int, default=64
        Patches per forward pass.
    device : str, default="auto"
        Torch device; "auto" uses CUDA, then MPS, then the CPU.

    Examples
    --------
    >>> import numpy as np
    >>> from sktags.demo import load_recordings
    >>> from sktags.pretrained import MusicnnTagger, musicnn_frontend
    >>> S = musicnn_frontend(duration=6.0).transform(load_recordings().filenames[:1])
    >>> tagger = MusicnnTagger(model="mtt")
    >>> proba = tagger.predict_proba(S)  # (clips, 50 tags)
    >>> names = tagger.tag_names()
    >>> [names[k] for k in np.argsort(-proba[0])[:3]]
    ['classical', 'violin', 'strings']
    >>> starts, per_patch = tagger.predict_proba_windows(S)[0]
    >>> starts.tolist(), per_patch.shape
    ([0, 187], (2, 50))
    """

    _parameter_constraints = {
        "model": [StrOptions(set(MODELS))],
        "layer": [StrOptions(set(LAYERS))],
        "pooling": [StrOptions(set(POOLINGS)), None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
    }

    def __init__(self, *, model="msd", layer="penultimate", pooling="mean", batch_size=64,
                 device="auto"):
        self.model = model
        self.layer = layer
        self.pooling = pooling
        self.batch_size = batch_size
        self.device = device

    def fit(self, X=None, y=None):
        """Validate the parameters; nothing is learned.

        Parameters
        ----------
        X, y : None
            Ignored.

        Returns
        -------
        self : MusicnnTagger
        """
        self._validate_params()
        return self

    def tag_names(self):
        """The 50 tag names of :meth:`predict_proba`'s columns (list of str)."""
        self._validate_params()
        return tag_names(self.model)

    def predict_proba(self, X):
        """musicnn's tag probabilities, averaged over each clip's patches.

        Parameters
        ----------
        X : sequence of arrays of shape (1, 96, n_frames) or (96, n_frames)
            Spectrograms of :func:`~sktags.pretrained.musicnn_frontend`
            (an array of shape (n_clips, 1, 96, n_frames), or clips of
            different lengths).

        Returns
        -------
        proba : ndarray of shape (n_clips, 50), float32
        """
        return self._run(X, "taggram", "mean")

    def predict_proba_windows(self, X):
        """The taggram: musicnn's tag probabilities per 3 s patch.

        Parameters
        ----------
        X : sequence of arrays of shape (1, 96, n_frames) or (96, n_frames)

        Returns
        -------
        windows : list of (starts, proba)
            Per clip: the first frame of each patch, ndarray of shape
            (n_patches,), and the probabilities, ndarray of shape
            (n_patches, 50).
        """
        grams = self._run(X, "taggram", None)
        return [(np.arange(len(g)) * PATCH_FRAMES, g) for g in grams]

    def transform(self, X):
        """Embeddings of ``layer``, pooled over patches by ``pooling``.

        Parameters
        ----------
        X : sequence of arrays of shape (1, 96, n_frames) or (96, n_frames)

        Returns
        -------
        embeddings : ndarray of shape (n_clips, d), float32
            As :meth:`MusicnnEmbedding.transform
            <sktags.pretrained.MusicnnEmbedding.transform>` gives them.
        """
        return self._run(X, self.layer, self.pooling)

    def _run(self, X, layer, pooling):
        self._validate_params()
        device = resolve_device(self.device)
        runner = PatchRunner(_net(self.model, device), layer=layer, pooling=pooling,
                             n_clips=len(X), dim=LAYERS[layer], batch_size=self.batch_size,
                             device=device)
        for i in range(len(X)):
            spec = np.asarray(X[i], dtype=np.float32)
            spec = spec[0] if spec.ndim == 3 else spec
            if spec.ndim != 2 or spec.shape[0] != MUSICNN_N_MELS:
                raise ValueError(f"X[{i}] has shape {np.shape(X[i])}; musicnn takes spectrograms "
                                 "of musicnn_frontend(), (1, 96, n_frames).")
            runner(i, spec)
        runner.close()
        if runner.short:
            warnings.warn(f"{type(self).__name__}: {len(runner.short)} clip(s) under one "
                          f"{PATCH_FRAMES}-frame (3 s) patch, zero-padded (first: X[{runner.short[0][0]}])",
                          UserWarning, stacklevel=3)
        return runner.features

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.no_validation = True
        return tags
