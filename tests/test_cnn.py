"""CNNTagger: fit / predict behaviour, weighting, early stopping, checkpoints, persistence."""

import os
import pickle
import warnings

import joblib
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.metrics import average_precision_score, f1_score, get_scorer, roc_auc_score

from sktags.metrics import tune_thresholds
from sktags.models import CNNTagger, Ibrahim2020CNN


def weighted_bce(p, Y, W=None):
    """Equation 2 of the paper from probabilities, in numpy: the mean of -w [y log p + (1-y) log(1-p)]."""
    W = np.ones_like(p) if W is None else W
    return float(np.mean(-W * (Y * np.log(p) + (1 - Y) * np.log1p(-p))))
from sktags.models import _data, _training
from sktags._mmap import memmap_root
from sktags.models import _inputs
from sktags.models._inputs import spectrogram_input
from sktags.weighting import ContextWeightEstimator

TINY = dict(filters=(4, 4, 4, 4), hidden_units=8, batch_size=8, max_epochs=2, random_state=0)




@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 1, 16, 16)).astype(np.float32)
    Y = (rng.random((40, 3)) < 0.5).astype(np.int64)
    Y[:, 0] = (X[:, 0, :8, :8].mean(axis=(1, 2)) > 0).astype(int)  # one learnable tag
    return X, Y


@pytest.fixture(scope="module")
def fitted(data):
    X, Y = data
    return CNNTagger(**TINY).fit(X, Y)


def params_of(module):
    return {k: v.detach().clone() for k, v in module.named_parameters()}


# ----------------------------------------------------------------- basics


def test_predict_proba_is_the_sigmoid_of_the_network(fitted, data):
    """predict_proba and predict against one whole-batch forward pass, by hand."""
    X, Y = data
    module = fitted.net_.module_.eval()
    with torch.no_grad():
        logits = module(torch.from_numpy(X)).double().numpy()
    expected = 1.0 / (1.0 + np.exp(-logits))
    proba = fitted.predict_proba(X)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba, expected, rtol=1e-5, atol=1e-6)
    pred = fitted.predict(X)
    assert pred.dtype.kind == "i"
    np.testing.assert_array_equal(pred, (expected >= 0.5).astype(int))


def test_fitted_attributes(fitted, data):
    """The values fit records, worked out from the data and TINY."""
    X, Y = data
    assert fitted.n_labels_ == Y.shape[1] == 3 and fitted.outputs_2d_
    assert all(np.array_equal(c, [0, 1]) for c in fitted.classes_)
    assert fitted.input_shape_ == X.shape[1:] == (1, 16, 16)
    assert fitted.device_ == "cpu" and fitted.n_epochs_ == TINY["max_epochs"]
    np.testing.assert_array_equal(fitted.thresholds_, [0.5, 0.5, 0.5])
    assert isinstance(fitted.net_.module_, Ibrahim2020CNN)


def test_three_d_input_equals_four_d(data):
    X, Y = data
    a = CNNTagger(**TINY).fit(X, Y)
    b = CNNTagger(**TINY).fit(X[:, 0], Y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X[:, 0]))
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_sklearn_multilabel_scorers(fitted, data):
    X, Y = data
    proba = fitted.predict_proba(X)
    assert get_scorer("roc_auc")(fitted, X, Y) == pytest.approx(roc_auc_score(Y, proba))
    # the scorers see the (n, m) probabilities and 0/1 predictions: same as by hand, per label
    ap = np.mean([average_precision_score(Y[:, j], proba[:, j]) for j in range(Y.shape[1])])
    assert get_scorer("average_precision")(fitted, X, Y) == pytest.approx(ap)
    pred = fitted.predict(X)
    f1 = np.mean([f1_score(Y[:, j], pred[:, j]) for j in range(Y.shape[1])])
    assert get_scorer("f1_macro")(fitted, X, Y) == pytest.approx(f1)


