"""The per-entry missing-label losses against hand-worked values and a brute-force oracle."""

import math

import numpy as np
import pytest
import torch

import _loss_oracles as oracle
from sktags.losses import (
    AsymmetricLoss,
    EntropyMaximization,
    HillLoss,
    LabelSmoothing,
    SPLCLoss,
    WeakAssumeNegative,
    WeightedBCE,
)

# name -> (loss factory, per-entry oracle(z, y, epoch))
ELEMENTWISE = {
    "bce": (lambda: WeightedBCE(), lambda z, y, n, e: oracle.bce(z, y)),
    "wan": (lambda: WeakAssumeNegative(), lambda z, y, n, e: oracle.wan(z, y, 1 / (n - 1))),
    "wan_0.3": (lambda: WeakAssumeNegative(gamma=0.3), lambda z, y, n, e: oracle.wan(z, y, 0.3)),
    "ls": (lambda: LabelSmoothing(), lambda z, y, n, e: oracle.label_smoothing(z, y, 0.1)),
    "ls_0.3": (lambda: LabelSmoothing(epsilon=0.3),
               lambda z, y, n, e: oracle.label_smoothing(z, y, 0.3)),
    "asl": (lambda: AsymmetricLoss(), lambda z, y, n, e: oracle.asl(z, y, 0, 4, 0.05)),
    "asl_pos": (lambda: AsymmetricLoss(gamma_pos=1, gamma_neg=2, clip=0.2),
                lambda z, y, n, e: oracle.asl(z, y, 1, 2, 0.2)),
    "asl_noclip": (lambda: AsymmetricLoss(clip=0), lambda z, y, n, e: oracle.asl(z, y, 0, 4, 0)),
    "hill": (lambda: HillLoss(), lambda z, y, n, e: oracle.hill(z, y, 1.5, 1.0, 2)),
    "hill_b": (lambda: HillLoss(lamb=1.0, margin=0.5, gamma=0),
               lambda z, y, n, e: oracle.hill(z, y, 1.0, 0.5, 0)),
    "splc_0": (lambda: SPLCLoss(), lambda z, y, n, e: oracle.splc(z, y, e, 0.6, 1, 1.0, 2)),
    "splc_b": (lambda: SPLCLoss(tau=0.3, change_epoch=2, margin=0.5, gamma=1),
               lambda z, y, n, e: oracle.splc(z, y, e, 0.3, 2, 0.5, 1)),
    "em": (lambda: EntropyMaximization(), lambda z, y, n, e: oracle.em(z, y, 0.1)),
    "em_1": (lambda: EntropyMaximization(alpha=1.0), lambda z, y, n, e: oracle.em(z, y, 1.0)),
}


def random_batch(seed, shape=(6, 5), scale=3.0, extreme=False):
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=scale, size=shape)
    if extreme:
        z.flat[:: 3] = rng.choice([-60.0, -35.0, 35.0, 60.0], size=z.flat[::3].shape)
    y = (rng.random(shape) < 0.4).astype(np.float64)
    w = rng.uniform(0, 2, size=shape)
    w[0, 0] = 0.0
    return z, y, w


