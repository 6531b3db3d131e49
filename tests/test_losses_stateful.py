"""Epoch- and sample-dependent losses (LL, EPR, ROLE, track consistency), state and resolution."""

import copy
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, clone

import _loss_oracles as oracle
from sktags.losses import (
    LOSSES,
    ROLE,
    AsymmetricLoss,
    ExpectedPositiveRegularizer,
    LargeLossCorrection,
    LargeLossRejection,
    SPLCLoss,
    TrackConsistency,
    get_loss,
    parse_loss_param,
)


def batch(seed, shape=(8, 5)):
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=2.5, size=shape)
    y = (rng.random(shape) < 0.3).astype(np.float64)
    w = rng.uniform(0, 2, size=shape)
    return z, y, w


# ---------------------------------------------------------------- large loss
@pytest.mark.parametrize("cls,correct", [(LargeLossRejection, False), (LargeLossCorrection, True)])
@pytest.mark.parametrize("epoch", [0, 1, 5, 40, 600])
@pytest.mark.parametrize("weighted", [False, True])
def test_large_loss_matches_brute_force(cls, correct, epoch, weighted):
    z, y, w = batch(epoch)
    loss = cls(delta_rel=0.02)
    loss.set_epoch(epoch)
    L = oracle.large_loss(z.tolist(), y.tolist(), epoch, 0.02, correct)
    expected = oracle.mean_weighted(L, w.tolist() if weighted else None)
    t = torch.from_numpy
    assert loss(t(z), t(y), t(w) if weighted else None).item() == pytest.approx(expected, rel=1e-10)


def test_large_loss_k_schedule():
    loss = LargeLossRejection()  # delta_rel = 0.002
    # B = 16, m = 40: 640 entries; k = ceil(640 * min(epoch * 0.002, 1)), capped at the unobserved
    # 640 * 0.002 = 1.28 -> 2; 2.56 -> 3; 12.8 -> 13; 638.72 -> 639; from epoch 500 on all 640
    expected = {0: 0, 1: 2, 2: 3, 10: 13, 499: 639, 500: 640, 900: 640}
    for epoch, k in expected.items():
        loss.set_epoch(epoch)
        assert loss.n_modified(16, 40, 640) == k
        assert loss.n_modified(16, 40, 600) == min(k, 600)  # the cap
    assert loss.current_epoch == 900
    with pytest.raises(ValueError, match="epoch"):
        loss.set_epoch(-1)


def test_large_loss_touches_only_unobserved_and_exactly_k():
    z, y, _ = batch(11)
    loss = LargeLossRejection(delta_rel=0.1)
    loss.set_epoch(3)  # share 0.3 of 40 entries = 12
    mask = loss.large_loss_mask(torch.from_numpy(z), torch.from_numpy(y))
    assert int(mask.sum()) == min(12, int((y == 0).sum()))
    assert not mask[torch.from_numpy(y) == 1].any()
    # the chosen are the unobserved with the largest logits (BCE against 0 grows with z)
    chosen = z[mask.numpy()]
    others = z[(~mask.numpy()) & (y == 0)]
    assert chosen.min() > others.max()


def test_large_loss_hand_worked():
    # logits [[3, 0, -1]], nothing observed, delta_rel = 1/3, epoch 1: k = ceil(3 * 1/3) = 1
    z, y = torch.tensor([[3.0, 0.0, -1.0]], dtype=torch.float64), torch.zeros(1, 3, dtype=torch.float64)
    r, c = LargeLossRejection(delta_rel=1 / 3), LargeLossCorrection(delta_rel=1 / 3)
    r.set_epoch(1)
    c.set_epoch(1)
    # BCE(0) = log 2 = 0.693147, BCE(-1 vs 0) = log(1 + e^-1) = 0.313262, BCE(3 vs 1) = 0.048587
    assert r(z, y).item() == pytest.approx((0 + 0.693147 + 0.313262) / 3, rel=1e-5)
    assert c(z, y).item() == pytest.approx((0.048587 + 0.693147 + 0.313262) / 3, rel=1e-5)


