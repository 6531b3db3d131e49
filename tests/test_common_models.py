"""scikit-learn's common estimator checks for CNNTagger.

CNNTagger takes spectrograms, (n, 1, n_mels, n_frames) or (n, n_mels, n_frames),
and its tags say so (``two_d_array=False``), which makes
``parametrize_with_checks`` skip every check of a bare CNNTagger. So the checks
run twice:

- the API checks that need no 2-D data, on CNNTagger itself;
- all checks on a pipeline whose first step views each 2-D row as a one-band
  spectrogram (n, 1, 1, n_features), so that fit, predict, cloning, pickling,
  input validation and the multilabel output format of CNNTagger are exercised
  by sklearn's own tests.
"""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import estimator_checks as ec
from sklearn.utils.estimator_checks import parametrize_with_checks

from sktags.models import CNNTagger

@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny nets run ~5x faster on one thread on a busy 2-core machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


TINY = dict(filters=(2, 2), hidden_units=4, max_epochs=2, batch_size=16, random_state=0)


class AsOneBandSpectrograms:
    """(n, d) -> (n, 1, 1, d); sparse input is passed on for CNNTagger to reject.

    A class with a fixed repr, so that the test ids do not contain a memory address.
    """

    def __call__(self, X):
        if sp.issparse(X):
            return X
        X = np.asarray(X)
        return X.reshape(X.shape[0], 1, 1, -1) if X.ndim == 2 else X

    def __repr__(self):
        return "AsOneBandSpectrograms()"


def tiny_pipeline():
    return make_pipeline(FunctionTransformer(AsOneBandSpectrograms()), CNNTagger(**TINY))


# Reasons are given per check name; sklearn matches them to the checks it yields.
MULTICLASS = (
    "the check fits a multiclass (or string-labelled) y; CNNTagger is a binary / "
    "multilabel tagger that accepts only 0/1 indicators, and says so with a ValueError"
)
PIPELINE_XFAIL = {
    "check_estimators_overwrite_params": (
        "Pipeline fits its steps in place, so the hash of its `steps` parameter changes; "
        "test_tagger.py::test_fit_does_not_change_params runs this check on CNNTagger itself"
    ),
    "check_dont_overwrite_parameters": (
        "Pipeline fits its steps in place, so its public `steps` attribute changes; "
        "test_tagger.py::test_fit_does_not_change_params covers CNNTagger itself"
    ),
    "check_n_features_in_after_fitting": (
        "CNNTagger has no n_features_in_: it checks the spectrogram shape (input_shape_) and "
        "raises its own ValueError on a mismatch, not sklearn's n_features message"
    ),
    "check_estimators_empty_data_messages": (
        "the reshaping step turns (n, 0) into (n, 1, 1, 0); CNNTagger rejects it with "
        "'X is empty', not with sklearn's '0 feature(s) (shape=(n, 0))' wording"
    ),
    "check_classifiers_one_label": (
        "CNNTagger does not special-case a constant label: the tiny net trained for two "
        "epochs at the paper's learning rate still predicts the majority value 0 for y == 1"
    ),
    "check_estimators_dtypes": MULTICLASS,
    "check_classifier_data_not_an_array": MULTICLASS,
    "check_classifiers_classes": MULTICLASS,
    "check_fit2d_1feature": MULTICLASS,
}


@parametrize_with_checks([tiny_pipeline()], expected_failed_checks=lambda est: PIPELINE_XFAIL)
def test_sklearn_checks_on_pipeline(estimator, check):
    check(estimator)


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


@pytest.mark.parametrize("check", API_CHECKS, ids=lambda c: c.__name__)
def test_sklearn_api_checks_on_tagger(check):
    check("CNNTagger", CNNTagger(**TINY))
