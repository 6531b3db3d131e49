"""NeuralTagger, the base of the taggers: the loss protocol, seen through a custom loss.

The loss below depends on the epoch (``set_epoch``) and keeps a per-sample
state indexed by the training rows (``requires_index``), kept in buffers; it
checks the protocol against hand-counted expectations: each training row is
seen once per epoch (validation rows never, as validation passes
``index=None``), epochs are announced 0, 1, 2, ..., and a training resumed
from a checkpoint restores the loss state and ends exactly where an
uninterrupted one does.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sktags.models import CNNTagger, EmbeddingTagger, _checkpoint

TINY = dict(filters=(2, 2), hidden_units=4, batch_size=8, device="cpu", random_state=0,
            patience=None)


class EpochIndexLoss(torch.nn.Module):
    """Weighted BCE scaled by the epoch and by how often each sample was seen."""

    requires_index = True

    def __init__(self, n_samples):
        super().__init__()
        self.register_buffer("epoch", torch.zeros((), dtype=torch.long))
        self.register_buffer("seen", torch.zeros(n_samples))
        self.epochs = []  # a plain attribute: what set_epoch was told, in order
        self.index_none = 0  # calls without index (validation)

    def set_epoch(self, epoch):
        self.epochs.append(epoch)
        self.epoch.fill_(epoch)

    def forward(self, logits, y, weight=None, index=None):
        per = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
        if weight is not None:
            per = per * weight
        scale = 1.0 + 0.5 * self.epoch.float()
        if index is None:
            self.index_none += 1
        else:
            scale = scale * (1.0 + 0.1 * self.seen[index].mean())
            self.seen[index] += 1
        return per.mean() * scale


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 1, 8, 8)).astype(np.float32)
    Y = (rng.random((32, 3)) < 0.5).astype(int)
    return X, Y


@pytest.mark.parametrize("mixup", [0.0, 0.4])
def test_loss_is_told_the_epoch_and_the_training_indices(data, mixup):
    X, Y = data
    loss = EpochIndexLoss(len(X))
    tagger = CNNTagger(**TINY, loss=loss, max_epochs=3, valid_size=0.25, mixup=mixup).fit(X, Y)
    fitted = tagger.net_.criterion_
    assert fitted is not loss and loss.epochs == [] and loss.seen.sum() == 0  # deep-copied
    assert fitted.epochs == [0, 1, 2]
    train = np.setdiff1d(np.arange(len(X)), tagger.valid_indices_)
    seen = fitted.seen.numpy()
    np.testing.assert_array_equal(seen[train], 3)  # once per epoch, mixup or not
    np.testing.assert_array_equal(seen[tagger.valid_indices_], 0)
    assert fitted.index_none == 3  # one validation batch per epoch (8 rows)
    # the validation loss is the same loss at the epoch's state: BCE * (1 + 0.5 * epoch)
    assert tagger.net_.history[-1, "valid_loss"] > 0


def test_resumed_training_with_a_stateful_loss_is_identical(data, tmp_path):
    X, Y = data
    params = dict(TINY, valid_size=None, checkpoint_dir=tmp_path)  # the final weights
    whole = CNNTagger(**{**params, "checkpoint_dir": None}, loss=EpochIndexLoss(len(X)),
                      max_epochs=4).fit(X, Y)
    CNNTagger(**params, loss=EpochIndexLoss(len(X)), max_epochs=2).fit(X, Y)
    resumed = CNNTagger(**params, loss=EpochIndexLoss(len(X)), max_epochs=4).fit(X, Y)
    assert resumed.net_.criterion_.epochs == [2, 3]  # only the remaining epochs ran
    np.testing.assert_array_equal(resumed.net_.criterion_.seen.numpy(), 4)  # restored
    np.testing.assert_array_equal(resumed.predict_proba(X), whole.predict_proba(X))
    np.testing.assert_array_equal(resumed.net_.history[:, "train_loss"],
                                  whole.net_.history[:, "train_loss"])


def test_resume_without_the_loss_state_would_differ(data, tmp_path, monkeypatch):
    """The oracle above can fail: resuming with the loss state reset changes the result."""
    X, Y = data
    params = dict(TINY, valid_size=None, checkpoint_dir=tmp_path)  # the final weights
    whole = CNNTagger(**{**params, "checkpoint_dir": None}, loss=EpochIndexLoss(len(X)),
                      max_epochs=4).fit(X, Y)
    CNNTagger(**params, loss=EpochIndexLoss(len(X)), max_epochs=2).fit(X, Y)
    restore = _checkpoint.Checkpoint.restore

    def forgetful(self, net):
        best = restore(self, net)
        net.criterion_.seen.zero_()
        return best

    monkeypatch.setattr(_checkpoint.Checkpoint, "restore", forgetful)
    resumed = CNNTagger(**params, loss=EpochIndexLoss(len(X)), max_epochs=4).fit(X, Y)
    assert np.abs(resumed.predict_proba(X) - whole.predict_proba(X)).max() > 1e-6


def test_bce_by_name_and_a_bad_loss(data):
    X, Y = data
    a = CNNTagger(**TINY, max_epochs=1).fit(X, Y)
    b = CNNTagger(**TINY, max_epochs=1, loss="bce").fit(X, Y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    with pytest.raises(ValueError, match="loss"):
        CNNTagger(**TINY, loss="focal").fit(X, Y)
    with pytest.raises(ValueError, match="loss"):
        EmbeddingTagger(loss=F.binary_cross_entropy_with_logits).fit(X[:, 0, 0], Y)