# ---------------------------------------------------------------- EPR and ROLE
@pytest.mark.parametrize("weighted", [False, True])
def test_epr_matches_brute_force(weighted):
    z, y, w = batch(1)
    loss = ExpectedPositiveRegularizer(expected_positives=2.5)
    t = torch.from_numpy
    got = loss(t(z), t(y), t(w) if weighted else None).item()
    expected = oracle.epr(z.tolist(), y.tolist(), 2.5, w.tolist() if weighted else None)
    assert got == pytest.approx(expected, rel=1e-10)


def test_expected_positives_from_the_training_labels():
    y_train = np.array([[1, 0, 1], [0, 0, 0], [1, 1, 1], [0, 1, 0]])  # 6 positives / 4 = 1.5
    z = np.zeros((4, 3))  # each row predicts 3 * 0.5 = 1.5 positives: no penalty
    loss = ExpectedPositiveRegularizer().setup(4, 3, y_train)
    t = torch.from_numpy
    expected = oracle.epr(z.tolist(), y_train.tolist(), 1.5)
    assert loss(t(z), t(y_train).double()).item() == pytest.approx(expected, rel=1e-12)
    # without setup: the running mean of the training batches seen so far
    lazy = ExpectedPositiveRegularizer()
    lazy(t(z[:2]), t(y_train[:2]).double())  # 2 positives in 2 rows: K = 1
    assert lazy.prior[0].item() == 2 and lazy.prior[1].item() == 2
    value = lazy(t(z[2:]), t(y_train[2:]).double())  # then 6 in 4: K = 1.5
    assert value.item() == pytest.approx(oracle.epr(z[2:].tolist(), y_train[2:].tolist(), 1.5))


@pytest.mark.parametrize("weighted", [False, True])
def test_role_matches_brute_force_and_its_update(weighted):
    z, y, w = batch(2)
    W = w if weighted else np.ones_like(w)
    B, C = z.shape
    loss = ROLE(expected_positives=1.5, estimator_lr=0.7)
    index = torch.arange(B) * 2  # rows 0, 2, ... of a larger training set
    t = torch.from_numpy
    got = loss(t(z), t(y), t(w) if weighted else None, index=index).item()
    # fresh rows: u = logit(0.995) on observed positives, 0 elsewhere
    U = [[math.log(0.995 / 0.005) if y[i, j] == 1 else 0.0 for j in range(C)] for i in range(B)]
    assert got == pytest.approx(oracle.role(z.tolist(), y.tolist(), U, 1.5,
                                            w.tolist() if weighted else None), rel=1e-6)
    # the update: one gradient step of the estimator's half, times B*C, by hand
    Q = [[oracle.sigmoid(u) for u in row] for row in U]
    mean_count = sum(map(sum, Q)) / B
    for i in range(B):
        for j in range(C):
            p, q = oracle.sigmoid(z[i, j]), Q[i][j]
            grad = 0.5 * W[i, j] * (y[i, j] * (q - 1) + q - p) + (mean_count - 1.5) * q * (1 - q) / C
            assert loss.estimates[2 * i, j].item() == pytest.approx(U[i][j] - 0.7 * grad, abs=1e-5)
    assert loss.estimates.shape == (2 * B - 1, C)
    assert not loss.initialized[1] and loss.initialized[2]


def test_role_without_index_is_epr_and_changes_nothing():
    z, y, _ = batch(3)
    loss = ROLE(expected_positives=2.0).setup(10, 5, np.zeros((10, 5)))
    before = loss.estimates.clone()
    t = torch.from_numpy
    assert loss(t(z), t(y)).item() == pytest.approx(
        ExpectedPositiveRegularizer(expected_positives=2.0)(t(z), t(y)).item(), rel=1e-12)
    assert torch.equal(loss.estimates, before)


def test_role_setup_initialises_rows_and_gradient_reaches_logits_only():
    y_train = np.array([[1, 0], [0, 1], [0, 0]])
    loss = ROLE().setup(3, 2, y_train)
    assert loss.prior[0].item() == 2 and loss.prior[1].item() == 3  # K = 2/3
    np.testing.assert_allclose(torch.sigmoid(loss.estimates).numpy(), [[0.995, 0.5], [0.5, 0.995], [0.5, 0.5]],
                               rtol=1e-5)
    z = torch.zeros(2, 2, requires_grad=True)
    loss(z, torch.tensor(y_train[:2], dtype=torch.float32), index=torch.tensor([0, 1])).backward()
    assert torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0


