"""Crop training with AdamW, one-cycle and mixup: seeding, exact resume, mixed weights."""

import functools

import numpy as np
import pytest
import torch

from sktags.models import CNNTagger, ShortChunkCNN
from sktags.models import _training
from sktags.models._training import mix_batch, mixup_draw
from sktags.models._callbacks import cosine_one_cycle

MODULE = functools.partial(ShortChunkCNN, channels=(4, 6))
KW = dict(module=MODULE, crop_frames=12, optimizer="adamw", mixup=0.4, batch_size=8,
          max_epochs=4, patience=None, random_state=0)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    tracks = [rng.normal(size=(1, 8, int(n))).astype(np.float32)
              for n in rng.integers(8, 40, size=24)]
    Y = (rng.random((24, 2)) < 0.5).astype(int)
    return tracks, Y


def test_mix_batch_by_hand():
    x = torch.arange(12.0).reshape(3, 1, 1, 4)
    y = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    w = torch.tensor([[2.0, 1.0], [1.0, 3.0], [0.5, 0.5]])
    lam, perm = mixup_draw(0.4, 3, seed=7, epoch=2, batch=1)
    assert 0 <= lam <= 1 and sorted(perm.tolist()) == [0, 1, 2]
    xm, (ym, wm) = mix_batch((x, (y, w)), 0.4, 7, 2, 1)
    for i in range(3):
        j = int(perm[i])
        torch.testing.assert_close(xm[i], lam * x[i] + (1 - lam) * x[j])
        torch.testing.assert_close(ym[i], lam * y[i] + (1 - lam) * y[j])
        torch.testing.assert_close(wm[i], lam * w[i] + (1 - lam) * w[j])  # weights mixed too
    # seeded: the same (seed, epoch, batch) gives the same mix, another batch another one
    again = mix_batch((x, (y, w)), 0.4, 7, 2, 1)
    torch.testing.assert_close(again[0], xm)
    assert mixup_draw(0.4, 3, 7, 2, 2)[0] != lam
    assert mix_batch((x, (y, w)), 0.0, 7, 2, 1)[0] is x  # alpha 0: no mixing


def test_mixup_reaches_the_training_step(data, monkeypatch):
    tracks, Y = data
    seen = []
    original = _training.TaggerNeuralNet.get_loss

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if training:
            seen.append(y_true[0].clone())
        return original(self, y_pred, y_true, X=X, training=training)

    monkeypatch.setattr(_training.TaggerNeuralNet, "get_loss", get_loss)
    CNNTagger(**{**KW, "max_epochs": 1, "valid_size": None}).fit(tracks, Y)
    assert any(((t > 0) & (t < 1)).any() for t in seen)  # soft (mixed) targets
    seen.clear()
    CNNTagger(**{**KW, "max_epochs": 1, "valid_size": None, "mixup": 0.0}).fit(tracks, Y)
    assert all(((t == 0) | (t == 1)).all() for t in seen)


def test_one_cycle_schedule_per_batch(data, monkeypatch):
    tracks, Y = data
    rates = []
    original = _training.TaggerNeuralNet.train_step_single

    def train_step_single(self, batch, **fit_params):
        rates.append(self.optimizer_.param_groups[0]["lr"])
        return original(self, batch, **fit_params)

    monkeypatch.setattr(_training.TaggerNeuralNet, "train_step_single", train_step_single)
    tagger = CNNTagger(**{**KW, "valid_size": None, "lr": 0.01}).fit(tracks, Y)
    assert type(tagger.net_.optimizer_) is torch.optim.AdamW
    assert tagger.net_.optimizer_.param_groups[0]["weight_decay"] == 0.01
    total = 4 * 3  # 4 epochs of 24 / 8 batches
    assert rates == pytest.approx([cosine_one_cycle(s, total, 0.01) for s in range(total)])
    assert rates[0] == pytest.approx(0.01 / 25) and max(rates) == pytest.approx(0.01, rel=0.05)
    assert rates[-1] == pytest.approx(0.01 / 25e4)


def test_seeded_fits_are_identical_and_seeds_matter(data):
    tracks, Y = data
    a = CNNTagger(**KW).fit(tracks, Y).predict_proba(tracks)
    b = CNNTagger(**KW).fit(tracks, Y).predict_proba(tracks)
    c = CNNTagger(**{**KW, "random_state": 1}).fit(tracks, Y).predict_proba(tracks)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_resume_with_crops_is_identical_to_an_uninterrupted_run(data, tmp_path, monkeypatch):
    tracks, Y = data
    full = CNNTagger(**KW).fit(tracks, Y)

    original = _training.TaggerNeuralNet.train_step_single

    def interrupted(self, batch, **fit_params):
        if len(self.history) == 3:  # inside epoch 3, after epochs 1 and 2 were saved
            raise KeyboardInterrupt
        return original(self, batch, **fit_params)

    monkeypatch.setattr(_training.TaggerNeuralNet, "train_step_single", interrupted)
    with pytest.raises(KeyboardInterrupt):
        CNNTagger(**KW, checkpoint_dir=tmp_path).fit(tracks, Y)
    epochs = []

    def recording(self, batch, **fit_params):
        epochs.append(len(self.history))
        return original(self, batch, **fit_params)

    monkeypatch.setattr(_training.TaggerNeuralNet, "train_step_single", recording)
    resumed = CNNTagger(**KW, checkpoint_dir=tmp_path).fit(tracks, Y)
    assert sorted(set(epochs)) == [3, 4]  # resumed after the two saved epochs
    assert resumed.n_epochs_ == 4
    keys = ["epoch", "train_loss", "valid_loss"]
    assert ([[r[k] for k in keys] for r in resumed.net_.history]
            == [[r[k] for k in keys] for r in full.net_.history])
    for name, value in full.net_.module_.state_dict().items():
        assert torch.equal(resumed.net_.module_.state_dict()[name], value), name
    np.testing.assert_array_equal(resumed.predict_proba(tracks), full.predict_proba(tracks))
