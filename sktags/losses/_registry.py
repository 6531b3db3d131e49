"""The loss registry and the resolver the taggers use: ``get_loss(name | class | instance)``."""

import copy

from torch import nn

from ._asymmetric import AsymmetricLoss
from ._base import MissingLabelLoss
from ._bce import LabelSmoothing, WeakAssumeNegative, WeightedBCE
from ._consistency import TrackConsistency
from ._entropy import EntropyMaximization
from ._large_loss import LargeLossCorrection, LargeLossRejection
from ._positives import ROLE, ExpectedPositiveRegularizer
from ._robust import HillLoss, SPLCLoss

__all__ = ["LOSSES", "get_loss", "parse_loss_param"]

#: Name string -> loss class, the values ``loss=`` and ``sktags train --loss`` accept.
LOSSES = {
    "bce": WeightedBCE,
    "wan": WeakAssumeNegative,
    "label_smoothing": LabelSmoothing,
    "asl": AsymmetricLoss,
    "hill": HillLoss,
    "splc": SPLCLoss,
    "em": EntropyMaximization,
    "ll_r": LargeLossRejection,
    "ll_ct": LargeLossCorrection,
    "epr": ExpectedPositiveRegularizer,
    "role": ROLE,
    "track_consistency": TrackConsistency,
}


def get_loss(loss="bce", n_labels=None, **params):
    """A fresh loss module from a name, a class or an instance.

    Parameters
    ----------
    loss : str, MissingLabelLoss subclass or torch.nn.Module, default="bce"
        A key of :data:`LOSSES`, a loss class, or a loss module (deep-copied,
        so the result never shares state with it).
    n_labels : int or None, default=None
        Number of labels, if known: checks that the loss can work with it
        (e.g. ``"wan"`` with its default gamma needs at least 2).
    **params
        Constructor parameters, set on the result (e.g. ``gamma_neg=2``, as
        from ``sktags train --loss-param gamma_neg=2``).

    Returns
    -------
    loss : MissingLabelLoss
        In training mode, its parameters validated.

    Raises
    ------
    ValueError
        On an unknown name or parameter, an invalid value, or anything else.

    Examples
    --------
    >>> from sktags.losses import get_loss
    >>> get_loss("asl", gamma_neg=2)
    AsymmetricLoss(gamma_pos=0, gamma_neg=2, clip=0.05)
    >>> get_loss("focal")
    Traceback (most recent call last):
    ...
    ValueError: Unknown loss 'focal'; valid names are bce, wan, label_smoothing, asl, hill, splc, em, ll_r, ll_ct, epr, role, track_consistency.
    """
    names = ", ".join(LOSSES)
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"Unknown loss {loss!r}; valid names are {names}.")
        result = LOSSES[loss]()
    elif isinstance(loss, type) and issubclass(loss, MissingLabelLoss):
        result = loss()
    elif isinstance(loss, nn.Module):  # any module following the loss protocol
        result = copy.deepcopy(loss)
    else:
        raise ValueError(f"loss must be a loss name ({names}), a loss class or a loss "
                         f"instance, got {loss!r}.")
    if not isinstance(result, MissingLabelLoss):
        if params:
            raise ValueError(f"cannot set parameters on {type(result).__name__}.")
        return result.train()
    if params:
        result.set_params(**params)
    result._validate_params()
    if n_labels is not None:
        n_labels = int(n_labels)
        if n_labels < 1:
            raise ValueError(f"n_labels must be >= 1, got {n_labels}.")
        if isinstance(result, WeakAssumeNegative) and result.gamma is None and n_labels < 2:
            raise ValueError("loss 'wan' with gamma=None needs at least 2 labels.")
    return result.train()


def parse_loss_param(text):
    """``"name=value"`` -> ``(name, value)``, the value as a number, None, a bool or a string.

    For the command line's ``--loss-param gamma_neg=2``: integers stay
    integers, ``none``/``null`` is None, ``true``/``false`` are bools, and
    anything else that is not a number is kept as a string (e.g. a base
    loss's name).

    Examples
    --------
    >>> from sktags.losses import parse_loss_param
    >>> parse_loss_param("gamma_neg=2"), parse_loss_param("gamma=none")
    (('gamma_neg', 2), ('gamma', None))
    >>> parse_loss_param("clip=0.1"), parse_loss_param("base=asl")
    (('clip', 0.1), ('base', 'asl'))
    """
    name, sep, value = str(text).partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not name.isidentifier():
        raise ValueError(f"loss parameter {text!r} must read name=value, e.g. gamma_neg=2.")
    lowered = value.lower()
    if lowered in ("none", "null"):
        return name, None
    if lowered in ("true", "false"):
        return name, lowered == "true"
    for kind in (int, float):
        try:
            return name, kind(value)
        except ValueError:
            pass
    return name, value
