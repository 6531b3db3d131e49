"""CNNTagger.transform: the input of the last linear layer, averaged over windows."""

import functools

import numpy as np
import pytest
import torch

from sktags.models import CNNTagger, ShortChunkCNN

KW = dict(batch_size=8, max_epochs=1, random_state=0, valid_size=None)


def hooked_windows(module, layer, windows):
    """Output of ``layer`` on each window, through a torch forward hook, in eval mode."""
    out = []
    handle = layer.register_forward_hook(lambda m, a, o: out.append(o.detach().clone()))
    try:
        module.eval()
        with torch.no_grad():
            module(torch.from_numpy(np.ascontiguousarray(windows)))
    finally:
        handle.remove()
    return out[0].reshape(len(windows), -1).numpy()


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 1, 8, 24)).astype(np.float32)
    Y = (rng.random((16, 2)) < 0.5).astype(int)
    return X, Y


def test_paper_net_embedding_is_the_hidden_relu_output(data):
    X, Y = data
    tagger = CNNTagger(filters=(4, 4), hidden_units=6, **KW).fit(X, Y)
    E = tagger.transform(X)
    assert E.shape == (16, 6) and E.dtype == np.float32 and (E >= 0).all()
    relu = tagger.net_.module_.classifier[2]
    assert isinstance(relu, torch.nn.ReLU)
    np.testing.assert_allclose(E, hooked_windows(tagger.net_.module_, relu, X), atol=1e-6)


def test_short_chunk_embedding_averaged_over_windows(data):
    X, Y = data
    module = functools.partial(ShortChunkCNN, channels=(4, 6))  # two 2x2 poolings
    tagger = CNNTagger(module=module, crop_frames=16, crop_hop=4, **KW).fit(X, Y)
    rng = np.random.default_rng(1)
    tracks = [rng.normal(size=(1, 8, n)).astype(np.float32) for n in (10, 16, 24, 33)]
    E = tagger.transform(tracks)
    net = tagger.net_.module_
    assert E.shape == (4, net.n_embedding) and E.dtype == np.float32
    last_block = net.features[-1]  # the pooling of the last block, then global pooling
    for track, e in zip(tracks, E):
        n = track.shape[-1]
        starts = [0] if n <= 16 else sorted(set(list(range(0, n - 16 + 1, 4)) + [n - 16]))
        padded = np.zeros((1, 8, max(n, 16)), np.float32)
        padded[..., :n] = track
        windows = np.stack([padded[:, :, s:s + 16] for s in starts])
        pooled = hooked_windows(net, last_block, windows).reshape(
            len(starts), net.n_embedding, -1, 16 // 4)  # (k, channels, freq, time)
        np.testing.assert_allclose(e, pooled.max(axis=2).mean(axis=2).mean(axis=0), atol=1e-5)
    # the embedding is the input of the last linear layer: per window, that layer and a
    # sigmoid of it give the window's probabilities, whose mean is predict_proba
    last = [m for m in net.modules() if isinstance(m, torch.nn.Linear)][-1]
    for track, proba in zip(tracks, tagger.predict_proba(tracks)):
        n = track.shape[-1]
        starts = [0] if n <= 16 else sorted(set(list(range(0, n - 16 + 1, 4)) + [n - 16]))
        padded = np.zeros((1, 8, max(n, 16)), np.float32)
        padded[..., :n] = track
        windows = np.stack([padded[:, :, s:s + 16] for s in starts])
        E_w = tagger.transform(list(windows))  # one embedding per window
        W, b = last.weight.detach().double().numpy(), last.bias.detach().double().numpy()
        p = 1.0 / (1.0 + np.exp(-(E_w.astype(np.float64) @ W.T + b)))
        np.testing.assert_allclose(p.mean(axis=0), proba, atol=1e-5)
