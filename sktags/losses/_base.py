"""The common base of the missing-label losses: parameters, checks and the reduction."""

import inspect

import torch
from sklearn.utils._param_validation import validate_parameter_constraints
from torch import nn

__all__ = ["EpochLoss", "MissingLabelLoss", "PerSampleLoss"]


class MissingLabelLoss(nn.Module):
    """Base class: ``loss(logits, y, weight=None)``, the mean of a per-entry loss.

    Subclasses implement ``_per_entry(logits, y)``, which returns the
    (batch, n_labels) matrix of per-entry losses, and declare their
    constructor parameters in ``_parameter_constraints``. The constructor
    only stores its arguments (as attributes of the same names), so
    :func:`sklearn.base.clone` and :meth:`get_params` work as on an estimator;
    the parameters are validated at each call.

    ``y`` holds the observed labels (1 = observed positive, 0 = unobserved).
    ``weight``, of the same shape, multiplies each entry's loss before the
    mean over all batch x label entries. ``y`` may also be the pair
    ``(y, weight)``, the form in which the taggers pass targets through skorch.
    """

    _parameter_constraints: dict = {}
    #: Whether ``forward`` takes the samples' training-set positions as ``index=``.
    requires_index = False

    # ------------------------------------------------------------ parameters
    @classmethod
    def _get_param_names(cls):
        sig = inspect.signature(cls.__init__)
        return sorted(p.name for p in sig.parameters.values()
                      if p.name != "self" and p.kind == p.KEYWORD_ONLY)

    def get_params(self, deep=True):
        """The constructor parameters, as a dict (as on a scikit-learn estimator)."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params):
        """Set constructor parameters; returns self."""
        valid = self._get_param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"Invalid parameter {name!r} for {type(self).__name__}; "
                                 f"valid parameters are {valid}.")
            setattr(self, name, value)
        return self

    def extra_repr(self):
        sig = inspect.signature(type(self).__init__)
        return ", ".join(f"{name}={getattr(self, name)!r}" for name in sig.parameters
                         if name != "self")

    def __repr__(self):
        # one line, like a scikit-learn estimator (nn.Module would list child modules)
        return f"{type(self).__name__}({self.extra_repr()})"

    def _validate_params(self):
        validate_parameter_constraints(self._parameter_constraints, self.get_params(),
                                       caller_name=type(self).__name__)

    # ------------------------------------------------------------ epochs
    def set_epoch(self, epoch):
        """Record the number of completed epochs (a no-op for epoch-free losses)."""

    # ------------------------------------------------------------ checks
    @staticmethod
    def _check(logits, y, weight):
        if isinstance(y, (tuple, list)):
            if weight is not None:
                raise ValueError("Pass the weight either inside y or as weight, not both.")
            y, weight = y
        if logits.ndim != 2:
            raise ValueError(f"logits must have shape (batch, n_labels), got {tuple(logits.shape)}.")
        if logits.shape != y.shape:
            raise ValueError(f"logits have shape {tuple(logits.shape)} but y has {tuple(y.shape)}.")
        y = y.to(logits.dtype)
        if weight is not None:
            if weight.shape != y.shape:
                raise ValueError(
                    f"weight has shape {tuple(weight.shape)} but y has {tuple(y.shape)}.")
            weight = weight.to(logits.dtype)
        return y, weight

    @staticmethod
    def _reduce(per_entry, weight):
        """Mean over all batch x label entries of ``weight * per_entry``."""
        if weight is not None:
            per_entry = per_entry * weight
        return per_entry.mean()

    def _per_entry(self, logits, y):
        raise NotImplementedError

    def forward(self, logits, y, weight=None):
        """The loss of ``logits`` (batch, n_labels) against the observed ``y``, a scalar."""
        self._validate_params()
        y, weight = self._check(logits, y, weight)
        return self._reduce(self._per_entry(logits, y), weight)


class EpochLoss(MissingLabelLoss):
    """A loss whose behaviour depends on the number of completed epochs.

    The count lives in the ``epoch`` buffer, so ``state_dict()`` carries it
    and a resumed run computes the same losses as an uninterrupted one.
    """

    def __init__(self):
        super().__init__()
        self.register_buffer("epoch", torch.zeros((), dtype=torch.long))

    def set_epoch(self, epoch):
        """Record ``epoch``, the number of completed epochs (0 during the first)."""
        epoch = int(epoch)
        if epoch < 0:
            raise ValueError(f"epoch must be >= 0, got {epoch}.")
        self.epoch.fill_(epoch)

    @property
    def current_epoch(self):
        """The number of completed epochs recorded by :meth:`set_epoch` (0 before any call)."""
        return int(self.epoch.item())


class PerSampleLoss(MissingLabelLoss):
    """A loss with per-training-sample state, addressed by the samples' ``index``.

    ``forward(logits, y, weight=None, index=None)``: ``index`` is the
    LongTensor (batch,) of the samples' positions in the training set (the
    crops or windows of one track share its index); the taggers pass
    ``index=None`` for validation batches. The per-sample buffers are sized by
    :meth:`setup` or, failing that, grown as larger indices arrive, and
    :meth:`load_state_dict` resizes them to the saved shapes.
    """

    requires_index = True
    _per_sample_buffers: tuple = ()

    def setup(self, n_samples, n_labels, y_train=None):
        """Size the per-sample state for a training set; called by a tagger before fitting.

        Parameters
        ----------
        n_samples : int
            Number of training samples (tracks, not crops).
        n_labels : int
        y_train : array-like of shape (n_samples, n_labels) or None
            The observed training labels, for losses that estimate something
            from them.

        Returns
        -------
        self
        """
        for name in self._per_sample_buffers:
            self._buffers.pop(name, None)
        self._grow(int(n_samples), int(n_labels))
        return self

    def _new_rows(self, name, n_rows, n_labels):
        """A (n_rows, ...) block of fresh state for buffer ``name``."""
        raise NotImplementedError

    def _grow(self, n_rows, n_labels):
        for name in self._per_sample_buffers:
            old = self._buffers.get(name)
            have = 0 if old is None else old.shape[0]
            if have >= n_rows:
                continue
            block = self._new_rows(name, n_rows - have, n_labels)
            if old is not None:
                block = torch.cat([old, block.to(old.device)])
            self.register_buffer(name, block)

    def _check_index(self, index, logits):
        index = torch.as_tensor(index, device=logits.device).long().reshape(-1)
        if index.shape[0] != logits.shape[0]:
            raise ValueError(f"index has {index.shape[0]} entries for a batch of {logits.shape[0]}.")
        if index.numel() and int(index.min()) < 0:
            raise ValueError("index must hold non-negative training-set positions.")
        self._grow(int(index.max()) + 1 if index.numel() else 0, logits.shape[1])
        for name in self._per_sample_buffers:
            buf = self._buffers[name]
            if buf.device != logits.device:
                self._buffers[name] = buf.to(logits.device)
        return index

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        for name in self._per_sample_buffers:
            saved = state_dict.get(prefix + name)
            if saved is not None:
                self.register_buffer(name, torch.empty_like(saved))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
