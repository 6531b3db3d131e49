"""scikit-learn's estimator checks on MelSpectrogramTransformer.

The checks feed small 2-D numeric arrays, which the transformer reads as
waveforms (n_clips, n_samples); small analysis settings keep them fast.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sktags.features import MelSpectrogramTransformer

_NO_N_FEATURES_IN = (
    "A waveform's length is not a number of features: clips of any length are "
    "accepted (each is cut or zero-padded to `duration`), and paths are not "
    "numeric features at all, so fit does not set n_features_in_ and transform "
    "does not compare lengths with fit."
)

EXPECTED_FAILED_CHECKS = {
    "check_n_features_in": _NO_N_FEATURES_IN,
    "check_n_features_in_after_fitting": _NO_N_FEATURES_IN,
}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS


@parametrize_with_checks(
    [
        MelSpectrogramTransformer(
            sr=8000, n_fft=256, hop_length=256, n_mels=16, offset=0.0, duration=0.25
        )
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
