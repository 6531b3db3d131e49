"""Assigning whole groups (artists, albums) to parts by iterative stratification.

The procedure of Sechidis et al. (2011), applied to groups instead of
samples: parts are filled towards their target share of each label, rarest
labels first, and a group's samples always land in the same part. Used by
:class:`~sktags.model_selection.MultilabelStratifiedGroupKFold` and
:func:`~sktags.model_selection.train_valid_test_split`.
"""

import numpy as np
from sklearn.utils import check_array, check_random_state

_METHODS = ("greedy", "sechidis")


def _check_groups(groups, n_samples):
    """Return integer group codes of shape (n_samples,) (None: one per sample)."""
    if groups is None:
        return np.arange(n_samples)
    groups = check_array(groups, input_name="groups", ensure_2d=False, dtype=None)
    if groups.ndim != 1:
        raise ValueError(f"groups must be 1-D, got an array of shape {groups.shape}.")
    if groups.shape[0] != n_samples:
        raise ValueError(
            f"groups has {groups.shape[0]} entries but y has {n_samples} samples."
        )
    try:
        _, codes = np.unique(groups, return_inverse=True)
    except TypeError as exc:  # e.g. a mix of str and int in an object array
        raise ValueError(f"groups could not be sorted: {exc}") from exc
    return codes.ravel()


def _assign_groups(Y, codes, ratios, *, method="greedy", shuffle=False, random_state=None):
    """Assign every group to one part with iterative stratification.

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_labels), dtype uint8
    codes : ndarray of shape (n_samples,)
        Group codes in ``0 .. n_groups - 1``.
    ratios : ndarray of shape (n_parts,)
        Target share of the samples in each part; sums to 1.
    method : {"greedy", "sechidis"}
    shuffle : bool
        Visit groups in a random order and break remaining ties at random.
    random_state : int, RandomState instance or None

    Returns
    -------
    part : ndarray of shape (n_samples,), dtype intp
        The part of every sample.
    """
    n, m = Y.shape
    n_groups = int(codes.max()) + 1
    counts = np.zeros((n_groups, m), dtype=np.int64)
    np.add.at(counts, codes, Y)
    sizes = np.bincount(codes, minlength=n_groups).astype(np.int64)
    totals = Y.sum(axis=0, dtype=np.int64)

    rng = check_random_state(random_state) if shuffle else None
    visit = rng.permutation(n_groups) if shuffle else np.arange(n_groups)
    if method == "greedy":
        # Largest groups first: the small ones that come later even out the
        # error the large ones leave (a classic bin-packing order).
        visit = visit[np.argsort(-sizes[visit], kind="stable")]

    # Remaining desired counts, per part (and per part and label).
    want_size = ratios * n
    want = ratios[:, None] * totals[None, :].astype(np.float64)
    # Scales of the relative shortfalls used by the greedy choice; a label
    # without positives never contributes (its group counts are all zero).
    scale_label = 1.0 / np.maximum(want, 1e-12)
    scale_size = 1.0 / np.maximum(want_size, 1e-12)

    part_of_group = np.full(n_groups, -1, dtype=np.intp)
    remaining = counts.sum(axis=0)  # positives of unassigned groups, per label

    def choose(g, label):
        c = counts[g]
        if method == "greedy":
            # Change in the sum of squared relative shortfalls (all labels and
            # the size) if group g joins each part; pick the smallest.
            cost = ((c * (c - 2.0 * want)) * scale_label).sum(axis=1)
            cost += sizes[g] * (sizes[g] - 2.0 * want_size) * scale_size
            best = np.flatnonzero(cost == cost.min())
        elif label is None:
            best = np.flatnonzero(want_size == want_size.max())
        else:
            w = want[:, label]
            best = np.flatnonzero(w == w.max())
        if best.size > 1:
            ws = want_size[best]
            best = best[ws == ws.max()]
        if best.size > 1 and rng is not None:
            return best[rng.randint(best.size)]
        return best[0]

    def put(g, j):
        part_of_group[g] = j
        want[j] -= counts[g]
        want_size[j] -= sizes[g]

    while True:
        live = remaining > 0
        if not live.any():
            break
        # The label with the fewest remaining positives goes first.
        label = int(np.argmin(np.where(live, remaining, np.iinfo(np.int64).max)))
        pending = visit[(part_of_group[visit] < 0) & (counts[visit, label] > 0)]
        for g in pending:
            put(g, choose(g, label))
        remaining -= counts[pending].sum(axis=0)

    for g in visit[part_of_group[visit] < 0]:  # groups without any positive
        put(g, choose(g, None))
    return part_of_group[codes]


def _validate_common(method, shuffle, random_state):
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}.")
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"shuffle must be True or False, got {shuffle!r}.")
    if not shuffle and random_state is not None:
        raise ValueError(
            "Setting a random_state has no effect since shuffle is False. "
            "Leave random_state to its default (None), or set shuffle=True."
        )
