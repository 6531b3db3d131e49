"""Weighted binary cross-entropy on logits (equation 2)."""

import numpy as np
import pytest
import torch

from sktags.models import WeightedBCEWithLogitsLoss, weighted_bce_with_logits


def brute_force(z, y, w):
    """Per-entry -w [y log p + (1 - y) log(1 - p)], averaged, in float64 numpy."""
    total = 0.0
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            p = 1.0 / (1.0 + np.exp(-z[i, j]))
            total += -w[i, j] * (y[i, j] * np.log(p) + (1 - y[i, j]) * np.log(1 - p))
    return total / z.size


def test_matches_brute_force():
    rng = np.random.default_rng(0)
    z = rng.normal(scale=3, size=(7, 5))
    y = (rng.random((7, 5)) < 0.4).astype(np.float64)
    w = rng.uniform(0, 2, size=(7, 5))
    w[0, :] = 0.0
    got = weighted_bce_with_logits(torch.from_numpy(z), torch.from_numpy(y), torch.from_numpy(w))
    assert got.item() == pytest.approx(brute_force(z, y, w), rel=1e-12)


def test_unit_weights_equal_torch_bce():
    rng = np.random.default_rng(1)
    z = torch.from_numpy(rng.normal(size=(6, 4)))
    y = torch.from_numpy((rng.random((6, 4)) < 0.5).astype(np.float64))
    reference = torch.nn.BCEWithLogitsLoss()(z, y)
    assert weighted_bce_with_logits(z, y).item() == pytest.approx(reference.item(), rel=1e-12)
    ones = torch.ones_like(y)
    assert weighted_bce_with_logits(z, y, ones).item() == pytest.approx(reference.item(), rel=1e-12)
    # against probabilities as well
    p = torch.sigmoid(z)
    assert torch.nn.BCELoss()(p, y).item() == pytest.approx(reference.item(), rel=1e-9)


def test_stable_for_large_logits():
    z = torch.tensor([[100.0, -100.0, 100.0, -100.0]])
    y = torch.tensor([[1.0, 0.0, 0.0, 1.0]])
    # log(1 + e^-100) ~ 0 for the right answers, ~100 for the wrong ones
    assert weighted_bce_with_logits(z, y).item() == pytest.approx(50.0, rel=1e-6)


def test_zero_weight_entries_get_no_gradient():
    rng = np.random.default_rng(2)
    z = torch.tensor(rng.normal(size=(5, 3)), requires_grad=True)
    y = torch.from_numpy((rng.random((5, 3)) < 0.5).astype(np.float64))
    w = torch.from_numpy(rng.uniform(0.5, 2, size=(5, 3)))
    w[:, 1] = 0.0
    w[3, :] = 0.0
    weighted_bce_with_logits(z, y, w).backward()
    g = z.grad.numpy()
    assert (g[:, 1] == 0).all() and (g[3] == 0).all()
    expected = (torch.sigmoid(z) - y).detach().numpy() * w.numpy() / z.numel()  # dL/dz
    np.testing.assert_allclose(g, expected, rtol=1e-12, atol=1e-15)


def test_module_accepts_pair_target():
    rng = np.random.default_rng(3)
    z = torch.from_numpy(rng.normal(size=(4, 2)))
    y = torch.from_numpy((rng.random((4, 2)) < 0.5).astype(np.float64))
    w = torch.from_numpy(rng.uniform(0, 2, size=(4, 2)))
    loss = WeightedBCEWithLogitsLoss()
    assert loss(z, (y, w)).item() == loss(z, y, w).item() == pytest.approx(
        brute_force(z.numpy(), y.numpy(), w.numpy()), rel=1e-12)
    with pytest.raises(ValueError, match="either"):
        loss(z, (y, w), w)


def test_shape_mismatch():
    z = torch.zeros(3, 2)
    with pytest.raises(ValueError, match="shape"):
        weighted_bce_with_logits(z, torch.zeros(3, 3))
    with pytest.raises(ValueError, match="weight"):
        weighted_bce_with_logits(z, torch.zeros(3, 2), torch.ones(2, 2))
