"""ShortChunkCNN: shapes at any length, pooling, and module names of CNNTagger."""

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from sktags.models import CNNTagger, ShortChunkCNN, Ibrahim2020CNN


@pytest.mark.parametrize("n_frames", [16, 17, 64, 128, 301])
def test_any_length_at_least_16_frames(n_frames):
    net = ShortChunkCNN(n_mels=96, n_frames=128, n_labels=4).eval()
    assert net(torch.zeros(2, 1, 96, n_frames)).shape == (2, 4)
    assert net.embed(torch.zeros(2, 1, 96, n_frames)).shape == (2, 128)


def test_blocks_and_global_pooling_by_hand():
    torch.manual_seed(0)
    net = ShortChunkCNN(n_mels=8, n_frames=16, n_labels=3, channels=(4, 6), dropout=0.5).eval()
    convs = [m for m in net.features if isinstance(m, torch.nn.Conv2d)]
    norms = [m for m in net.features if isinstance(m, torch.nn.BatchNorm2d)]
    assert [c.out_channels for c in convs] == [4, 6] and len(norms) == 2
    assert all(c.kernel_size == (3, 3) for c in convs)
    x = torch.randn(5, 1, 8, 16)
    z = net.features(net.input_norm(x))
    assert z.shape == (5, 6, 2, 4)  # two 2x2 poolings
    emb = torch.stack([z[:, :, :, t].max(dim=2).values for t in range(4)], dim=2).mean(dim=2)
    torch.testing.assert_close(net.embed(x), emb)
    torch.testing.assert_close(net(x), emb @ net.head.weight.T + net.head.bias)


def test_bad_channels():
    with pytest.raises(ValueError, match="channels"):
        ShortChunkCNN(n_mels=8, n_frames=16, n_labels=2, channels=())


def test_module_names_build_the_networks_and_are_searchable():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 1, 8, 32)).astype(np.float32)
    Y = np.zeros((24, 2), int)
    Y[::2, 0] = 1
    Y[1::2, 1] = 1
    kw = dict(filters=(4, 4), hidden_units=8, batch_size=8, max_epochs=1, random_state=0,
              crop_frames=16, valid_size=None)
    short = CNNTagger(module="short_chunk", **kw).fit(X, Y)
    paper = CNNTagger(module="ibrahim2020", **kw).fit(X, Y)
    assert type(short.net_.module_) is ShortChunkCNN
    assert type(paper.net_.module_) is Ibrahim2020CNN
    assert paper.net_.module_.input_shape == (1, 8, 16)  # built for the crop
    y = Y[:, 0]
    X = X + 0.5 * y[:, None, None, None]  # something to learn
    search = GridSearchCV(CNNTagger(**kw), {"module": ["ibrahim2020", "short_chunk"]},
                          cv=2, scoring="roc_auc").fit(X, y)
    # Oracle: the same cross-validation by hand, fold by fold.
    by_hand = {}
    for module in ("ibrahim2020", "short_chunk"):
        scores = []
        for train, test in StratifiedKFold(2).split(X, y):
            est = CNNTagger(module=module, **kw).fit(X[train], y[train])
            scores.append(roc_auc_score(y[test], est.predict_proba(X[test])[:, 1]))
        by_hand[module] = np.mean(scores)
    np.testing.assert_allclose(search.cv_results_["mean_test_score"],
                               [by_hand["ibrahim2020"], by_hand["short_chunk"]], rtol=1e-6)
    assert search.best_params_["module"] == max(by_hand, key=by_hand.get)
