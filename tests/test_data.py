"""Data path of CNNTagger: memmaps that pickle as references, ragged spectrograms,
window datasets, persistent loaders and float16 training."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sktags._mmap import MappedArray, memmap_root, picklable
from sktags.features import RaggedSpectrograms
from sktags.models import CNNTagger, _data, _training
from sktags.models._data import SequentialBatchSampler, WholeDataset, WindowDataset, make_loader
from sktags._mmap import memmap_root
from sktags.models._data import window_starts
from sktags.models._inputs import ModelInput, spectrogram_input


def SpectrogramDataset(X, *args):
    """The whole-input dataset of spectrograms X."""
    return WholeDataset(spectrogram_input(X), *args)


def Clips(X):
    """X as clips to crop and window, as they are (empty clips included, unvalidated)."""
    if isinstance(X, np.ndarray) and X.dtype != object:
        return ModelInput(X, (1, X.shape[-2], X.shape[-1]))
    lengths = getattr(X, "lengths", None)
    lengths = [np.shape(c)[-1] for c in X] if lengths is None else lengths
    return ModelInput(X, (1, np.shape(X[0])[-2], None), np.asarray(lengths, dtype=np.int64))

TINY = dict(filters=(2, 2, 2, 2), hidden_units=4, batch_size=4, max_epochs=2,
            device="cpu", random_state=0)


@pytest.fixture
def mm_path(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 1, 8, 10)).astype(np.float16)
    path = tmp_path / "X.npy"
    np.save(path, X)
    return path, X


def test_mapped_array_pickles_a_reference_and_views_round_trip(mm_path):
    path, X = mm_path
    M = np.load(path, mmap_mode="r")
    views = [M, M[3:], M[::2], M[5:1:-2], M[:, 0], M[2:7].reshape(5, 8, 10)[:, ::3, 1:]]
    for v in views:
        blob = pickle.dumps(picklable(v))
        assert len(blob) < 600 < v.nbytes or v.nbytes < 600  # never the data
        back = pickle.loads(blob).array
        np.testing.assert_array_equal(back, np.asarray(v))
        assert back.dtype == v.dtype and back.shape == v.shape
    # the brute-force expectation: the same elements as the in-memory array
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(picklable(M[5:1:-2]))).array,
                                  X[5:1:-2])


def test_in_memory_and_copy_on_write_arrays_pickle_their_data(mm_path):
    path, X = mm_path
    assert picklable(X) is X
    C = np.load(path, mmap_mode="c")
    C[0] = 7  # a private change, not in the file
    assert memmap_root(C) is None
    back = pickle.loads(pickle.dumps(picklable(C)))
    assert (np.asarray(back)[0] == 7).all()
    with pytest.raises(ValueError, match="memory-mapped"):
        MappedArray(X)


def test_spectrogram_dataset_pickles_small_and_reads_the_same(mm_path):
    path, X = mm_path
    Y = (np.arange(24).reshape(12, 2) % 3 == 0).astype(np.float32)
    ds = SpectrogramDataset(np.load(path, mmap_mode="r"), np.arange(2, 12), Y, Y + 1)
    blob = pickle.dumps(ds)
    in_memory = pickle.dumps(SpectrogramDataset(np.array(X), np.arange(2, 12), Y, Y + 1))
    assert len(blob) < len(in_memory) - 0.9 * X.nbytes  # the file's path, not its data
    back = pickle.loads(blob)
    for a, b in zip(ds.__getitems__([4, 0, 7]), back.__getitems__([4, 0, 7])):
        a, b = (a, b) if isinstance(a, torch.Tensor) else (torch.cat(a), torch.cat(b))
        assert torch.equal(a, b)
    xb, _ = back.__getitems__([0, 1])
    np.testing.assert_array_equal(xb.numpy(), X[2:4].astype(np.float32))


def test_unpickling_a_dataset_imports_neither_sklearn_nor_skorch(mm_path):
    path, _ = mm_path
    blob = pickle.dumps(SpectrogramDataset(np.load(path, mmap_mode="r"), np.arange(12)))
    code = ("import pickle, sys; ds = pickle.loads(sys.stdin.buffer.read()); "
            "ds.__getitems__([0]); print(sorted({'sklearn', 'skorch', 'scipy'} & "
            "{m.split('.')[0] for m in sys.modules}))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code], input=blob, capture_output=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    assert out.stdout.decode().strip() == "[]"


def test_forkserver_workers_read_the_memmap_like_the_main_process(mm_path):
    path, X = mm_path
    ds = SpectrogramDataset(np.load(path, mmap_mode="r"), np.arange(12))
    sampler = SequentialBatchSampler(12, 5)
    main = [x for x, _ in make_loader(ds, sampler)]
    loader = make_loader(ds, sampler, num_workers=1, multiprocessing_context="forkserver")
    workers = [x for x, _ in loader]
    assert len(main) == len(workers) == 3
    for a, b in zip(main, workers):
        assert torch.equal(a, b)


# ------------------------------------------------------------------ ragged

def _ragged_case(lengths, n_mels=3, seed=0):
    rng = np.random.default_rng(seed)
    clips = [rng.standard_normal((1, n_mels, n)).astype(np.float32) for n in lengths]
    frames = np.concatenate([c[0].T for c in clips]) if lengths else np.zeros((0, n_mels))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return clips, frames.astype(np.float32), offsets


def _save_ragged(tmp_path, frames, offsets, dtype=np.float16):
    path = tmp_path / "feats.npy"
    np.save(path, frames.astype(dtype))
    np.save(tmp_path / "feats.offsets.npy", offsets)
    return path


def test_ragged_matches_a_list_of_clips(tmp_path):
    lengths = [5, 0, 3, 9, 1]
    clips, frames, offsets = _ragged_case(lengths)
    R = RaggedSpectrograms.load(_save_ragged(tmp_path, frames, offsets, np.float32))
    assert len(R) == 5 and R.n_mels == 3 and R.dtype == np.float32
    assert R.lengths.dtype == np.int64 and R.lengths.tolist() == lengths
    for i, c in enumerate(clips):
        got = R[i]
        assert got.dtype == np.float32 and got.flags.c_contiguous
        np.testing.assert_array_equal(got, c)
    np.testing.assert_array_equal(R[-1], clips[-1])
    for key in ([3, 0, 3], np.array([4, 2]), slice(1, None, 2), np.array([1, 0, 1, 0, 1], bool)):
        sub = R[key]
        expect = [clips[i] for i in np.arange(5)[key]]
        assert len(sub) == len(expect)
        assert sub.frames is R.frames  # no copy of the frames
        for a, b in zip(sub, expect):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(IndexError):
        R[5]
    with pytest.raises(IndexError):
        R[[0, 7]]


@settings(max_examples=40, deadline=None)
@given(lengths=st.lists(st.integers(0, 12), min_size=1, max_size=6),
       i=st.integers(0, 5), start=st.integers(0, 15), width=st.integers(0, 15))
def test_ragged_read_is_a_zero_padded_slice(lengths, i, start, width):
    clips, frames, offsets = _ragged_case(lengths, n_mels=2)
    R = RaggedSpectrograms(frames, offsets)
    i %= len(lengths)
    padded = np.zeros((1, 2, start + width + 20), np.float32)
    padded[:, :, :lengths[i]] = clips[i]
    np.testing.assert_array_equal(R.read(i, start, start + width),
                                  padded[:, :, start:start + width])


def test_ragged_memmap_pickles_as_a_reference(tmp_path):
    clips, frames, offsets = _ragged_case([400, 300, 500], n_mels=16)
    R = RaggedSpectrograms.load(_save_ragged(tmp_path, frames, offsets))[[2, 0]]
    blob = pickle.dumps(R)
    assert len(blob) < 2000 < R.frames.nbytes
    back = pickle.loads(blob)
    assert back.dtype == np.float16
    np.testing.assert_array_equal(back[0], clips[2].astype(np.float16).astype(np.float32))
    # in memory: the frames themselves are pickled
    M = RaggedSpectrograms(frames, offsets)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(M))[1], clips[1])


@pytest.mark.parametrize("offsets, match", [
    ([0, 2, 1, 4], "decrease at clip 1"),
    ([1, 4], "start at 0"),
    ([0, 3], "end at the number of frames"),
    ([[0, 4]], "1-D integer"),
    ([0.0, 4.0], "1-D integer"),
])
def test_ragged_bad_offsets_name_the_file(tmp_path, offsets, match):
    path = tmp_path / "f.npy"
    np.save(path, np.zeros((4, 2), np.float32))
    np.save(tmp_path / "f.offsets.npy", np.asarray(offsets))
    with pytest.raises(ValueError, match=match) as info:
        RaggedSpectrograms.load(path)
    assert "f.offsets.npy" in str(info.value)


def test_ragged_missing_offsets_and_bad_frames(tmp_path):
    path = tmp_path / "g.npy"
    np.save(path, np.zeros((4, 2, 1), np.float32))
    with pytest.raises(ValueError, match="g.npy"):
        RaggedSpectrograms.load(path)
    with pytest.raises(ValueError, match="2-D"):
        RaggedSpectrograms(np.zeros(3), [0, 3])
    with pytest.raises(ValueError, match="start <= stop"):
        RaggedSpectrograms(np.zeros((3, 2)), [0, 3]).read(0, 2, 1)


# ---------------------------------------------------------- window dataset

def test_windows_read_only_the_window_from_every_kind_of_input(tmp_path):
    """CNNTagger's window dataset over ragged, list, object-array and memmapped input."""
    lengths = [7, 2, 11, 0]
    clips, frames, offsets = _ragged_case(lengths, n_mels=4, seed=3)
    Y = np.eye(4, 3, dtype=np.float32)
    R = RaggedSpectrograms.load(_save_ragged(tmp_path, frames, offsets, np.float32))
    objects = np.empty(4, dtype=object)
    objects[:] = clips
    rows = np.array([2, 0, 1, 3])

    def expected(row, start, width=5):
        padded = np.zeros((1, 4, 30), np.float32)
        padded[:, :, :lengths[row]] = clips[row]
        return padded[:, :, start:start + width]

    for X in (R, clips, objects):
        ds = WindowDataset(Clips(X), rows, 5, 3, Y, 2 * Y)
        want = [(r, s) for r in rows for s in window_starts(lengths[r], 5, 3)]
        assert len(ds) == len(want)
        xb, (yb, wb) = ds.__getitems__(list(range(len(ds))))
        assert xb.shape == (len(want), 1, 4, 5) and xb.dtype == torch.float32
        for k, (r, start) in enumerate(want):
            np.testing.assert_array_equal(xb[k].numpy(), expected(r, start))
        np.testing.assert_array_equal(yb.numpy(), Y[[r for r, _ in want]])
        np.testing.assert_array_equal(wb.numpy(), 2 * Y[[r for r, _ in want]])
    # equal-length clips in one memmapped array: the dataset pickles as a reference
    fixed = np.stack([expected(r, 0, 6) for r in range(4)]).astype(np.float16)
    np.save(tmp_path / "fixed.npy", fixed)
    ds = WindowDataset(Clips(np.load(tmp_path / "fixed.npy", mmap_mode="r")), [3, 0], 4, 2)
    blob = pickle.dumps(ds)
    assert fixed.tobytes() not in blob and fixed[3].tobytes() not in blob
    back = pickle.loads(blob)
    xb, target = back.__getitems__([0, 1])
    assert target is None
    np.testing.assert_array_equal(xb[1].numpy(), fixed[3, ..., 2:6].astype(np.float32))


