"""balance_labels: the authors' iterative capped balancing."""

import numpy as np
import pytest

from sktags.datasets import balance_labels

# Worked by hand, cap = 2. Column counts: c0 = 3, c1 = 3, c2 = 2, so the order
# is c2, c0, c1 (ties keep column order).
#   c2: needs 2, pool has rows 3, 4 -> both; rows 3, 4 leave the pool.
#   c0: selected rows carry no c0, needs 2 of rows 0, 1, 5; they leave the pool.
#   c1: row 3 already counts; row 1 too if it was drawn. If not, 1 more is
#       needed and the pool only has row 2 (row 1 left it with c0).
# Row 6 has no label and is never selected.
Y_HAND = np.array([
    [1, 0, 0],
    [1, 1, 0],
    [0, 1, 0],
    [0, 1, 1],
    [0, 0, 1],
    [1, 0, 0],
    [0, 0, 0],
])
OUTCOMES = {(0, 1, 3, 4), (1, 3, 4, 5), (0, 2, 3, 4, 5)}


def test_hand_worked_case():
    seen = set()
    for seed in range(60):
        seen.add(tuple(balance_labels(Y_HAND, cap=2, random_state=seed).tolist()))
    assert seen == OUTCOMES  # every possible draw happens, nothing else


def test_all_selected_when_cap_is_large():
    idx = balance_labels(Y_HAND, cap=10, random_state=0)
    assert idx.tolist() == [0, 1, 2, 3, 4, 5]


def test_deterministic_with_random_state():
    rng = np.random.default_rng(0)
    Y = (rng.random((2000, 6)) < rng.uniform(0.05, 0.6, size=6)).astype(np.uint8)
    a = balance_labels(Y, cap=150, random_state=42)
    b = balance_labels(Y, cap=150, random_state=42)
    c = balance_labels(Y, cap=150, random_state=43)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.dtype == np.intp and (np.diff(a) > 0).all()
    rs = np.random.RandomState(7)
    np.testing.assert_array_equal(
        balance_labels(Y, cap=150, random_state=rs),
        balance_labels(Y, cap=150, random_state=np.random.RandomState(7)),
    )


def _replay(Y, idx, cap):
    """Check the selection step by step against the algorithm's invariants."""
    Y = Y.astype(bool)
    selected = np.zeros(len(Y), dtype=bool)
    selected[idx] = True
    pool = np.ones(len(Y), dtype=bool)
    chosen = np.zeros(len(Y), dtype=bool)
    for c in np.argsort(Y.sum(axis=0), kind="stable"):
        have = int((chosen & Y[:, c]).sum())
        cand = pool & Y[:, c]
        drawn = selected & cand
        # Exactly min(cap - have, available) drawn, never a negative number.
        assert drawn.sum() == min(max(cap - have, 0), int(cand.sum()))
        chosen |= drawn
        pool &= ~Y[:, c]
    np.testing.assert_array_equal(chosen, selected)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_invariants_on_random_imbalanced_labels(seed):
    rng = np.random.default_rng(seed)
    freqs = np.array([0.02, 0.05, 0.1, 0.3, 0.5, 0.7])
    Y = (rng.random((5000, 6)) < freqs).astype(np.uint8)
    cap = 200
    idx = balance_labels(Y, cap=cap, random_state=seed)
    _replay(Y, idx, cap)
    counts = Y[idx].sum(axis=0)
    rarest = np.argmin(Y.sum(axis=0))
    assert counts[rarest] == min(cap, Y[:, rarest].sum())  # drawn first: exact
    assert Y[idx].any(axis=1).all()  # unlabelled tracks never selected


def test_released_labels_are_already_near_balance():
    from sktags.datasets import load_context_tags

    Y = load_context_tags().target
    idx = balance_labels(Y, cap=20000, random_state=0)
    _replay(Y, idx, 20000)
    # Every context reaches the cap where it has enough tracks.
    assert (Y[idx].sum(axis=0) >= np.minimum(20000, Y.sum(axis=0))).all()


@pytest.mark.parametrize(
    "Y, cap, match",
    [
        ([[0, 2]], 5, "only 0 and 1"),
        ([[0, 1]], 0, "cap"),
        ([[0, 1]], 2.5, "cap"),
        ([1, 0], 5, "2-D"),
    ],
)
def test_errors(Y, cap, match):
    with pytest.raises(ValueError, match=match):
        balance_labels(Y, cap=cap)
