"""A track-level consistency term for crop training, on top of any base loss."""

from numbers import Real

import torch
from sklearn.utils._param_validation import Interval

from ._base import MissingLabelLoss, PerSampleLoss

__all__ = ["TrackConsistency"]


class TrackConsistency(PerSampleLoss):
    """A base loss plus a pull of each crop towards its track's running prediction.

    When a tagger trains on crops (``crop_frames=``), the crops of one track
    share the track's ``index``. This loss keeps, per track, an exponential
    running mean ``m`` (buffer ``track_mean``) of the probabilities
    ``p = sigmoid(logits)`` predicted for its crops, and adds::

        base(logits, y, weight[, index]) + beta * mean_ic [ w_ic (p_ic - m_ic)^2 ]

    where ``m`` is the track's mean before this batch (held fixed) and the
    term counts only tracks seen before. After the batch, each track's mean
    moves to ``momentum * m + (1 - momentum) * p̄`` with ``p̄`` the mean
    prediction over the track's crops in the batch (a track's first batch sets
    ``m = p̄``). A crop whose excerpt lacks a tag's evidence is thus kept from
    swinging to a confident negative that the rest of the track contradicts;
    missing labels are a track-level property, so predictions should be too.
    This follows the consistency idea of the 2025 bird-sound benchmark of
    missing-label losses; it is our own formulation.

    With ``index=None`` (validation batches) only the base loss is computed.

    Parameters
    ----------
    base : str, class or MissingLabelLoss, default="bce"
        The base loss, anything :func:`~sktags.losses.get_loss` accepts; a
        copy (attribute ``base_``) is used, so its state (e.g. an epoch) is
        this loss's state.
    beta : float >= 0, default=1.0
        Weight of the consistency term.
    momentum : float in [0, 1), default=0.9

    Examples
    --------
    >>> import torch
    >>> from sktags.losses import TrackConsistency
    >>> loss = TrackConsistency(base="bce", beta=1.0)
    >>> y, index = torch.zeros(2, 1), torch.tensor([0, 0])
    >>> first = loss(torch.tensor([[0.0], [2.0]]), y, index=index)  # sets m_0 = mean(p)
    >>> round(loss.track_mean[0, 0].item(), 4)  # (0.5 + 0.8808) / 2
    0.6904
    """

    _parameter_constraints: dict = {
        "base": [str, type, MissingLabelLoss],
        "beta": [Interval(Real, 0, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
    }
    _per_sample_buffers = ("track_mean", "seen")

    def __init__(self, *, base="bce", beta=1.0, momentum=0.9):
        super().__init__()
        self.base = base
        self.beta = beta
        self.momentum = momentum

    def _base_loss(self):
        if "base_" not in self._modules:
            from ._registry import get_loss

            resolved = get_loss(self.base)
            if isinstance(resolved, TrackConsistency):
                raise ValueError("TrackConsistency cannot be its own base.")
            self.add_module("base_", resolved)
        return self._modules["base_"]

    def set_epoch(self, epoch):
        """Pass the number of completed epochs on to the base loss."""
        self._base_loss().set_epoch(epoch)

    def setup(self, n_samples, n_labels, y_train=None):
        """Size the running means (and the base's state, if it has any); returns self."""
        super().setup(n_samples, n_labels)
        base = self._base_loss()
        if hasattr(base, "setup"):
            base.setup(n_samples, n_labels, y_train)
        return self

    def _new_rows(self, name, n_rows, n_labels):
        if name == "track_mean":
            return torch.zeros(n_rows, n_labels, dtype=torch.float32)
        return torch.zeros(n_rows, dtype=torch.bool)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        if any(key.startswith(prefix + "base_.") for key in state_dict):
            self._base_loss()
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, logits, y, weight=None, index=None):
        """The base loss plus the consistency term; updates the rows ``index`` of the means."""
        self._validate_params()
        y, weight = self._check(logits, y, weight)
        base = self._base_loss()
        if getattr(base, "requires_index", False):
            loss = base(logits, y, weight, index=index)
        else:
            loss = base(logits, y, weight)
        if index is None:
            return loss
        index = self._check_index(index, logits)
        p = torch.sigmoid(logits)
        seen = self.seen[index]
        target = self.track_mean[index].to(p.dtype)
        term = (p - target) ** 2 * seen.to(p.dtype)[:, None]
        loss = loss + float(self.beta) * self._reduce(term, weight)
        if self.training and torch.is_grad_enabled():
            with torch.no_grad():
                tracks, inverse = torch.unique(index, return_inverse=True)
                sums = torch.zeros(len(tracks), p.shape[1], dtype=p.dtype, device=p.device)
                sums.index_add_(0, inverse, p.detach())
                counts = torch.bincount(inverse, minlength=len(tracks)).to(p.dtype)
                batch_mean = (sums / counts[:, None]).float()
                old = self.track_mean[tracks]
                mom = float(self.momentum)
                new = torch.where(self.seen[tracks][:, None], mom * old + (1 - mom) * batch_mean,
                                  batch_mean)
                self.track_mean[tracks] = new
                self.seen[tracks] = True
        return loss