# ------------------------------------------------------------- training net

def _data_xy(n=24, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 1, 8, 12)).astype(np.float32)
    Y = (rng.random((n, 3)) < 0.4).astype(np.uint8)
    Y[0] = 1
    Y[1] = 0
    return X, Y


def test_workers_share_one_loader_and_train_exactly_like_the_main_process(monkeypatch):
    X, Y = _data_xy()
    calls = []

    def counting(*args, **kwargs):
        calls.append(kwargs.get("num_workers"))
        return make_loader(*args, **kwargs)

    monkeypatch.setattr(_data, "make_loader", counting)
    monkeypatch.setattr(_training, "make_loader", counting)
    fitted = [CNNTagger(**TINY, num_workers=w).fit(X, Y) for w in (0, 1)]
    # without workers: one training and one validation loader; with: one shared loader
    assert calls == [0, 0, 1]
    h0, h1 = (t.net_.history for t in fitted)
    assert len(h1) == 2
    for key in ("train_loss", "valid_loss"):
        assert h0[:, key] == h1[:, key]
    np.testing.assert_array_equal(fitted[0].predict_proba(X), fitted[1].predict_proba(X))
    assert fitted[1].net_._valid_view is None
    pickle.dumps(fitted[1])


def test_float16_trains_with_a_grad_scaler_on_cpu():
    X, Y = _data_xy()
    t16 = CNNTagger(**TINY, precision="float16").fit(X, Y)
    scaler = t16.net_.grad_scaler_
    assert scaler.is_enabled() and scaler.get_scale() > 0
    assert {"scale", "_growth_tracker"} <= set(scaler.state_dict())
    p16 = t16.predict_proba(X)
    t32 = CNNTagger(**TINY).fit(X, Y)
    p32 = t32.predict_proba(X)
    assert np.isfinite(p16).all() and np.abs(p16 - p32).max() < 0.05
    assert not np.array_equal(p16, p32)  # float16 did run
    assert not t32.net_.grad_scaler_.is_enabled()
    back = pickle.loads(pickle.dumps(t16))  # the scaler does not travel in pickles
    np.testing.assert_array_equal(back.predict_proba(X), p16)