def brute_force(entry, z, y, w=None, epoch=0):
    n = z.shape[1]
    L = [[entry(float(z[i, j]), float(y[i, j]), n, epoch) for j in range(n)]
         for i in range(z.shape[0])]
    return oracle.mean_weighted(L, None if w is None else w.tolist())


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@pytest.mark.parametrize("seed,extreme", [(0, False), (1, False), (2, True)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("epoch", [0, 3])
def test_matches_brute_force(name, seed, extreme, weighted, epoch):
    make, entry = ELEMENTWISE[name]
    z, y, w = random_batch(seed, extreme=extreme)
    loss = make()
    loss.set_epoch(epoch)
    t = torch.from_numpy
    got = loss(t(z), t(y), t(w) if weighted else None).item()
    expected = brute_force(entry, z, y, w if weighted else None, epoch)
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_float32_extreme_logits_finite_value_and_gradient(name):
    make, entry = ELEMENTWISE[name]
    z = torch.tensor([[-100.0, -30.0, 0.0, 30.0, 100.0]] * 2, requires_grad=True)
    y = torch.tensor([[1.0, 1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0, 0.0]])
    loss = make()
    loss.set_epoch(5)
    value = loss(z, y, torch.full_like(y, 0.5))
    value.backward()
    assert math.isfinite(value.item())
    assert torch.isfinite(z.grad).all()
    expected = brute_force(entry, z.detach().double().numpy(), y.double().numpy(),
                           np.full((2, 5), 0.5), epoch=5)
    assert value.item() == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_gradient_matches_finite_differences(name):
    make, _ = ELEMENTWISE[name]
    z, y, w = random_batch(7, shape=(3, 4), scale=1.5)
    zt = torch.tensor(z, requires_grad=True)
    loss = make()
    assert torch.autograd.gradcheck(lambda a: loss(a, torch.from_numpy(y), torch.from_numpy(w)),
                                    (zt,), eps=1e-6, atol=1e-7)


def test_bce_equals_the_loss_of_sktags_0_2_exactly():
    # sktags 0.2 computed the paper's loss as torch's mean weighted BCE with logits
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    z, y, w = random_batch(3)
    t = torch.from_numpy
    for weight in (None, t(w)):
        assert WeightedBCE()(t(z), t(y), weight).item() == bce(t(z), t(y), weight=weight).item()
    z32 = t(z).float()
    assert torch.equal(WeightedBCE()(z32, t(y).float(), t(w).float()),
                       bce(z32, t(y).float(), weight=t(w).float()))


# ---------------------------------------------------------------- hand-worked values
# Batch of one sample, labels [observed positive, unobserved], logits [0, 0]:
# p = 1/2 for both, so every log term is log 2 = 0.693147.
Z0 = torch.zeros(1, 2, dtype=torch.float64)
Y0 = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
LOG2 = 0.6931471805599453


@pytest.mark.parametrize("loss,expected", [
    (WeightedBCE(), LOG2),                                     # (log 2 + log 2) / 2
    (WeakAssumeNegative(), LOG2),                              # n=2: gamma = 1/(2-1) = 1
    (WeakAssumeNegative(gamma=0.5), 0.5198603854199589),       # (log 2 + 0.5 log 2) / 2
    (LabelSmoothing(), LOG2),                                  # at p = 1/2 any target costs log 2
    # positive log 2; negative p_m = 0.45: 0.45^4 * -log 0.55 = 0.041004 * 0.597837 = 0.024514
    (AsymmetricLoss(), 0.3588311170360902),                    # (0.693147 + 0.024514) / 2
    # positive q = sigmoid(-1) = 0.268941: (0.731059)^2 * 1.313262 = 0.534447 * 1.313262 = 0.701868;
    # negative (1.5 - 0.5) * 0.25 = 0.25
    (HillLoss(), 0.4759342),                                   # (0.701868 + 0.25) / 2
    # positive as Hill; negative (focal) 0.5^2 * log 2 = 0.173287
    (SPLCLoss(), 0.4375775),                                   # (0.701868 + 0.173287) / 2
    (EntropyMaximization(), 0.3119162312519754),               # (log 2 - 0.1 log 2) / 2
    (EntropyMaximization(alpha=1.0), 0.0),                     # (log 2 - log 2) / 2
])
def test_hand_worked_values(loss, expected):
    assert loss(Z0, Y0).item() == pytest.approx(expected, rel=1e-6)


def test_hand_worked_weights():
    # BCE with weights [2, 0.5] at p = 1/2: (2 log 2 + 0.5 log 2) / 2 = 1.25 log 2 = 0.866434
    w = torch.tensor([[2.0, 0.5]], dtype=torch.float64)
    assert WeightedBCE()(Z0, Y0, w).item() == pytest.approx(0.8664339757, rel=1e-9)
    # EM: (2 log 2 - 0.5 * 0.1 log 2) / 2 = 0.975 log 2 = 0.675818
    assert EntropyMaximization()(Z0, Y0, w).item() == pytest.approx(0.6758185010, rel=1e-9)


def test_hand_worked_splc_switch():
    # unobserved entry at z = 1: p = 0.731059 > tau = 0.6
    z = torch.tensor([[1.0]], dtype=torch.float64)
    y = torch.zeros(1, 1, dtype=torch.float64)
    loss = SPLCLoss()
    # epoch 0, negative focal: p^2 * -log(1 - p) = 0.534447 * 1.313262 = 0.701868
    assert loss(z, y).item() == pytest.approx(0.7018683, rel=1e-6)
    loss.set_epoch(1)
    # from change_epoch on, a pseudo-positive without margin: (1 - p)^2 * -log p
    # = 0.072329 * 0.313262 = 0.022658
    assert loss(z, y).item() == pytest.approx(0.0226580, rel=1e-5)
    # an unobserved entry below tau stays a negative: z = 0, 0.25 * log 2 = 0.173287
    assert loss(torch.zeros(1, 1, dtype=torch.float64), y).item() == pytest.approx(0.1732868, rel=1e-6)


def test_asl_discards_easy_negatives():
    # p = sigmoid(-3) = 0.047 <= clip = 0.05: p_m = 0, the negative costs exactly 0
    z = torch.tensor([[-3.0]], requires_grad=True)
    value = AsymmetricLoss()(z, torch.zeros(1, 1))
    value.backward()
    assert value.item() == 0.0 and z.grad.item() == 0.0


def test_hill_negative_is_hill_shaped():
    # (lamb - p) p^2 has its maximum at p = 2 lamb / 3 = 1 (for lamb = 1.5): increasing on (0, 1)
    # so it is checked with lamb = 0.9, maximum at p = 0.6
    loss = HillLoss(lamb=0.9)
    y = torch.zeros(1, 1, dtype=torch.float64)
    values = [loss(torch.tensor([[math.log(p / (1 - p))]], dtype=torch.float64), y).item()
              for p in (0.3, 0.6, 0.9)]
    assert values[1] > values[0] and values[1] > values[2]
    assert values[1] == pytest.approx((0.9 - 0.6) * 0.36, rel=1e-9)


def test_wan_default_gamma_needs_two_labels():
    with pytest.raises(ValueError, match="at least 2 labels"):
        WeakAssumeNegative()(torch.zeros(2, 1), torch.zeros(2, 1))


def test_shape_errors_and_pair_targets():
    loss = AsymmetricLoss()
    with pytest.raises(ValueError, match="shape"):
        loss(torch.zeros(2, 3), torch.zeros(2, 2))
    with pytest.raises(ValueError, match="weight"):
        loss(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(3, 2))
    z, y, w = (torch.from_numpy(a) for a in random_batch(4))
    assert loss(z, (y, w)).item() == loss(z, y, w).item()
    with pytest.raises(ValueError, match="either"):
        loss(z, (y, w), w)


@pytest.mark.parametrize("loss,match", [
    (AsymmetricLoss(gamma_neg=-1), "gamma_neg"),
    (AsymmetricLoss(clip=1.0), "clip"),
    (HillLoss(lamb=0), "lamb"),
    (SPLCLoss(change_epoch=1.5), "change_epoch"),
    (LabelSmoothing(epsilon=2), "epsilon"),
    (WeakAssumeNegative(gamma="x"), "gamma"),
    (EntropyMaximization(alpha=-0.1), "alpha"),
])
def test_invalid_parameters_named(loss, match):
    with pytest.raises(ValueError, match=match):
        loss(torch.zeros(2, 3), torch.zeros(2, 3))
