"""The paper's CNN: shapes, flatten size, pooling rule, parameter count."""

import numpy as np
import pytest
import torch

from sktags.models import Ibrahim2020CNN, conv_output_shape




def ceil_half(n, times):
    for _ in range(times):
        n = (n + 1) // 2
    return n


@pytest.mark.parametrize("n_mels, n_frames", [(96, 646), (16, 16), (17, 33), (40, 128), (1, 1)])
def test_conv_output_shape_is_tf_same_pooling(n_mels, n_frames):
    assert conv_output_shape(n_mels, n_frames) == (ceil_half(n_mels, 4), ceil_half(n_frames, 4))


def test_paper_sizes_by_hand():
    # 646 -> 323 -> 162 -> 81 -> 41 and 96 -> 48 -> 24 -> 12 -> 6 (the authors' 41 x 6 x 256)
    assert conv_output_shape(96, 646) == (6, 41)
    net = Ibrahim2020CNN(96, 646, 15)
    assert net.n_flat == 41 * 6 * 256 == 62976
    # parameter count by hand: BN(1) + 4 convs + dense 256 + dense 15
    convs = sum(9 * i * o + o for i, o in [(1, 32), (32, 64), (64, 128), (128, 256)])
    expected = 2 + convs + (62976 * 256 + 256) + (256 * 15 + 15)
    assert sum(p.numel() for p in net.parameters()) == expected  # about 16.5 M
    assert net.classifier[1].in_features == 62976


@pytest.mark.parametrize("shape", [(16, 16), (17, 33), (96, 64), (5, 3), (1, 1)])
def test_forward_shapes_and_flatten_size(shape):
    torch.manual_seed(0)
    net = Ibrahim2020CNN(*shape, n_labels=4, filters=(3, 5, 6, 7), hidden_units=8).eval()
    x = torch.randn(2, 1, *shape)
    with torch.no_grad():
        feats = net.features(net.input_norm(x))
        out = net(x)
    assert feats.shape[1:] == (7, *conv_output_shape(*shape))
    assert feats[0].numel() == net.n_flat
    assert out.shape == (2, 4)
    # a 3-D batch (n, n_mels, n_frames) is read as one channel
    with torch.no_grad():
        assert torch.equal(net(x[:, 0]), out)


def test_pooling_matches_brute_force_same_pooling():
    """One block with an identity 3x3 kernel: output = TF 'same' 2x2 max-pool of relu(x)."""
    h, w = 5, 7
    net = Ibrahim2020CNN(h, w, 2, filters=(1,), hidden_units=3).eval()
    with torch.no_grad():
        conv = net.features[0]
        conv.weight.zero_()
        conv.weight[0, 0, 1, 1] = 1.0
        conv.bias.zero_()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(h, w)).astype(np.float32)
    with torch.no_grad():
        got = net.features(net.input_norm(torch.from_numpy(x)[None, None]))[0, 0].numpy()
    xn = x / np.sqrt(1 + net.input_norm.eps)  # fresh BatchNorm in eval: mean 0, var 1
    r = np.maximum(xn, 0)
    expected = np.empty(((h + 1) // 2, (w + 1) // 2), np.float32)
    for i in range(expected.shape[0]):
        for j in range(expected.shape[1]):
            expected[i, j] = r[2 * i:2 * i + 2, 2 * j:2 * j + 2].max()  # windows clip at the edge
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


def test_layers_follow_parameters():
    net = Ibrahim2020CNN(16, 16, 3, filters=(4, 8), hidden_units=10, dropout=0.25)
    convs = [m for m in net.features if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [4, 8]
    assert all(c.kernel_size == (3, 3) and c.padding == (1, 1) for c in convs)
    assert isinstance(net.input_norm, torch.nn.BatchNorm2d) and net.input_norm.num_features == 1
    dense, drop, out = net.classifier[1], net.classifier[3], net.classifier[4]
    assert (dense.in_features, dense.out_features) == (8 * 4 * 4, 10)
    assert isinstance(net.classifier[2], torch.nn.ReLU)  # the paper's ReLU, not the code's sigmoid
    assert drop.p == 0.25 and out.out_features == 3


def test_dropout_only_in_training_mode():
    torch.manual_seed(0)
    net = Ibrahim2020CNN(16, 16, 3, filters=(2, 2, 2, 2), hidden_units=64, dropout=0.5)
    x = torch.randn(4, 1, 16, 16)
    net.eval()
    with torch.no_grad():
        assert torch.equal(net(x), net(x))
    net.train()
    with torch.no_grad():
        assert not torch.equal(net(x), net(x))


def test_bad_filters():
    with pytest.raises(ValueError, match="filters"):
        Ibrahim2020CNN(16, 16, 3, filters=())
    with pytest.raises(ValueError, match="filters"):
        Ibrahim2020CNN(16, 16, 3, filters=(4, 0))
