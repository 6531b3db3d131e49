"""CNNTagger's predictions: probabilities, decisions, taggrams and embeddings.

Whole inputs go through the network as they are; with ``crop_frames`` each
clip is cut into windows (see :mod:`sktags.models._windows`) and its
probabilities and embeddings are the means over its windows.
"""

import numpy as np
import torch
from scipy.special import expit
from sklearn.utils.validation import check_is_fitted

from ._data import SpectrogramDataset
from ._recipe import check_tagger_input
from ._windows import WindowDataset


class TaggerPredictionMixin:
    """The prediction methods of :class:`~sktags.CNNTagger` (fitted attributes in ``self``)."""

    def _forward(self, dataset):
        chunks = [z.float() for z in self.net_.forward_iter(dataset, training=False)]
        return torch.cat(chunks).numpy()

    def _dataset(self, X):
        """The prediction dataset of X: whole inputs, or windows with crop_frames."""
        check_is_fitted(self)
        window = getattr(self, "window_", None)  # None in models fitted before crops
        X, clips, input_shape = check_tagger_input(X, window)
        if window is not None:
            if input_shape[1] != self.input_shape_[1]:
                raise ValueError(f"X has {input_shape[1]} mel bands, but the tagger was "
                                 f"fitted on {self.input_shape_[1]}.")
            return WindowDataset(clips, np.arange(len(clips)), *window)
        if input_shape != tuple(self.input_shape_):
            raise ValueError(
                f"X has {int(np.prod(input_shape))} features, but CNNTagger is expecting "
                f"{self.n_features_in_} features as input: it was fitted on spectrograms of "
                f"shape {tuple(self.input_shape_)}, got {input_shape}.")
        return SpectrogramDataset(X, np.arange(X.shape[0]))

    def _proba(self, X):
        """Tag probabilities (n_samples, n_labels), float64: the mean over windows."""
        ds = self._dataset(X)
        p = expit(self._forward(ds).astype(np.float64))
        return ds.clip_means(p) if isinstance(ds, WindowDataset) else p

    def predict_proba(self, X):
        """Probability of each tag.

        With ``crop_frames``, the mean of the probabilities of the clip's
        windows (see :meth:`predict_proba_windows`).

        Parameters
        ----------
        X : array-like of shape (n_samples, 1, n_mels, n_frames) or (n_samples, n_mels, n_frames)
            With ``crop_frames``, also a list or 1-D object array of
            (1, n_mels, n_frames_i) arrays, or a
            :class:`~sktags.features.RaggedSpectrograms`.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_labels), float64
            For a 1-D y at fit, shape (n_samples, 2): the probabilities of
            ``classes_[0]`` and ``classes_[1]``.
        """
        p = self._proba(X)
        if self.outputs_2d_:
            return p
        return np.column_stack([1.0 - p[:, 0], p[:, 0]])

    def predict(self, X):
        """Tags: 1 where the probability is >= ``thresholds_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, 1, n_mels, n_frames) or (n_samples, n_mels, n_frames)
            Or variable-length clips, as for :meth:`predict_proba`.

        Returns
        -------
        Y : ndarray of shape (n_samples, n_labels) of 0/1 ints, or (n_samples,) of ``classes_``
        """
        Y = (self._proba(X) >= self.thresholds_).astype(np.int64)
        return Y if self.outputs_2d_ else self.classes_[Y[:, 0]]

    def predict_proba_windows(self, X):
        """Tag probabilities of every window of every clip (a taggram).

        Parameters
        ----------
        X : array-like or sequence of spectrograms, as for :meth:`predict_proba`

        Returns
        -------
        windows : list of (starts, proba) tuples, one per clip
            ``starts`` (n_windows_i,) int64 start frames and ``proba``
            (n_windows_i, n_labels) float64. Without ``crop_frames``, one
            window at frame 0 per clip. The mean of ``proba`` over the
            windows is the clip's :meth:`predict_proba` row (for 2-D y).
        """
        ds = self._dataset(X)
        p = expit(self._forward(ds).astype(np.float64))
        if isinstance(ds, WindowDataset):
            return ds.split(p)
        return [(np.zeros(1, dtype=np.int64), p[i:i + 1]) for i in range(len(p))]

    def transform(self, X):
        """Embeddings: the input of the network's last linear layer, averaged over windows.

        For the paper's network, the hidden dense layer's output after its
        ReLU; for :class:`~sktags.models.ShortChunkCNN`, the globally pooled
        features; for a custom ``module``, the input of its last
        ``torch.nn.Linear``. Computed in evaluation mode (no dropout), so a
        fitted tagger is a frozen feature extractor for other estimators.

        Parameters
        ----------
        X : array-like or sequence of spectrograms, as for :meth:`predict_proba`

        Returns
        -------
        E : ndarray of shape (n_samples, n_features), float32
        """
        ds = self._dataset(X)
        captured = []

        def hook(_, args):
            captured.append(args[0].detach().float().reshape(len(args[0]), -1).cpu())

        handle = self._last_linear().register_forward_pre_hook(hook)
        try:
            self._forward(ds)
        finally:
            handle.remove()
        E = torch.cat(captured).numpy()
        if isinstance(ds, WindowDataset):
            E = ds.clip_means(E)
        return np.asarray(E, dtype=np.float32)

    def _last_linear(self):
        linears = [m for m in self.net_.module_.modules() if isinstance(m, torch.nn.Linear)]
        if not linears:
            raise ValueError("transform needs a module with a torch.nn.Linear output layer.")
        return linears[-1]

    @property
    def _n_features_out(self):
        """Embedding size, for ``get_feature_names_out`` (cnntagger0, cnntagger1, ...)."""
        return self._last_linear().in_features