def test_one_dimensional_y_is_one_binary_label(data):
    X, Y = data
    single = CNNTagger(**TINY).fit(X, Y[:, 0])
    column = CNNTagger(**TINY).fit(X, Y[:, :1])
    proba = single.predict_proba(X)
    assert proba.shape == (40, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(proba[:, 1], column.predict_proba(X)[:, 0])
    assert single.predict(X).shape == (40,)
    np.testing.assert_array_equal(single.classes_, [0, 1])
    assert get_scorer("roc_auc")(single, X, Y[:, 0]) == pytest.approx(
        roc_auc_score(Y[:, 0], proba[:, 1]))


@pytest.mark.parametrize("labels", [(-1, 1), ("no", "yes"), (3, 7)])
def test_one_dimensional_y_takes_any_two_labels(data, labels):
    """Any two labels work as in scikit-learn: classes_ = np.unique(y), predict returns them."""
    X, Y = data
    ref = CNNTagger(**TINY).fit(X, Y[:, 0])
    y = np.where(Y[:, 0] == 1, labels[1], labels[0])
    est = CNNTagger(**TINY).fit(X, y)
    np.testing.assert_array_equal(est.classes_, np.unique(y))
    np.testing.assert_array_equal(est.predict_proba(X), ref.predict_proba(X))
    expected = np.asarray(labels)[ref.predict(X)]
    np.testing.assert_array_equal(est.predict(X), expected)
    assert est.predict(X).dtype == np.asarray(y).dtype


def test_one_dimensional_y_with_one_or_three_classes(data, no_training):
    X, _ = data
    with pytest.raises(ValueError, match="only one class, 'yes'"):
        CNNTagger(**TINY).fit(X, np.array(["yes"] * 40))
    with pytest.raises(ValueError, match="Only binary classification"):
        CNNTagger(**TINY).fit(X, np.arange(40) % 3)
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\)"):
        CNNTagger(**TINY).fit(X[:0], np.array([], dtype=int))


def test_two_d_input_is_one_band_spectrograms(data):
    """A 2-D (n, d) X is n one-band spectrograms (n, 1, 1, d)."""
    X, Y = data
    flat = X[:, 0, 0, :]
    a = CNNTagger(**{**TINY, "filters": (2, 2)}).fit(flat, Y)
    b = CNNTagger(**{**TINY, "filters": (2, 2)}).fit(flat[:, None, None, :], Y)
    np.testing.assert_array_equal(a.predict_proba(flat), b.predict_proba(flat[:, None, None, :]))
    assert a.input_shape_ == (1, 1, 16) and a.n_features_in_ == 16
    with pytest.raises(ValueError, match="X has 15 features, but CNNTagger is expecting 16"):
        a.predict(flat[:, :15])


def test_assume_finite_skips_the_nan_scan(data, monkeypatch):
    """Under sklearn's assume_finite the spectrograms are not scanned again."""
    import sklearn

    from sktags.models import _inputs

    X, Y = data
    seen = []
    real = _inputs._scan_finite

    def spy(X):
        seen.append(len(X))
        return real(X)

    monkeypatch.setattr(_inputs, "_scan_finite", spy)
    Xnan = np.where(np.arange(40)[:, None, None, None] == 2, np.nan, X)
    with pytest.raises(ValueError, match="sample 2"):
        CNNTagger(**TINY).fit(Xnan, Y)
    assert seen == [40]
    seen.clear()
    with sklearn.config_context(assume_finite=True):
        est = CNNTagger(**TINY).fit(X, Y)
        est.predict(X)
    assert seen == []


def test_user_callbacks_run_beside_the_internal_ones(data):
    from skorch.callbacks import Callback

    class Count(Callback):
        def __init__(self, epochs=0):
            self.epochs = epochs

        def on_epoch_end(self, net, **kwargs):
            self.epochs += 1

    X, Y = data
    mine, named = Count(), Count()
    est = CNNTagger(**{**TINY, "max_epochs": 3}, callbacks=[mine, ("named", named)]).fit(X, Y)
    assert est.callbacks[0] is mine and mine.epochs == 0 and named.epochs == 0  # cloned
    used = dict(est.net_.callbacks_)
    assert used["named"].epochs == 3 and used["Count"].epochs == 3
    assert {"lr_schedule", "best_weights", "early_stopping"} <= set(used)
    plain = CNNTagger(**{**TINY, "max_epochs": 3}).fit(X, Y)
    np.testing.assert_array_equal(est.predict_proba(X), plain.predict_proba(X))


# ------------------------------------------------------------- thresholds


def test_float_and_per_label_thresholds(data):
    X, Y = data
    a = CNNTagger(**TINY, threshold=0.3).fit(X, Y)
    proba = a.predict_proba(X)
    np.testing.assert_array_equal(a.predict(X), (proba >= 0.3).astype(int))
    t = np.array([0.2, 0.5, 0.8])
    b = CNNTagger(**TINY, threshold=t).fit(X, Y)
    np.testing.assert_array_equal(b.predict(X), (b.predict_proba(X) >= t).astype(int))
    np.testing.assert_array_equal(b.thresholds_, t)


