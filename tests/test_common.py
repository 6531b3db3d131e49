"""scikit-learn's common estimator checks on every public estimator.

- ``MelSpectrogramTransformer`` reads a 2-D array as waveforms
  (n_clips, n_samples); small analysis settings keep it fast.
- ``MusicnnEmbedding`` reads a 2-D array as 16 kHz waveforms too; it is a
  stateless transformer of audio (tag ``no_validation``: clips of any
  length, no ``n_features_in_``), so the feature-count checks do not apply.
  It runs with ``batch_size=1``: a batched convolution rounds differently
  for different batch sizes (about 1e-6), which the subset-invariance check
  (atol 1e-7) would see; tests/test_musicnn_embedding.py checks batch sizes.
- ``CNNTagger`` reads a 2-D array (n, d) as n one-band spectrograms
  (n, 1, 1, d), so every check runs on the bare estimator (a tiny network,
  two epochs).
- ``EmbeddingTagger`` reads a 2-D array as it is (n_samples, n_features);
  every check runs on the bare estimator (a small linear head, few epochs).
- ``ContextWeightEstimator`` takes a 0/1 label matrix, and no tag can tell
  the checks to feed binary data. The bare estimator gets the checks that
  need no data; all checks run on a subclass that thresholds the checks'
  continuous X at 0 into a 0/1 matrix first (NaN, inf, complex and sparse
  input pass through unchanged, so its own validation meets them).

Every expected failure has a written reason; ``xfail_strict`` (pyproject) makes
the list fail loudly when a check starts passing.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.utils import estimator_checks as ec
from sklearn.utils.estimator_checks import parametrize_with_checks

from sktags import CNNTagger, ContextWeightEstimator, EmbeddingTagger, MelSpectrogramTransformer
from sktags.pretrained import MusicnnEmbedding

# Checks that need no data, run on the bare estimators.
API_CHECKS = [
    ec.check_estimator_cloneable,
    ec.check_estimator_tags_renamed,
    ec.check_valid_tag_types,
    ec.check_estimator_repr,
    ec.check_no_attributes_set_in_init,
    ec.check_do_not_raise_errors_in_init_or_set_params,
    ec.check_mixin_order,
    ec.check_parameters_default_constructible,
    ec.check_get_params_invariance,
    ec.check_set_params,
    ec.check_estimators_unfitted,
]

# ---------------------------------------------------------------- MelSpectrogramTransformer

_NO_N_FEATURES_IN = (
    "A waveform's length is not a number of features: clips of any length are "
    "accepted (each is cut or zero-padded to `duration`), and paths are not "
    "numeric features at all, so fit does not set n_features_in_ and transform "
    "does not compare lengths with fit."
)
MEL_XFAIL = {
    "check_n_features_in": _NO_N_FEATURES_IN,
    "check_n_features_in_after_fitting": _NO_N_FEATURES_IN,
}


@parametrize_with_checks(
    [MelSpectrogramTransformer(sr=8000, n_fft=256, hop_length=256, n_mels=16, offset=0.0, duration=0.25)],
    expected_failed_checks=lambda est: MEL_XFAIL,
)
def test_mel_transformer(estimator, check):
    check(estimator)


# ---------------------------------------------------------------- MusicnnEmbedding


@parametrize_with_checks([MusicnnEmbedding(batch_size=1)])
def test_musicnn_embedding(estimator, check):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*very short clip", category=UserWarning)
        check(estimator)


# ---------------------------------------------------------------- ContextWeightEstimator


def _threshold(X):
    """0/1 where X is finite (> 0 is 1); NaN, inf, complex, strings and dicts unchanged."""
    if sp.issparse(X):
        X = X.tocsr(copy=True)
        if X.dtype.kind == "f":
            X.data = np.where(np.isfinite(X.data), X.data > 0, X.data)
        return X
    if hasattr(X, "columns"):  # a DataFrame keeps its column names
        return X.__class__(_threshold(X.to_numpy()), columns=X.columns, index=X.index)
    A = np.asarray(X)
    if A.dtype.kind == "O":  # numbers as Python objects stay objects; anything else unchanged
        try:
            return np.where(A.astype(float) > 0, 1, 0).astype(object)
        except (TypeError, ValueError):
            return X
    if A.dtype.kind == "f":
        return np.where(np.isfinite(A), A > 0, A).astype(A.dtype)
    if A.dtype.kind in "iu":
        return (A > 0).astype(A.dtype)
    return X


class ThresholdedContextWeights(ContextWeightEstimator):
    """ContextWeightEstimator on ``X > 0``: the common checks' data as a label matrix."""

    def fit(self, Y, y=None, *, playlist_counts=None):
        return super().fit(_threshold(Y), y, playlist_counts=playlist_counts)

    def transform(self, Y, *, playlist_counts=None):
        return super().transform(_threshold(Y), playlist_counts=playlist_counts)


@parametrize_with_checks([ThresholdedContextWeights()])
def test_context_weights(estimator, check):
    check(estimator)


@pytest.mark.parametrize("check", API_CHECKS, ids=lambda c: c.__name__)
def test_context_weights_api(check):
    check("ContextWeightEstimator", ContextWeightEstimator())


# ---------------------------------------------------------------- CNNTagger

TINY = dict(filters=(2, 2), hidden_units=4, max_epochs=2, batch_size=16, random_state=0)


@parametrize_with_checks([CNNTagger(**TINY)])
def test_tagger(estimator, check):
    check(estimator)


# ---------------------------------------------------------------- EmbeddingTagger

SMALL = dict(max_epochs=20, random_state=0)


@parametrize_with_checks([EmbeddingTagger(**SMALL)])
def test_embedding_tagger(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", [CNNTagger(**TINY), EmbeddingTagger(**SMALL)],
                         ids=lambda e: type(e).__name__)
def test_check_estimator_runs_the_checks_on_the_bare_estimators(estimator):
    """As a user calls it: check_estimator itself, on the bare estimators, runs many checks."""
    results = ec.check_estimator(estimator, on_fail=None)
    passed = [r["check_name"] for r in results if r["status"] == "passed"]
    failed = [r["check_name"] for r in results if r["status"] == "failed"]
    assert failed == [] and len(passed) >= 50, (failed, len(passed))
