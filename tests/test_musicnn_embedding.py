"""MusicnnEmbedding and musicnn_module: pooling, batching, errors and fine-tuning.

The oracle of the embedding is the network run by hand on the front end's
patches; batching across files must not change a value.
"""

import functools
import warnings

import numpy as np
import pytest
import torch
from sklearn.utils._param_validation import InvalidParameterError

from sktags import CNNTagger
from sktags.features import AudioDecodeWarning
from sktags.pretrained import MusicnnEmbedding, MusicnnNet, musicnn_frontend, musicnn_module
from sktags.pretrained._weights import load_weights, tag_names

BRAHMS = "Hungarian_Dance_number_5_excerpt.ogg"  # 12 s: 4 patches
VIBE_MP3 = "Kevin_MacLeod_-_Vibe_Ace_excerpt_stereo.mp3"  # 8 s: 2 patches
TRUMPET = "sorohanro_-_solo-trumpet-06.ogg"  # 5.3 s: 1 patch


@pytest.fixture(scope="module")
def paths(fixtures_dir):
    return [str(fixtures_dir / "audio" / f) for f in (BRAHMS, VIBE_MP3, TRUMPET)]


@pytest.fixture(scope="module")
def by_hand(paths):
    """Per-patch outputs of every layer, computed clip by clip without the transformer."""
    net = MusicnnNet().load_released("msd").eval()
    out = []
    for f in musicnn_frontend().transform(paths):
        f = f[0]
        n = f.shape[1] // 187
        x = torch.from_numpy(np.stack([f[:, k * 187:(k + 1) * 187] for k in range(n)]))[:, None]
        with torch.no_grad():
            o = net.forward_all(x)
        out.append({"penultimate": o["penultimate"].numpy(), "pooled": o["pooled"].numpy(),
                    "taggram": torch.sigmoid(o["logits"]).numpy()})
    return out


@pytest.mark.parametrize("layer, dim", [("penultimate", 200), ("pooled", 1506), ("taggram", 50)])
def test_per_patch_outputs_match_the_network_by_hand(paths, by_hand, layer, dim):
    got = MusicnnEmbedding(layer=layer, pooling=None, batch_size=3).transform(paths)
    assert got.dtype == object and [g.shape for g in got] == [(4, dim), (2, dim), (1, dim)]
    for g, ref in zip(got, by_hand):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, ref[layer], rtol=1e-4, atol=1e-4)


