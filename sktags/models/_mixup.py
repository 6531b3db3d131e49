"""Mixup of CNNTagger's training batches (Zhang et al., ICLR 2018).

With ``mixup=alpha > 0``, every training batch ``(x, (y, w))`` is replaced by

    x' = lam * x + (1 - lam) * x[perm]
    y' = lam * y + (1 - lam) * y[perm]
    w' = lam * w + (1 - lam) * w[perm]

with one ``lam ~ Beta(alpha, alpha)`` per batch and ``perm`` a random
permutation of the batch: the per-entry confidence weights are mixed exactly
like the targets, so the weighted loss of a mixed pair is
``w' * BCE(z, y')``. Both draws come from
``np.random.default_rng([seed, epoch, batch])``: reproducible, and identical
after resuming from a checkpoint.
"""

import numpy as np
import torch


def mixup_draw(alpha, batch_size, seed, epoch, batch):
    """(lam, perm) for one batch; ``lam`` a float, ``perm`` an int64 ndarray."""
    rng = np.random.default_rng([int(seed), int(epoch), int(batch)])
    lam = float(rng.beta(alpha, alpha))
    perm = rng.permutation(int(batch_size))
    return lam, perm


def mix_batch(batch, alpha, seed, epoch, batch_index):
    """The mixed training batch ``(x', (y', w'))`` of ``(x, (y, w))`` (see module doc).

    Examples
    --------
    >>> import torch
    >>> from sktags.models._mixup import mix_batch, mixup_draw
    >>> x = torch.arange(4.).reshape(2, 1, 1, 2)
    >>> y, w = torch.tensor([[1.], [0.]]), torch.tensor([[2.], [1.]])
    >>> lam, perm = mixup_draw(0.4, 2, 0, 1, 0)
    >>> xm, (ym, wm) = mix_batch((x, (y, w)), 0.4, 0, 1, 0)
    >>> bool(torch.allclose(wm, lam * w + (1 - lam) * w[perm]))
    True
    """
    x, (y, w) = batch
    if alpha <= 0 or len(x) < 2:
        return batch
    lam, perm = mixup_draw(alpha, len(x), seed, epoch, batch_index)
    perm = torch.from_numpy(perm).to(x.device)

    def mix(t):
        return lam * t + (1.0 - lam) * t[perm]

    return mix(x), (mix(y), mix(w))