# ---------------------------------------------------------------- track consistency
def test_track_consistency_hand_worked():
    loss = TrackConsistency(base="bce", beta=2.0, momentum=0.5)
    y = torch.zeros(2, 1, dtype=torch.float64)
    idx = torch.tensor([0, 0])
    z1 = torch.tensor([[0.0], [math.log(3)]], dtype=torch.float64)  # p = 0.5 and 0.75
    base1 = (math.log(2) + math.log(4)) / 2  # BCE against 0: -log(1 - p)
    assert loss(z1, y, index=idx).item() == pytest.approx(base1)  # nothing seen yet: no term
    assert loss.track_mean[0, 0].item() == pytest.approx(0.625)  # mean of the two crops
    z2 = torch.tensor([[math.log(1 / 3)], [0.0]], dtype=torch.float64)  # p = 0.25 and 0.5
    base2 = (math.log(4 / 3) + math.log(2)) / 2
    term = ((0.25 - 0.625) ** 2 + (0.5 - 0.625) ** 2) / 2  # 0.078125
    assert loss(z2, y, index=idx).item() == pytest.approx(base2 + 2.0 * term)
    assert loss.track_mean[0, 0].item() == pytest.approx(0.5 * 0.625 + 0.5 * 0.375)
    # validation (index=None): the base loss only, and no update
    assert loss(z2, y).item() == pytest.approx(base2)
    assert loss.track_mean[0, 0].item() == pytest.approx(0.5)


def test_track_consistency_passes_epochs_and_index_to_its_base():
    loss = TrackConsistency(base=SPLCLoss(change_epoch=1), beta=0.0)
    z, y = torch.full((1, 1), 2.0), torch.zeros(1, 1)
    plain = SPLCLoss(change_epoch=1)
    assert loss(z, y, index=torch.tensor([0])).item() == pytest.approx(plain(z, y).item())
    loss.set_epoch(1)
    plain.set_epoch(1)
    assert loss(z, y, index=torch.tensor([0])).item() == pytest.approx(plain(z, y).item())
    with_role = TrackConsistency(base="role", beta=0.0)
    with_role(z, y, index=torch.tensor([3]))
    assert with_role.base_.estimates.shape[0] == 4


# ---------------------------------------------------------------- state
def run_epochs(loss, batches, start, stop, index_of=None):
    values = []
    for epoch in range(start, stop):
        loss.set_epoch(epoch)
        for k, (z, y) in enumerate(batches):
            kwargs = {} if index_of is None else {"index": index_of(k)}
            values.append(loss(z, y, **kwargs).item())
    return values


@pytest.mark.parametrize("make,uses_index", [
    (lambda: SPLCLoss(change_epoch=2), False),
    (lambda: LargeLossCorrection(delta_rel=0.05), False),
    (lambda: LargeLossRejection(delta_rel=0.05), False),
    (lambda: ExpectedPositiveRegularizer(), False),
    (lambda: ROLE(), True),
    (lambda: TrackConsistency(base=LargeLossRejection(delta_rel=0.05)), True),
])
def test_state_dict_round_trip_resumes_exactly(make, uses_index):
    rng = np.random.default_rng(0)
    batches = [(torch.tensor(rng.normal(size=(4, 3)) * 2), torch.tensor((rng.random((4, 3)) < 0.4) * 1.0))
               for _ in range(3)]
    index_of = (lambda k: torch.arange(4) + 4 * k) if uses_index else None
    straight = make()
    full = run_epochs(straight, batches, 0, 4, index_of)
    first = make()
    head = run_epochs(first, batches, 0, 2, index_of)
    state = {k: v.clone() for k, v in first.state_dict().items()}
    resumed = make()
    resumed.load_state_dict(state)
    assert resumed.state_dict().keys() == state.keys()
    tail = run_epochs(resumed, batches, 2, 4, index_of)
    assert head + tail == full


# ---------------------------------------------------------------- resolution and cloning
class Holder(BaseEstimator):
    def __init__(self, *, loss="bce"):
        self.loss = loss