def test_f1_thresholds_tuned_on_validation_split(data):
    X, Y = data
    a = CNNTagger(**TINY, threshold="f1", valid_size=0.5).fit(X, Y)
    v = a.valid_indices_
    expected = tune_thresholds(Y[v], a.predict_proba(X[v]))
    np.testing.assert_array_equal(a.thresholds_, expected)
    np.testing.assert_array_equal(a.predict(X), (a.predict_proba(X) >= expected).astype(int))


# ---------------------------------------------------------- weighting


class ConstantWeights:
    """A weighting stand-in: every entry gets ``value``."""

    def __init__(self, value=0.0):
        self.value = value

    def get_params(self, deep=True):
        return {"value": self.value}

    def set_params(self, **params):
        self.value = params.get("value", self.value)
        return self

    def fit(self, Y, playlist_counts=None):
        self.fitted_ = True
        return self

    def transform(self, Y, playlist_counts=None):
        return np.full(np.shape(Y), self.value, dtype=np.float32)


def initial_params(tagger, X, Y):
    torch.manual_seed(tagger.seed_)  # the tagger seeds torch like this before building the net
    net = Ibrahim2020CNN(*X.shape[-2:], Y.shape[1], filters=TINY["filters"],
                    hidden_units=TINY["hidden_units"])
    return params_of(net)


def test_zero_weights_mean_no_learning(data):
    X, Y = data
    zero = CNNTagger(**TINY, weighting=ConstantWeights(0.0)).fit(X, Y)
    one = CNNTagger(**TINY, weighting=ConstantWeights(1.0)).fit(X, Y)
    start = initial_params(zero, X, Y)
    for name, p in params_of(zero.net_.module_).items():
        assert torch.equal(p, start[name]), name  # zero gradient -> Adadelta step 0
    assert all(r["train_loss"] == 0.0 for r in zero.net_.history)
    moved = [n for n, p in params_of(one.net_.module_).items() if not torch.equal(p, start[n])]
    assert moved  # the same run with weight 1 does learn
    # and weight 1 is the plain BCE: identical to weighting=None
    plain = CNNTagger(**TINY).fit(X, Y)
    np.testing.assert_array_equal(plain.predict_proba(X), one.predict_proba(X))


def test_weighting_is_cloned_fitted_on_training_part_and_used(data):
    X, Y = data
    Y = Y.copy()
    Y[:5] = 0  # tracks without positives exist in real data
    weighting = ContextWeightEstimator(negative="exact_match")
    before = weighting.get_params()
    tagger = CNNTagger(**{**TINY, "max_epochs": 1}, weighting=weighting, patience=None).fit(X, Y)
    assert tagger.weighting is weighting and weighting.get_params() == before
    assert not [a for a in vars(weighting) if a.endswith("_")]  # never fitted in place
    assert tagger.weighting_ is not weighting

    valid = tagger.valid_indices_
    train = np.setdiff1d(np.arange(len(Y)), valid)
    reference = ContextWeightEstimator(negative="exact_match").fit(Y[train])
    W = reference.transform(Y)
    np.testing.assert_array_equal(tagger.weighting_.transform(Y), W)
    assert not np.all(W == 1)

    # the recorded validation loss is the weighted BCE with these weights
    expected = weighted_bce(tagger.predict_proba(X[valid]), Y[valid], W[valid])
    assert tagger.net_.history[-1]["valid_loss"] == pytest.approx(expected, rel=1e-5)
    unweighted = CNNTagger(**{**TINY, "max_epochs": 1}, patience=None).fit(X, Y)
    assert unweighted.net_.history[-1]["valid_loss"] != pytest.approx(
        tagger.net_.history[-1]["valid_loss"], rel=1e-3)


def test_playlist_counts_reach_the_weighting(data):
    X, Y = data
    rng = np.random.default_rng(5)
    counts = Y * rng.integers(3, 30, size=Y.shape)
    tagger = CNNTagger(**TINY, weighting=ContextWeightEstimator(positive="tfidf"))
    tagger.fit(X, Y, playlist_counts=counts)
    train = np.setdiff1d(np.arange(len(Y)), tagger.valid_indices_)
    reference = ContextWeightEstimator(positive="tfidf")
    reference.fit(Y[train], playlist_counts=counts[train])
    np.testing.assert_array_equal(tagger.weighting_.transform(Y, playlist_counts=counts),
                                  reference.transform(Y, playlist_counts=counts))
    with pytest.raises(ValueError, match="tfidf"):  # the weighting's own error, before training
        clone(tagger).fit(X, Y)


