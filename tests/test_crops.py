"""CNNTagger with crop_frames: window positions, random crops, window averaging, ragged input."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sktags.models import CNNTagger
from sktags.models._data import CropDataset, WindowDataset, crop_offset, window_starts
from sktags.models._inputs import spectrogram_input


def Clips(X):
    """X as clips to crop and window."""
    return spectrogram_input(X, crop_frames=1)

SMALL = dict(filters=(4, 4), hidden_units=8, batch_size=8, max_epochs=2, random_state=0)


def brute_force_starts(n, c, hop):
    """Window starts by walking the clip, and a tail window if the last frame is left out."""
    if n <= c:
        return [0]
    starts, s = [], 0
    while s + c <= n:
        starts.append(s)
        s += hop
    covered = np.zeros(n, bool)
    for s in starts:
        covered[s:s + c] = True
    if not covered[-1]:
        starts.append(n - c)
    return starts


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 300), c=st.integers(1, 64), hop=st.integers(1, 64))
def test_window_starts_match_brute_force(n, c, hop):
    starts = window_starts(n, c, hop)
    assert starts.tolist() == brute_force_starts(n, c, hop)
    if n >= c:  # every window inside the clip, the last one ending at the end
        assert starts.min() == 0 and starts.max() + c == n
        if hop <= c:  # no gaps: every frame is in a window
            covered = np.zeros(n, bool)
            for s in starts:
                covered[s:s + c] = True
            assert covered.all()


def ramp_clip(n_frames, n_mels=3):
    """A clip whose value at (band b, frame t) is 1000 b + t + 1: every frame is recognisable."""
    b, t = np.meshgrid(np.arange(n_mels), np.arange(n_frames), indexing="ij")
    return (1000.0 * b + t + 1).astype(np.float32)[None]


def test_windows_of_a_hand_made_clip():
    clip = ramp_clip(10)
    ds = WindowDataset(Clips([clip, ramp_clip(3)]), [0, 1], crop_frames=4, hop=3)
    # clip 0: 10 frames, windows at 0, 3, 6 (6 + 4 = 10 covers the tail); clip 1: padded
    assert ds.starts.tolist() == [0, 3, 6, 0] and ds.clip_of.tolist() == [0, 0, 0, 1]
    x, target = ds.__getitems__(range(4))
    assert target is None and x.shape == (4, 1, 3, 4)
    for k, s in enumerate([0, 3, 6]):
        np.testing.assert_array_equal(x[k, 0].numpy(), clip[0, :, s:s + 4])
    np.testing.assert_array_equal(x[3, 0, :, :3].numpy(), ramp_clip(3)[0])
    assert (x[3, 0, :, 3] == 0).all()  # zero padding past the end
    # 11 frames: windows 0, 3, 6, and 7 for the uncovered last frame
    ds = WindowDataset(Clips([ramp_clip(11)]), [0], 4, 3)
    assert ds.starts.tolist() == [0, 3, 6, 7]
    np.testing.assert_array_equal(ds.__getitems__([3])[0][0, 0].numpy(), ramp_clip(11)[0, :, 7:])


class RecordingRagged:
    """A duck-typed ragged sequence that records which frames were read."""

    def __init__(self, clips):
        self.clips = clips
        self.lengths = np.array([c.shape[-1] for c in clips])
        self.n_mels = clips[0].shape[1]
        self.reads = []

    def __len__(self):
        return len(self.clips)

    def __getitem__(self, i):
        return self.clips[i]

    def read(self, i, start, stop):
        self.reads.append((i, start, stop))
        return self.clips[i][:, :, start:stop]


def test_random_crops_reproducible_per_epoch_and_read_only_their_frames():
    clips = [ramp_clip(n) for n in (20, 9, 5, 12)]
    ragged = RecordingRagged(clips)
    Y = np.zeros((4, 2), np.float32)
    W = np.arange(8, dtype=np.float32).reshape(4, 2)
    ds = CropDataset(Clips(ragged), [0, 1, 2, 3], crop_frames=8, seed=5, Y=Y, W=W)
    seen = {}
    for epoch in (1, 2, 3):
        items = [epoch * 4 + p for p in range(4)]
        ragged.reads.clear()
        x, (y, w) = ds.__getitems__(items)
        np.testing.assert_array_equal(w.numpy(), W)
        for p, clip in enumerate(clips):
            start = int(x[p, 0, 0, 0].item()) - 1  # the ramp gives the first frame read
            n = clip.shape[-1]
            assert 0 <= start <= max(n - 8, 0)
            assert start == crop_offset(n, 8, 5, epoch, p)
            stop = min(start + 8, n)
            np.testing.assert_array_equal(x[p, 0, :, :stop - start].numpy(),
                                          clip[0, :, start:stop])
            assert (x[p, 0, :, stop - start:] == 0).all()  # the 5-frame clip is padded
            seen.setdefault(p, []).append(start)
        assert sorted(ragged.reads) == sorted(
            (p, seen[p][-1], min(seen[p][-1] + 8, clips[p].shape[-1])) for p in range(4))
        x2, _ = ds.__getitems__(items)  # same epoch: the same crops
        np.testing.assert_array_equal(x.numpy(), x2.numpy())
    assert len(set(seen[0])) > 1  # a 20-frame clip gets other crops in other epochs


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 1, 8, 40)).astype(np.float32)
    Y = (rng.random((24, 3)) < 0.5).astype(int)
    threads = torch.get_num_threads()  # module-scoped: set up before one_torch_thread
    torch.set_num_threads(1)
    try:
        tagger = CNNTagger(crop_frames=16, crop_hop=8, **SMALL).fit(X, Y)
    finally:
        torch.set_num_threads(threads)
    return tagger, X, Y


def test_whole_track_probability_is_the_mean_over_stacked_windows(fitted):
    tagger, _, _ = fitted
    rng = np.random.default_rng(1)
    # windows tile exactly: n = 16 + 8 k frames gives starts 0, 8, ..., n - 16
    tracks = [rng.normal(size=(1, 8, 16 + 8 * k)).astype(np.float32) for k in (0, 1, 3, 6)]
    whole = tagger.predict_proba(tracks)
    for track, p in zip(tracks, whole):
        starts = range(0, track.shape[-1] - 16 + 1, 8)
        stacked = np.stack([track[:, :, s:s + 16] for s in starts])  # (k, 1, n_mels, 16)
        np.testing.assert_allclose(p, tagger.predict_proba(stacked).mean(axis=0), atol=1e-5)
        # the mean of probabilities, not of logits
    windows = tagger.predict_proba_windows(tracks)
    for (starts, proba), track, p in zip(windows, tracks, whole):
        assert starts.tolist() == list(range(0, track.shape[-1] - 16 + 1, 8))
        assert proba.shape == (len(starts), 3)
        np.testing.assert_allclose(proba.mean(axis=0), p, atol=1e-12)


def test_variable_length_containers_agree(fitted):
    tagger, X, _ = fitted
    rng = np.random.default_rng(2)
    tracks = [rng.normal(size=(1, 8, n)).astype(np.float32) for n in (5, 16, 23, 40, 71)]
    as_list = tagger.predict_proba(tracks)
    obj = np.empty(len(tracks), dtype=object)
    obj[:] = tracks
    np.testing.assert_allclose(tagger.predict_proba(obj), as_list, atol=1e-6)
    np.testing.assert_allclose(tagger.predict_proba(RecordingRagged(tracks)), as_list, atol=1e-6)
    # one clip at a time equals the batch (variable-length windows share batches)
    for track, p in zip(tracks, as_list):
        np.testing.assert_allclose(tagger.predict_proba([track])[0], p, atol=1e-6)
    # a 4-D array equals the list of its rows
    np.testing.assert_allclose(tagger.predict_proba(X[:5]), tagger.predict_proba(list(X[:5])),
                               atol=1e-6)
    assert tagger.predict(tracks).shape == (5, 3)
    with pytest.raises(ValueError, match="mel bands"):
        tagger.predict_proba([np.zeros((1, 9, 20), np.float32)])
    with pytest.raises(ValueError, match=r"X\[1\]"):
        tagger.predict_proba([tracks[0], np.zeros((1, 8, 0), np.float32)])
    with pytest.raises(ValueError, match="NaN or inf in sample 0"):
        tagger.predict_proba([np.full((1, 8, 20), np.nan, np.float32)])


def test_fit_on_variable_length_clips_with_groups_weights_and_f1():
    from sktags import ContextWeightEstimator

    rng = np.random.default_rng(3)
    tracks = [rng.normal(size=(1, 8, int(n))).astype(np.float32)
              for n in rng.integers(10, 60, size=30)]
    Y = (rng.random((30, 2)) < 0.5).astype(int)
    Y[0], Y[1] = [1, 0], [0, 1]
    groups = np.repeat(np.arange(10), 3)
    tagger = CNNTagger(crop_frames=16, threshold="f1", valid_size=0.3,
                       weighting=ContextWeightEstimator(), **SMALL)
    tagger.fit(tracks, Y, groups=groups)
    assert tagger.input_shape_ == (1, 8, 16) and tagger.thresholds_.shape == (2,)
    assert not set(groups[tagger.valid_indices_]) & set(
        np.delete(groups, tagger.valid_indices_))
    assert np.isfinite(tagger.net_.history[-1]["valid_loss"])
    assert tagger.predict_proba(tracks).shape == (30, 2)


def test_no_crop_default_unchanged_and_lr_none_is_the_papers():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(16, 1, 8, 16)).astype(np.float32)
    Y = (rng.random((16, 2)) < 0.5).astype(int)
    a = CNNTagger(**SMALL).fit(X, Y)
    b = CNNTagger(lr=0.1, module="ibrahim2020", **SMALL).fit(X, Y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.window_ is None
    assert type(a.net_.optimizer_).__name__ == "Adadelta"
    assert a.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="shape"):  # without crops, the fitted shape only
        a.predict_proba(rng.normal(size=(2, 1, 8, 20)).astype(np.float32))


@pytest.mark.parametrize("params, match", [
    (dict(crop_frames=0), "crop_frames"),
    (dict(crop_frames=2.5), "crop_frames"),
    (dict(crop_hop=4), "crop_hop"),
    (dict(crop_frames=8, crop_hop=-1), "crop_hop"),
    (dict(module="vgg"), "module"),
    (dict(optimizer="sgd"), "optimizer"),
    (dict(lr=0.0), "lr"),
    (dict(weight_decay=-1.0), "weight_decay"),
    (dict(mixup=-0.1), "mixup"),
    (dict(mixup=float("nan")), "mixup"),
])
def test_bad_recipe_parameters(params, match):
    X = np.zeros((4, 1, 8, 16), np.float32)
    with pytest.raises(ValueError, match=match):
        CNNTagger(**params).fit(X, np.eye(4, 2, dtype=int))


def test_pickled_and_memmapped(fitted, tmp_path):
    import pickle

    tagger, X, _ = fitted
    clone = pickle.loads(pickle.dumps(tagger))
    np.testing.assert_array_equal(clone.predict_proba(X), tagger.predict_proba(X))
    np.testing.assert_array_equal(clone.transform(X), tagger.transform(X))
    path = tmp_path / "X.f16"
    mm = np.memmap(path, dtype=np.float16, mode="w+", shape=X.shape)
    mm[:] = X
    mm.flush()
    ro = np.memmap(path, dtype=np.float16, mode="r", shape=X.shape)
    expected = tagger.predict_proba(ro.astype(np.float32))
    np.testing.assert_allclose(tagger.predict_proba(ro), expected, atol=1e-12)
