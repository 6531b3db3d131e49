"""CNNTagger: Ctrl-C during fit, and resuming a checkpoint with early-stopping state."""

import json

import numpy as np
import pytest
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback

from sktags.models import CNNTagger
from sktags.models import _training

# lr=3 makes the validation loss of this tiny problem go up and down: the best
# epoch is 3, and epochs 4 and 5 do not improve on it, so patience=2 stops
# training after epoch 5 (checked in the reference fixture below).
KW = dict(filters=(4, 4, 4, 4), hidden_units=8, batch_size=8, lr=3.0, max_epochs=10,
          patience=2, random_state=0)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 1, 16, 16)).astype(np.float32)
    Y = (rng.random((40, 3)) < 0.5).astype(np.int64)
    Y[:, 0] = (X[:, 0, :8, :8].mean(axis=(1, 2)) > 0).astype(int)
    return X, Y


@pytest.fixture(scope="module")
def reference(data):
    """An uninterrupted fit, with the early-stopping facts the tests rely on."""
    X, Y = data
    # module-scoped, so set up before conftest's one_torch_thread: do the same
    # here, as the floating-point results of training depend on the thread count
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        full = CNNTagger(**KW).fit(X, Y)
    finally:
        torch.set_num_threads(threads)
    losses = [row["valid_loss"] for row in full.net_.history]
    assert full.n_epochs_ == 5 and full.best_epoch_ == 3
    assert losses[2] < min(losses[:2]) and min(losses[3:]) > losses[2]
    return full


class Interrupt(Callback):
    """Raise KeyboardInterrupt (as Ctrl-C does) at a training batch of ``epoch``."""

    def __init__(self, epoch, batch=2):
        self.epoch = epoch
        self.batch = batch

    def on_train_begin(self, net, **kwargs):
        self.seen_ = 0

    def on_batch_begin(self, net, training=False, **kwargs):
        if training and len(net.history) == self.epoch:
            self.seen_ += 1
            if self.seen_ == self.batch:
                raise KeyboardInterrupt


@pytest.fixture
def interrupt_at(monkeypatch):
    """``interrupt_at(k)``: the next fits are interrupted inside epoch k (None: not)."""
    state = {"epoch": None}

    def callbacks(self):
        cbs = list(NeuralNet.get_default_callbacks(self))
        if state["epoch"] is not None:
            cbs.append(("interrupt", Interrupt(state["epoch"])))
        return cbs

    monkeypatch.setattr(_training.TaggerNeuralNet, "get_default_callbacks", callbacks)
    return lambda epoch: state.update(epoch=epoch)


def epochs_trained(monkeypatch):
    """Record the epoch number of each training epoch that starts."""
    started = []
    original = _training.TaggerNeuralNet.on_epoch_begin

    def on_epoch_begin(self, net, **kwargs):
        original(self, net, **kwargs)
        started.append(len(self.history))

    monkeypatch.setattr(_training.TaggerNeuralNet, "on_epoch_begin", on_epoch_begin)
    return started


def test_ctrl_c_raises_after_checkpoint_and_rerun_resumes(data, reference, tmp_path,
                                                          interrupt_at, monkeypatch):
    X, Y = data
    interrupt_at(4)
    tagger = CNNTagger(**KW, checkpoint_dir=tmp_path)
    with pytest.raises(KeyboardInterrupt):
        tagger.fit(X, Y)
    assert not hasattr(tagger, "net_")  # no half-trained model that looks finished
    (run_dir,) = tmp_path.iterdir()
    assert sorted(p.name for p in run_dir.iterdir() if p.name != ".lock") == [
        "checkpoint.pt", "config.json"]
    saved = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    assert [row["epoch"] for row in json.loads(saved["history"])] == [1, 2, 3]

    # early stopping is not an interrupt: it still ends fit normally
    interrupt_at(None)
    started = epochs_trained(monkeypatch)
    resumed = CNNTagger(**KW, checkpoint_dir=tmp_path).fit(X, Y)
    assert started == [4, 5]  # resumed after the last completed epoch
    assert resumed.n_epochs_ == 5 and resumed.best_epoch_ == 3
    np.testing.assert_array_equal(resumed.predict_proba(X), reference.predict_proba(X))


@pytest.mark.parametrize("k", [2, 5])
def test_resume_keeps_early_stopping_state_and_best_weights(data, reference, tmp_path,
                                                            interrupt_at, k):
    """Interrupted inside epoch k and resumed = uninterrupted, bit for bit on the CPU.

    k=2 resumes before the best epoch (3), k=5 after it and one epoch before
    patience runs out: the best loss, best epoch, epochs without improvement
    and the best weights must all come back from the checkpoint.
    """
    X, Y = data
    interrupt_at(k)
    with pytest.raises(KeyboardInterrupt):
        CNNTagger(**KW, checkpoint_dir=tmp_path).fit(X, Y)
    interrupt_at(None)
    resumed = CNNTagger(**KW, checkpoint_dir=tmp_path).fit(X, Y)

    keys = ["epoch", "train_loss", "valid_loss", "train_loss_best", "valid_loss_best"]
    expected = [[row[key] for key in keys] for row in reference.net_.history]
    assert [[row[key] for key in keys] for row in resumed.net_.history] == expected
    assert [row["valid_loss_best"] for row in resumed.net_.history] == [
        True, False, True, False, False]
    assert resumed.n_epochs_ == reference.n_epochs_ == 5
    assert resumed.best_epoch_ == reference.best_epoch_ == 3
    got, want = resumed.net_.module_.state_dict(), reference.net_.module_.state_dict()
    assert list(got) == list(want)
    for name in want:
        assert torch.equal(got[name], want[name]), name
    np.testing.assert_array_equal(resumed.predict_proba(X), reference.predict_proba(X))
    np.testing.assert_array_equal(resumed.predict(X), reference.predict(X))
