"""Checkpoints: full-data fingerprint, the run-folder lock, unreadable files."""

import os
import threading

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sktags.models import CNNTagger
from sktags.models._checkpoint import fingerprint, hash_array
from sktags.models._inputs import spectrogram_input

TINY = dict(filters=(4, 4), hidden_units=8, batch_size=8, max_epochs=2, random_state=0)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 1, 8, 8)).astype(np.float32)
    Y = (rng.random((40, 3)) < 0.5).astype(np.int64)
    return X, Y


def _old_sampled_rows(n):
    """The 16 rows that the fingerprint used to hash (all others were ignored)."""
    return set(np.unique(np.linspace(0, n - 1, min(n, 16)).astype(np.intp)).tolist())


def test_fingerprint_covers_every_row(data, tmp_path):
    X, Y = data
    params = CNNTagger(**TINY).get_params()
    ref = fingerprint(params, spectrogram_input(X), Y)
    assert 21 not in _old_sampled_rows(40)
    for row in (0, 21, 39):
        edited = X.copy()
        edited[row, 0, 3, 3] += 1e-3
        assert fingerprint(params, spectrogram_input(edited), Y) != ref, row
    # the digest does not depend on chunking or on the array being a memmap
    path = tmp_path / "x.npy"
    np.save(path, X)
    assert fingerprint(params, spectrogram_input(np.load(path, mmap_mode="r")), Y) == ref
    import hashlib

    a, b = hashlib.sha256(), hashlib.sha256()
    hash_array(a, X, chunk_bytes=1)
    hash_array(b, X, chunk_bytes=10**9)
    assert a.hexdigest() == b.hexdigest()
    # dtype and shape are part of it, not only the bytes
    assert fingerprint(params, spectrogram_input(X.reshape(40, 1, 4, 16)), Y) != ref
    assert fingerprint(params, spectrogram_input(X.view(np.int32)), Y) != ref


def test_editing_an_unsampled_row_starts_a_new_training(data, tmp_path):
    X, Y = data
    first = CNNTagger(**TINY, checkpoint_dir=tmp_path).fit(X, Y)
    edited = X.copy()
    edited[21] = 0.0
    second = CNNTagger(**TINY, checkpoint_dir=tmp_path).fit(edited, Y)
    assert first.checkpoint_path_ != second.checkpoint_path_
    assert len(list(tmp_path.iterdir())) == 2


# ----------------------------------------------------------- lock

started = threading.Event()
release = threading.Event()


class Hold(Callback):
    """Blocks the first training at the end of its first epoch (after the save)."""

    def on_epoch_end(self, net, **kwargs):
        started.set()
        assert release.wait(60)


def test_second_training_of_the_same_run_refuses(data, tmp_path):
    X, Y = data
    started.clear()
    release.clear()
    results = {}

    def first():
        try:
            results["first"] = CNNTagger(**TINY, checkpoint_dir=tmp_path,
                                         callbacks=[Hold()]).fit(X, Y)
        except BaseException as exc:  # pragma: no cover - reported below
            results["first"] = exc

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert started.wait(60)
        (run_dir,) = tmp_path.iterdir()
        in_progress = run_dir / ".checkpoint-in-progress.tmp"  # as if being written
        in_progress.write_bytes(b"partial")
        with pytest.raises(RuntimeError, match="another training is using the checkpoint "
                                               f"folder {run_dir}"):
            CNNTagger(**TINY, checkpoint_dir=tmp_path).fit(X, Y)
        assert in_progress.exists()  # the refused run deleted nothing
        in_progress.unlink()
    finally:
        release.set()
        thread.join(60)
    assert isinstance(results["first"], CNNTagger), results["first"]
    assert results["first"].n_epochs_ == 2
    # once the first has finished, the same fit loads its checkpoint
    again = CNNTagger(**TINY, checkpoint_dir=tmp_path).fit(X, Y)
    np.testing.assert_array_equal(again.predict_proba(X), results["first"].predict_proba(X))


def test_lock_is_released_after_a_failed_fit(data, tmp_path):
    X, Y = data

    class Boom(Callback):
        def on_epoch_end(self, net, **kwargs):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        CNNTagger(**TINY, checkpoint_dir=tmp_path, callbacks=[Boom()]).fit(X, Y)
    assert CNNTagger(**TINY, checkpoint_dir=tmp_path).fit(X, Y).n_epochs_ == 2


# ----------------------------------------------------------- unreadable files


class Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_foreign_checkpoint_is_refused_without_unsafe_advice(data, tmp_path):
    X, Y = data
    est = CNNTagger(**TINY, checkpoint_dir=tmp_path).fit(X, Y)
    marker = tmp_path / "marker"
    torch.save({"payload": Payload(str(marker))}, est.checkpoint_path_)
    with pytest.raises(ValueError) as info:
        CNNTagger(**TINY, checkpoint_dir=tmp_path).fit(X, Y)
    message = str(info.value)
    assert "not a readable CNNTagger checkpoint" in message
    assert "delete the folder" in message and os.path.dirname(est.checkpoint_path_) in message
    assert "weights_only" not in message and "\n" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert not marker.exists()