def test_fit_does_not_change_params(data):
    """sklearn's check_estimators_overwrite_params / check_dont_overwrite_parameters, on 4-D X."""
    X, Y = data
    tagger = CNNTagger(**TINY, weighting=ContextWeightEstimator(), threshold=np.array([.4, .5, .6]))
    hashes = {k: joblib.hash(v) for k, v in tagger.get_params().items()}
    public = set(vars(tagger))
    tagger.fit(X, Y)
    assert {k: joblib.hash(v) for k, v in tagger.get_params().items()} == hashes
    added = set(vars(tagger)) - public
    assert added and all(a.endswith("_") for a in added)


def test_nested_set_params():
    tagger = CNNTagger(weighting=ContextWeightEstimator())
    tagger.set_params(weighting__negative="exact_match", lr=0.5)
    assert tagger.weighting.negative == "exact_match" and tagger.lr == 0.5


# -------------------------------------------------- training procedure


def test_early_stopping_restores_best_weights(data):
    X, Y = data
    tagger = CNNTagger(**{**TINY, "max_epochs": 15}, lr=20.0, patience=3, valid_size=0.25)
    tagger.fit(X, Y)
    history = tagger.net_.history
    losses = [row["valid_loss"] for row in history]
    best = int(np.argmin(losses)) + 1
    assert tagger.best_epoch_ == best
    assert tagger.n_epochs_ == best + 3 < 15  # stopped by patience, not by max_epochs
    v = tagger.valid_indices_
    now = weighted_bce(tagger.predict_proba(X[v]), Y[v])
    assert now == pytest.approx(losses[best - 1], rel=1e-5)
    assert now != pytest.approx(losses[-1], rel=1e-4)


def test_no_validation_trains_all_epochs(data):
    X, Y = data
    tagger = CNNTagger(**{**TINY, "max_epochs": 3}, valid_size=None).fit(X, Y)
    assert tagger.n_epochs_ == tagger.best_epoch_ == 3
    assert tagger.valid_indices_ is None
    assert "valid_loss" not in tagger.net_.history[-1]