def test_float16_skips_the_step_when_gradients_overflow():
    X, Y = _data_xy(8)
    net = CNNTagger(**TINY, precision="float16").fit(X, Y).net_
    before = {k: v.clone() for k, v in net.module_.state_dict().items()}
    net.grad_scaler_.update(new_scale=torch.tensor(3e38))  # scaled loss overflows
    batch = SpectrogramDataset(X, np.arange(8), Y.astype(np.float32),
                               np.ones_like(Y, np.float32)).__getitems__(list(range(8)))
    net.train_step(batch)
    after = net.module_.state_dict()
    for k, v in before.items():
        if k.endswith("weight") or k.endswith("bias"):
            assert torch.equal(v, after[k]), k  # the step was skipped ...
    assert net.grad_scaler_.get_scale() == pytest.approx(1.5e38)  # ... and the scale backed off
    net.grad_scaler_.update(new_scale=torch.tensor(1.0))
    net.train_step(batch)
    changed = any(not torch.equal(v, net.module_.state_dict()[k])
                  for k, v in before.items() if k.endswith("weight"))
    assert changed  # a finite scale steps again


def test_float16_unsupported_device_is_a_value_error(monkeypatch):
    monkeypatch.setattr(torch.amp, "is_autocast_available", lambda device_type: False)
    X, Y = _data_xy(8)
    with pytest.raises(ValueError, match="precision='float16'.*'cpu'"):
        CNNTagger(**TINY, precision="float16").fit(X, Y)


def test_release_pages_still_finds_a_reopened_map(mm_path):
    path, _ = mm_path
    ds = pickle.loads(pickle.dumps(SpectrogramDataset(np.load(path, mmap_mode="r"),
                                                      np.arange(12))))
    assert memmap_root(ds.inputs.data) is not None