def test_get_loss_forms_and_errors():
    assert isinstance(get_loss("asl"), AsymmetricLoss)
    assert isinstance(get_loss(AsymmetricLoss), AsymmetricLoss)
    instance = ROLE().setup(3, 2)
    copied = get_loss(instance)
    assert copied is not instance and copied.estimates is not instance.estimates
    assert get_loss("asl", gamma_neg=2).gamma_neg == 2
    assert repr(get_loss("asl", gamma_neg=2)) == "AsymmetricLoss(gamma_pos=0, gamma_neg=2, clip=0.05)"
    with pytest.raises(ValueError, match="valid names are bce, wan"):
        get_loss("focal")
    with pytest.raises(ValueError, match="loss must be"):
        get_loss(3)
    with pytest.raises(ValueError, match="Invalid parameter 'gama'"):
        get_loss("wan", gama=0.1)
    with pytest.raises(ValueError, match="gamma_neg"):
        get_loss("asl", gamma_neg=-1)
    with pytest.raises(ValueError, match="at least 2 labels"):
        get_loss("wan", n_labels=1)
    for name, cls in LOSSES.items():
        assert type(get_loss(name)) is cls and "\n" not in repr(cls())


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_clone_gives_an_independent_loss(name):
    est = Holder(loss=get_loss(name))
    est.loss.set_epoch(3)
    cloned = clone(est)
    assert cloned.loss is not est.loss and type(cloned.loss) is type(est.loss)
    assert cloned.loss.get_params() == est.loss.get_params()
    assert copy.deepcopy(est.loss).get_params() == est.loss.get_params()


def test_clone_of_nested_base():
    est = Holder(loss=TrackConsistency(base=AsymmetricLoss(gamma_neg=1)))
    cloned = clone(est)
    assert cloned.loss.base is not est.loss.base and cloned.loss.base.gamma_neg == 1
    assert repr(cloned.loss) == ("TrackConsistency(base=AsymmetricLoss(gamma_pos=0, gamma_neg=1, "
                                 "clip=0.05), beta=1.0, momentum=0.9)")


@settings(max_examples=40, deadline=None)
@given(gamma_neg=st.one_of(st.floats(allow_nan=True), st.integers(-5, 5)),
       clip=st.floats(-1, 2, allow_nan=False))
def test_asl_parameter_validation_property(gamma_neg, clip):
    loss = AsymmetricLoss(gamma_neg=gamma_neg, clip=clip)
    valid = math.isfinite(gamma_neg) and gamma_neg >= 0 and 0 <= clip < 1  # inf refused
    z = torch.zeros(2, 2)
    if valid:
        assert math.isfinite(loss(z, torch.ones(2, 2)).item())
    else:
        with pytest.raises(ValueError):
            loss(z, torch.ones(2, 2))


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_finite_on_extreme_logits(name):
    loss = get_loss(name)
    loss.set_epoch(50)
    z = torch.tensor([[-100.0, -30.0, 0.0, 30.0, 100.0]] * 4, requires_grad=True)
    y = torch.tensor([[1.0] * 5, [0.0] * 5, [1.0, 0.0, 1.0, 0.0, 1.0], [0.0, 1.0, 0.0, 1.0, 0.0]])
    kwargs = {"index": torch.tensor([0, 1, 2, 0])} if loss.requires_index else {}
    for _ in range(2):  # the second call sees state from the first
        value = loss(z, y, torch.full_like(y, 0.5), **kwargs)
        z.grad = None
        value.backward()
        assert math.isfinite(value.item()) and torch.isfinite(z.grad).all()
        assert all(torch.isfinite(b).all() for b in loss.buffers() if b.is_floating_point())


def test_parse_loss_param():
    assert parse_loss_param("gamma_neg=2") == ("gamma_neg", 2)
    assert isinstance(parse_loss_param("gamma_neg=2")[1], int)
    assert parse_loss_param(" tau = 0.7 ") == ("tau", 0.7)
    assert parse_loss_param("gamma=None") == ("gamma", None)
    assert parse_loss_param("base=asl") == ("base", "asl")
    assert get_loss("asl", **dict([parse_loss_param("gamma_neg=2")])).gamma_neg == 2
    for bad in ("gamma_neg", "=2", "2x=1"):
        with pytest.raises(ValueError, match="name=value"):
            parse_loss_param(bad)