def test_staircase_learning_rate(data, monkeypatch):
    X, Y = data
    used = []  # the learning rate of every optimizer step, in order
    real_step = torch.optim.Adadelta.step

    def recording_step(self, *args, **kwargs):
        used.append(self.param_groups[0]["lr"])
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adadelta, "step", recording_step)
    tagger = CNNTagger(**{**TINY, "max_epochs": 3}, lr=0.8, lr_decay=0.5, lr_decay_steps=2,
                       valid_size=None).fit(X, Y)
    n_batches = sum(row["train_batch_count"] for row in tagger.net_.history)
    assert n_batches == 3 * 5  # 40 samples in batches of 8
    # lr * decay ** floor(step / decay_steps), step = training batches before this one,
    # counted across epochs
    assert used == pytest.approx([0.8 * 0.5 ** (step // 2) for step in range(n_batches)])


def test_group_disjoint_validation_split(data):
    X, Y = data
    groups = np.repeat(np.arange(10), 4)
    tagger = CNNTagger(**TINY, valid_size=0.3).fit(X, Y, groups=groups)
    v = tagger.valid_indices_
    train = np.setdiff1d(np.arange(40), v)
    assert len(v) == 12  # 3 of 10 groups of 4
    assert not set(groups[v]) & set(groups[train])
    plain = CNNTagger(**TINY, valid_size=0.3).fit(X, Y)
    assert len(plain.valid_indices_) == 12


def test_reproducible_and_leaves_global_torch_state(data):
    X, Y = data
    state = torch.get_rng_state()
    threads = torch.get_num_threads()
    a = CNNTagger(**TINY).fit(X, Y).predict_proba(X)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.get_num_threads() == threads
    b = CNNTagger(**TINY).fit(X, Y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    c = CNNTagger(**{**TINY, "random_state": 1}).fit(X, Y).predict_proba(X)
    assert not np.array_equal(a, c)


def test_channels_last_and_bfloat16(data):
    X, Y = data
    fast = CNNTagger(**TINY, channels_last=True).fit(X, Y).predict_proba(X)
    nchw = CNNTagger(**TINY, channels_last=False).fit(X, Y).predict_proba(X)
    np.testing.assert_allclose(fast, nchw, rtol=0, atol=1e-5)
    bf16 = CNNTagger(**TINY, precision="bfloat16").fit(X, Y).predict_proba(X)
    assert np.isfinite(bf16).all() and np.abs(bf16 - fast).max() < 0.1


def test_custom_module_factory(data):
    X, Y = data

    built = []

    def small_net(n_mels, n_frames, n_labels):
        built.append((n_mels, n_frames, n_labels))
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(n_mels * n_frames, n_labels))

    tagger = CNNTagger(**TINY, module=small_net).fit(X, Y)
    assert built == [(16, 16, 3)]
    assert isinstance(tagger.net_.module_, torch.nn.Sequential)
    assert tagger.predict_proba(X).shape == (40, 3)
    clone(tagger).fit(X, Y)
    assert len(built) == 2


# ----------------------------------------------------------- big data


def test_float16_memmap_streams_and_matches_in_memory(data, tmp_path):
    X, Y = data
    path = tmp_path / "mels.f16"
    mm = np.memmap(path, dtype=np.float16, mode="w+", shape=X.shape)
    mm[:] = X
    mm.flush()
    mm = np.memmap(path, dtype=np.float16, mode="r", shape=X.shape)
    from_disk = CNNTagger(**TINY).fit(mm, Y)
    # float16 -> float32 per batch is exact, so this equals training on the float32 copy
    in_memory = CNNTagger(**TINY).fit(np.asarray(mm, dtype=np.float32), Y)
    np.testing.assert_array_equal(from_disk.predict_proba(mm),
                                  in_memory.predict_proba(X.astype(np.float16)))
    # the fitted tagger keeps no reference to the training data
    assert b"mels.f16" not in pickle.dumps(from_disk)
    assert len(pickle.dumps(from_disk)) < 200_000


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_read_only_memmap_batches_are_fresh_writable_arrays(data, tmp_path, dtype):
    """A batch of a read-only memmap reaches torch without the "not writable"
    warning of torch.from_numpy, as a copy of that batch only."""
    X, Y = data
    path = tmp_path / "mels.npy"
    np.save(path, X.astype(dtype))
    mm = np.load(path, mmap_mode="r")
    assert not mm.flags.writeable
    for source in (mm, mm[:, 0], X):  # 4-D and 3-D memmaps, and an in-memory array
        ds = _data.WholeDataset(spectrogram_input(source), np.arange(len(X)))
        for positions in ([3, 4, 5], [0, 7, 20], [9]):  # contiguous rows, fancy indexing
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                xb, _ = ds.__getitems__(positions)
            assert xb.dtype == torch.float32 and xb.shape == (len(positions), 1, 16, 16)
            batch = xb.numpy()
            assert batch.flags.writeable and not np.shares_memory(batch, source)
            expected = np.asarray(source, dtype=np.float32)[positions]
            np.testing.assert_array_equal(batch, expected.reshape(batch.shape))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tagger = CNNTagger(**TINY).fit(mm, Y)
        proba = tagger.predict_proba(mm)
    np.testing.assert_array_equal(proba, tagger.predict_proba(X.astype(dtype)))


def test_memmap_pages_are_released_without_losing_data(data, tmp_path):
    """Read pages of a shared memmap are unmapped (MADV_DONTNEED) after each batch;
    copy-on-write maps, whose private changes that would discard, are left alone."""
    X, Y = data
    path = tmp_path / "mels.f32"
    np.memmap(path, dtype=np.float32, mode="w+", shape=X.shape)[:] = X
    shared = np.memmap(path, dtype=np.float32, mode="r+", shape=X.shape)
    private = np.memmap(path, dtype=np.float32, mode="c", shape=X.shape)
    assert memmap_root(shared).base is shared._mmap
    assert memmap_root(shared[5:]).base is shared._mmap  # views too
    assert memmap_root(np.asarray(shared)).base is shared._mmap
    assert memmap_root(private) is None
    assert memmap_root(X) is None

    shared[0] = 1.0  # written through the shared map: must survive the page release
    private[1] = 2.0  # a private change: must not be dropped
    a = CNNTagger(**TINY).fit(shared, Y)
    b = CNNTagger(**TINY).fit(private, Y)
    assert (shared[0] == 1.0).all() and (private[1] == 2.0).all()
    assert (np.memmap(path, dtype=np.float32, mode="r", shape=X.shape)[0] == 1.0).all()
    expected = X.copy()
    expected[0] = 1.0
    np.testing.assert_array_equal(a.predict_proba(shared), a.predict_proba(expected))
    expected[1] = 2.0
    np.testing.assert_array_equal(
        b.predict_proba(private), CNNTagger(**TINY).fit(expected, Y).predict_proba(expected))


def test_fit_reads_x_in_batches_and_chunks(data, monkeypatch):
    """No step of fit indexes more rows of X than one batch or one validation chunk."""
    X, Y = data
    row_bytes = X[0].nbytes
    monkeypatch.setattr(_inputs, "_CHUNK_BYTES", 10 * row_bytes)  # NaN scan: 10 rows at a time
    reads = []

    class Tracked(np.ndarray):
        def __getitem__(self, key):
            out = super().__getitem__(key)
            if isinstance(out, np.ndarray) and out.ndim == 4:
                reads.append(out.shape[0])
            return out

    tracked = X.view(Tracked)
    assert spectrogram_input(tracked).data is tracked  # validation returns X itself
    reads.clear()
    tagger = CNNTagger(**TINY).fit(tracked, Y)
    assert reads and max(reads) == 10  # the NaN scan's chunks; batches are 8 rows
    assert reads.count(8) > 0
    reads.clear()
    tagger.predict_proba(tracked)
    assert max(reads) == 10


def test_loader_workers_give_the_same_model(data):
    X, Y = data
    a = CNNTagger(**TINY).fit(X, Y)
    b = CNNTagger(**TINY, num_workers=1).fit(X, Y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_verbose_prints_the_epoch_table(data, capsys):
    X, Y = data
    CNNTagger(**{**TINY, "max_epochs": 1}, verbose=1).fit(X, Y)
    out = capsys.readouterr().out
    assert "train_loss" in out and "valid_loss" in out
    CNNTagger(**{**TINY, "max_epochs": 1}).fit(X, Y)
    assert capsys.readouterr().out == ""


# -------------------------------------------------------- persistence


def test_pickle_and_joblib_round_trip(fitted, data, tmp_path):
    X, _ = data
    expected = fitted.predict_proba(X)
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict_proba(X), expected)
    np.testing.assert_array_equal(again.predict(X), fitted.predict(X))
    joblib.dump(fitted, tmp_path / "t.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "t.joblib").predict_proba(X), expected)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU to train on")
def test_cuda_trained_model_unpickles_on_cpu(data, tmp_path):
    """A model really trained on CUDA, unpickled in a process that sees no GPU, runs on the CPU."""
    import subprocess
    import sys

    X, Y = data
    est = CNNTagger(**TINY, device="cuda").fit(X, Y)
    assert est.device_ == "cuda"
    joblib.dump(est, tmp_path / "gpu.joblib")
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "expected.npy", est.predict_proba(X))
    script = (
        "import sys, joblib, numpy as np, torch\n"
        "assert not torch.cuda.is_available()\n"
        "est = joblib.load(sys.argv[1] + '/gpu.joblib')\n"
        "assert est.device_ == 'cpu' and str(est.net_.device) == 'cpu', est.device_\n"
        "p = est.predict_proba(np.load(sys.argv[1] + '/X.npy'))\n"
        "np.testing.assert_allclose(p, np.load(sys.argv[1] + '/expected.npy'), atol=1e-5)\n"
    )
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def test_device(data, monkeypatch):
    from sktags.models._training import resolve_device

    X, Y = data
    assert CNNTagger(**TINY, device="auto").fit(X, Y).device_ == resolve_device("auto")
    for bad in ["gpu0", "tpu", "cuda:x"]:
        with pytest.raises(ValueError, match=f"device='{bad}'"):
            CNNTagger(**TINY, device=bad).fit(X, Y)
    # A machine without CUDA or MPS.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    for bad in ["cuda", "cuda:0", "mps", "xpu", "tpu"]:
        with pytest.raises(ValueError, match=f"device='{bad}'"):
            resolve_device(bad)
    # One GPU: cuda:0 is fine, cuda:7 is not; "auto" prefers CUDA, then MPS.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert resolve_device("auto") == "cuda" and resolve_device("cuda:0") == "cuda:0"
    with pytest.raises(ValueError, match="device='cuda:7'.*1 CUDA device"):
        resolve_device("cuda:7")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device("auto") == "mps" and resolve_device("mps") == "mps"
    with pytest.raises(ValueError, match="device='cpu:x'|device='cpu:x'"):
        CNNTagger(**TINY, device="cpu:x").fit(X, Y)


# ------------------------------------------------------- checkpoints


class FlakyCNN(Ibrahim2020CNN):
    """Ibrahim2020CNN that crashes on a chosen forward call, like a killed job."""

    calls = 0
    crash_at = None

    def forward(self, x):
        FlakyCNN.calls += 1
        if FlakyCNN.crash_at is not None and FlakyCNN.calls == FlakyCNN.crash_at:
            raise RuntimeError("simulated crash")
        return super().forward(x)


def test_checkpoint_resume_equals_uninterrupted(data, tmp_path):
    X, Y = data
    kw = {**TINY, "max_epochs": 4, "module": FlakyCNN}
    FlakyCNN.crash_at = None
    full = CNNTagger(**kw, checkpoint_dir=tmp_path / "full").fit(X, Y)

    # 40 samples, 36 train + 4 valid: 5 + 1 forward calls per epoch. Crash inside epoch 3.
    FlakyCNN.calls, FlakyCNN.crash_at = 0, 2 * 6 + 3
    with pytest.raises(RuntimeError, match="simulated crash"):
        CNNTagger(**kw, checkpoint_dir=tmp_path / "run").fit(X, Y)
    FlakyCNN.crash_at = None
    (run_dir,) = (tmp_path / "run").iterdir()
    assert sorted(p.name for p in run_dir.iterdir() if p.name != ".lock") == [
        "checkpoint.pt", "config.json"]

    (run_dir / ".checkpoint-killed.tmp").write_bytes(b"half a checkpoint")
    resumed = CNNTagger(**kw, checkpoint_dir=tmp_path / "run").fit(X, Y)
    assert resumed.n_epochs_ == 4
    assert sorted(p.name for p in run_dir.iterdir() if p.name != ".lock") == [
        "checkpoint.pt", "config.json"]
    np.testing.assert_array_equal(resumed.predict_proba(X), full.predict_proba(X))
    assert [r["valid_loss"] for r in resumed.net_.history] == [
        r["valid_loss"] for r in full.net_.history]

    # a finished run is loaded, not retrained; more epochs continue it
    FlakyCNN.calls = 0
    again = CNNTagger(**kw, checkpoint_dir=tmp_path / "run").fit(X, Y)
    assert FlakyCNN.calls == 0 and again.n_epochs_ == 4
    np.testing.assert_array_equal(again.predict_proba(X), full.predict_proba(X))
    longer = CNNTagger(**{**kw, "max_epochs": 5}, checkpoint_dir=tmp_path / "run").fit(X, Y)
    assert longer.n_epochs_ == 5

    (run_dir / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="checkpoint.pt is not a readable"):
        CNNTagger(**kw, checkpoint_dir=tmp_path / "run").fit(X, Y)


def test_checkpoint_max_epochs_split_equals_one_run(data, tmp_path):
    X, Y = data
    one = CNNTagger(**{**TINY, "max_epochs": 4}).fit(X, Y)
    CNNTagger(**{**TINY, "max_epochs": 2}, checkpoint_dir=tmp_path).fit(X, Y)
    two = CNNTagger(**{**TINY, "max_epochs": 4}, checkpoint_dir=tmp_path).fit(X, Y)
    assert two.n_epochs_ == 4
    np.testing.assert_array_equal(one.predict_proba(X), two.predict_proba(X))
    # other parameters or other data: a separate run directory, a fresh start
    CNNTagger(**{**TINY, "max_epochs": 1, "lr": 0.5}, checkpoint_dir=tmp_path).fit(X, Y)
    other = CNNTagger(**{**TINY, "max_epochs": 1}, checkpoint_dir=tmp_path).fit(X, 1 - Y)
    assert other.n_epochs_ == 1
    assert len(list(tmp_path.iterdir())) == 3


# ----------------------------------------------------------- bad input


@pytest.fixture
def no_training(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(_training.TaggerNeuralNet, "initialize", fail)


@pytest.mark.parametrize("make, match", [
    (lambda X, Y: (X[:, 0, 0, 0], Y), "Reshape your data"),
    (lambda X, Y: (X[..., None], Y), "single channel|4-D"),
    (lambda X, Y: (np.repeat(X, 2, axis=1), Y), "single channel"),
    (lambda X, Y: (X[:0], Y[:0]), r"Found array with 0 sample\(s\) \(shape=\(0, 1, 16, 16\)\)"),
    (lambda X, Y: (X[:, :, :, :0], Y), r"0 feature\(s\)"),
    (lambda X, Y: (X.astype(np.complex64), Y), "Complex"),
    (lambda X, Y: (np.where(np.arange(40)[:, None, None, None] == 7, np.nan, X), Y), "sample 7"),
    (lambda X, Y: (np.where(np.arange(40)[:, None, None, None] == 3, np.inf, X), Y), "sample 3"),
    (lambda X, Y: (X, np.where(np.arange(40)[:, None] == 2, 2, Y)), "row 2"),
    (lambda X, Y: (X, np.where(np.arange(40)[:, None] == 4, np.nan, Y)), "NaN"),
    (lambda X, Y: (X, Y * 0.5), "Unknown label type"),
    (lambda X, Y: (X[:-1], Y), "39 samples but y has 40"),
])
def test_bad_data_raises_before_training(data, no_training, make, match):
    X, Y = data
    Xb, Yb = make(X, Y.astype(np.float64))
    with pytest.raises(ValueError, match=match):
        CNNTagger(**TINY).fit(Xb, Yb)


@pytest.mark.parametrize("params, match", [
    (dict(lr=-1.0), "lr"),
    (dict(batch_size=0), "batch_size"),
    (dict(max_epochs=1.5), "max_epochs"),
    (dict(patience=0), "patience"),
    (dict(dropout=1.0), "dropout"),
    (dict(valid_size=1.5), "valid_size"),
    (dict(precision="float64"), "precision"),
    (dict(threshold=1.5), "threshold"),
    (dict(threshold="auto"), "threshold"),
    (dict(threshold=[0.5, 0.5]), r"\(3,\)"),
    (dict(threshold="f1", valid_size=None), "valid_size"),
    (dict(module=torch.nn.Linear(2, 2)), "module"),
    (dict(weighting="ignore_zeros"), "weighting"),
])
def test_bad_params_raise_before_training(data, no_training, params, match):
    X, Y = data
    with pytest.raises(ValueError, match=match):
        CNNTagger(**{**TINY, **params}).fit(X, Y)


@pytest.mark.parametrize("params", [
    dict(batch_size=True), dict(max_epochs=False), dict(patience=True), dict(lr=True),
    dict(dropout=False), dict(valid_size=True), dict(num_workers=True), dict(channels_last=1),
    dict(threshold=True), dict(callbacks="tensorboard"),
])
def test_bools_and_numbers_are_not_mixed_up(data, no_training, params):
    """Numbers refuse bools, flags refuse numbers: one rule for every parameter."""
    X, Y = data
    (name,) = params
    with pytest.raises(ValueError, match=f"'{name}' parameter of CNNTagger"):
        CNNTagger(**{**TINY, **params}).fit(X, Y)


@settings(max_examples=60, deadline=None)
@given(value=st.one_of(st.booleans(), st.integers(-3, 3), st.floats(allow_nan=True),
                       st.none(), st.text(max_size=3)))
def test_count_parameters_property(value):
    """A count parameter is accepted exactly when it is an int >= 1 (never a bool)."""
    from sklearn.utils._param_validation import InvalidParameterError

    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
    for name in ("batch_size", "max_epochs", "lr_decay_steps", "hidden_units"):
        est = CNNTagger(**{name: value})
        if ok:
            est._validate_params()
        else:
            with pytest.raises(InvalidParameterError, match=name):
                est._validate_params()


def test_bad_side_inputs(data, no_training):
    X, Y = data
    with pytest.raises(ValueError, match="groups"):
        CNNTagger(**TINY).fit(X, Y, groups=np.arange(39))
    with pytest.raises(ValueError, match="playlist_counts"):
        CNNTagger(**TINY).fit(X, Y, playlist_counts=np.ones((40, 2)))
    with pytest.raises(ValueError, match="valid_size"):
        CNNTagger(**TINY, valid_size=0.5).fit(X[:1], Y[:1])


def test_predict_checks_input(fitted, data):
    X, _ = data
    with pytest.raises(ValueError, match="fitted on"):
        fitted.predict(np.zeros((2, 1, 16, 20), np.float32))
    with pytest.raises(ValueError, match="sample 1"):
        fitted.predict_proba(np.stack([X[0], X[1] * np.nan]))


def test_verbose_table_has_no_colour_codes_outside_a_terminal(capsys):
    """skorch colours the best scores with ANSI codes; a pipe or log file gets plain text."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 1, 16, 16)).astype(np.float32)
    Y = (rng.random((30, 2)) < 0.5).astype(int)
    CNNTagger(filters=(2, 2, 2, 2), hidden_units=4, max_epochs=2, verbose=1,
              random_state=0).fit(X, Y)
    out = capsys.readouterr().out
    assert "valid_loss" in out and "\x1b[" not in out


def test_pickles_after_builtins_print_is_replaced(monkeypatch):
    """Ray replaces builtins.print in the driver; a tagger fitted before must still pickle."""
    import builtins

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 1, 16, 16)).astype(np.float32)
    Y = (rng.random((20, 2)) < 0.5).astype(int)
    tagger = CNNTagger(filters=(2, 2, 2, 2), hidden_units=4, max_epochs=1,
                       random_state=0).fit(X, Y)
    monkeypatch.setattr(builtins, "print", lambda *args, **kwargs: None)
    restored = pickle.loads(pickle.dumps(tagger))
    np.testing.assert_array_equal(restored.predict_proba(X), tagger.predict_proba(X))