def test_pooling_is_over_the_patches_of_each_clip(paths, by_hand):
    emb = MusicnnEmbedding(pooling="mean+max").transform(paths)
    assert emb.shape == (3, 400) and emb.dtype == np.float32
    for row, ref in zip(emb, by_hand):
        np.testing.assert_allclose(row[:200], ref["penultimate"].mean(0), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(row[200:], ref["penultimate"].max(0), rtol=1e-4, atol=1e-4)
    mx = MusicnnEmbedding(pooling="max", layer="taggram").transform(paths)
    np.testing.assert_allclose(mx, [r["taggram"].max(0) for r in by_hand], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("batch_size", [1, 5, 64])
def test_batch_size_does_not_change_the_embeddings(paths, by_hand, batch_size):
    emb = MusicnnEmbedding(batch_size=batch_size).transform(paths)
    np.testing.assert_allclose(emb, [r["penultimate"].mean(0) for r in by_hand],
                               rtol=1e-4, atol=1e-4)


def test_duration_and_waveforms(paths):
    import librosa

    wave, _ = librosa.load(paths[0], sr=16000)
    from_file = MusicnnEmbedding(duration=6.0, pooling=None).transform(paths[:1])[0]
    from_wave = MusicnnEmbedding(duration=6.0, pooling=None).transform([wave])[0]
    assert from_file.shape == from_wave.shape == (2, 200)
    np.testing.assert_allclose(from_file, from_wave, rtol=0, atol=1e-2)


def test_short_clip_is_one_padded_patch_with_a_note():
    rng = np.random.default_rng(0)
    y = (0.1 * rng.standard_normal(16000)).astype(np.float32)  # 1 s: 63 frames
    with pytest.warns(UserWarning, match=r"very short.*X\[0\] has 63 frames"):
        got = MusicnnEmbedding(pooling=None).transform([y])
    padded = np.zeros((96, 187), np.float32)
    padded[:, :63] = musicnn_frontend().transform([y])[0][0]
    net = MusicnnNet().load_released("msd").eval()
    with torch.no_grad():
        ref = net.embed(torch.from_numpy(padded)[None, None]).numpy()
    assert got[0].shape == (1, 200)
    np.testing.assert_allclose(got[0], ref, rtol=1e-4, atol=1e-4)


def test_unreadable_file_raises_or_gives_zeros(paths, tmp_path):
    missing = str(tmp_path / "missing.wav")
    with pytest.raises(ValueError, match=r"X\[1\].*missing.wav"):
        MusicnnEmbedding().transform([paths[2], missing])
    with pytest.warns(AudioDecodeWarning, match="missing.wav"):
        emb = MusicnnEmbedding(on_error="zeros").transform([paths[2], missing])
    assert emb.shape == (2, 200) and not emb[1].any() and emb[0].any()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AudioDecodeWarning)
        per_patch = MusicnnEmbedding(on_error="zeros", pooling=None).transform([missing])
    assert per_patch[0].shape == (0, 200)


def test_feature_names():
    assert list(MusicnnEmbedding(layer="taggram").get_feature_names_out()) == tag_names("msd")
    names = MusicnnEmbedding(model="mtt", layer="taggram", pooling="mean+max")
    out = names.get_feature_names_out()
    assert len(out) == 100 and out[0] == "mean_guitar" and out[50] == "max_guitar"
    assert len(MusicnnEmbedding(layer="pooled").get_feature_names_out()) == 1506


def test_bad_parameters_are_refused():
    with pytest.raises(InvalidParameterError, match="'model'"):
        MusicnnEmbedding(model="vgg").fit([np.zeros(16000)])
    with pytest.raises(InvalidParameterError, match="'pooling'"):
        MusicnnEmbedding(pooling="median").transform([np.zeros(16000)])
    with pytest.raises(ValueError, match="device='nope'"):
        MusicnnEmbedding(device="nope").transform([np.zeros(48000)])


# ------------------------------------------------------------- fine-tuning
def test_musicnn_module_starts_from_the_released_weights_with_a_new_head():
    torch.manual_seed(0)
    net = musicnn_module(n_mels=96, n_frames=187, n_labels=3, model="mtt")
    tf = load_weights("mtt")
    np.testing.assert_array_equal(net.dense.weight.detach().numpy(), tf["dense/kernel"].T)
    assert net.head.weight.shape == (3, 200)
    with pytest.raises(ValueError, match="n_mels=128"):
        musicnn_module(n_mels=128, n_frames=187, n_labels=3)
    with pytest.raises(ValueError, match="freeze"):
        musicnn_module(n_mels=96, n_frames=187, n_labels=3, freeze="all")


def test_cnn_tagger_fine_tunes_musicnn_with_a_frozen_front_end(paths):
    X = musicnn_frontend().transform(paths * 2)  # whole tracks, 6 clips
    Y = np.array([[1, 0], [0, 1], [1, 1]] * 2, dtype=np.uint8)
    module = functools.partial(musicnn_module, model="msd", freeze="frontend")
    tagger = CNNTagger(module=module, crop_frames=187, max_epochs=2, batch_size=4,
                       valid_size=None, optimizer="adamw", random_state=0).fit(X, Y)
    net = tagger.net_.module_
    proba = tagger.predict_proba(X)
    assert proba.shape == (6, 2) and np.isfinite(proba).all()
    tf = load_weights("msd")
    # the front end is unchanged (weights and batch-norm statistics), the back end trained
    np.testing.assert_array_equal(net.frontend["timbral_38"].bias.detach().cpu().numpy(),
                                  tf["conv2d/bias"])
    np.testing.assert_array_equal(net.frontend["input_bn"].running_mean.cpu().numpy(),
                                  tf["batch_normalization/moving_mean"])
    assert not np.allclose(net.dense.weight.detach().cpu().numpy(), tf["dense/kernel"].T)
    assert tagger.transform(X).shape == (6, 200)
