"""CNNTagger: Ctrl-C during fit, and resuming a checkpoint with early-stopping state."""

import numpy as np
import pytest
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback

from sktags.models import CNNTagger
from sktags.models import _net
from sktags.models._callbacks import load_checkpoint

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

    monkeypatch.setattr(_net.TaggerNet, "get_default_callbacks", callbacks)
    return lambda epoch: state.update(epoch=epoch)


def epochs_trained(monkeypatch):
    """Record the epoch number of each training epoch that starts."""
    started = []
    original = _net.TaggerNet.on_epoch_begin

    def on_epoch_begin(self, net, **kwargs):
        original(self, net, **kwargs)
        started.append(len(self.history))

    monkeypatch.setattr(_net.TaggerNet, "on_epoch_begin", on_epoch_begin)
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
    assert sorted(p.name for p in run_dir.iterdir()) == ["checkpoint.pt", "config.json"]
    saved = load_checkpoint(str(run_dir / "checkpoint.pt"))
    assert [row["epoch"] for row in saved["history"]] == [1, 2, 3]

    # early stopping is not an interrupt: it still ends fit normally
    interrupt_at(None)
    started = epochs_trained(monkeypatch)
    resumed = CNNTagger(**KW, checkpoint_dir=tmp_path).fit(X, Y)
    assert started == [4, 5]  # resumed after the last completed epoch
    assert resumed.n_epochs_ == 5 and resumed.best_epoch_ == 3
    np.testing.assert_array_equal(resumed.predict_proba(X), reference.predict_proba(X))
