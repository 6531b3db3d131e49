"""Waveform validation (sktags.features._waveform) and its use by the transformer."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sktags.features import MelSpectrogramTransformer
from sktags.features._waveform import MAX_ABS_AMPLITUDE, as_float_waveform

FAST = dict(sr=1000, n_fft=64, hop_length=32, n_mels=8, offset=0.0, duration=0.2)

_DTYPES = st.one_of(
    hnp.integer_dtypes(),
    hnp.unsigned_integer_dtypes(),
    hnp.floating_dtypes(),
    hnp.complex_number_dtypes(),
    hnp.boolean_dtypes(),
    hnp.datetime64_dtypes(),
    hnp.byte_string_dtypes(max_len=4),
    hnp.unicode_string_dtypes(max_len=4),
)
_ARRAYS = hnp.arrays(_DTYPES, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6))


def _expected(arr):
    """Independent reference: librosa's buf_to_float scale for ints, identity for floats."""
    if arr.dtype.kind == "i":
        return arr.astype(np.float64) / 2.0 ** (8 * arr.dtype.itemsize - 1)
    return arr.astype(np.float64)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_ARRAYS)
def test_any_array_gives_a_correct_float32_waveform_or_a_one_line_value_error(arr):
    try:
        got = as_float_waveform(arr, name="X[0]")
    except ValueError as exc:
        message = str(exc)
        assert message.startswith("X[0] ") and "\n" not in message
        kind = arr.dtype.kind
        valid = (
            kind in "if"
            and arr.ndim in (1, 2)
            and arr.size > 0
            and (kind == "i" or (np.isfinite(arr).all() and np.abs(arr).max() <= MAX_ABS_AMPLITUDE))
        )
        assert not valid, f"refused a valid waveform: {message}"
        return
    assert arr.dtype.kind in "if" and arr.ndim in (1, 2) and arr.size > 0
    assert got.dtype == np.float32 and got.shape == arr.shape and got.flags.c_contiguous
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, _expected(arr), rtol=1e-6, atol=1e-30)
    if arr.dtype.kind == "i":
        assert np.abs(got).max() <= 1.0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hnp.arrays(
        st.one_of(hnp.integer_dtypes(), hnp.unsigned_integer_dtypes(), hnp.floating_dtypes(),
                  hnp.complex_number_dtypes(), hnp.boolean_dtypes()),
        hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=300),
    ),
    st.booleans(),
)
def test_transformer_gives_finite_features_or_a_value_error(arr, as_list):
    X = list(arr) if as_list and arr.ndim == 2 else arr
    mel = MelSpectrogramTransformer(**FAST)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # short-clip notes
            out = mel.transform(X)
    except ValueError as exc:
        assert "\n" not in str(exc)
        return
    assert out.dtype == np.float32 and np.isfinite(out).all()
    assert out.shape == (arr.shape[0], 1, 8, 1 + 200 // 32)


def test_int16_features_equal_float_features_of_y_over_32768():
    rng = np.random.default_rng(0)
    t = np.arange(22050) / 22050
    y = 0.5 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)
    ints = np.round(y * 32767).astype(np.int16)
    mel = MelSpectrogramTransformer(offset=0.0, duration=1.0)
    got = mel.transform([ints])
    ref = mel.transform([ints.astype(np.float64) / 32768])
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)
    # and close to the features of the float signal it quantises
    np.testing.assert_allclose(got, mel.transform([y]), atol=0.05)
    # int32 PCM and a 2-D int16 batch too
    np.testing.assert_allclose(mel.transform([ints.astype(np.int32) << 16]), ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(mel.transform(np.stack([ints, ints])), np.concatenate([ref, ref]),
                               rtol=1e-5, atol=1e-5)
    # the unscaled mistake this replaces: power 2**30 x larger, log1p about 20 higher
    raw = mel.transform([ints.astype(np.float32)])
    assert (raw - got).mean() > 15


@pytest.mark.parametrize("scale", [1e13, 1e30, 1e300])
def test_overflowing_float_input_raises(scale):
    y = np.sin(np.arange(22050) / 10.0) * scale
    with pytest.raises(ValueError, match=r"waveform X\[0\] has samples up to .* power spectrum would overflow"):
        MelSpectrogramTransformer(offset=0.0, duration=1.0).transform([y])
    with pytest.raises(ValueError, match="overflow|NaN or infinity"):
        MelSpectrogramTransformer(offset=0.0, duration=1.0).transform(np.stack([y, y]))


def test_largest_accepted_amplitude_gives_finite_features():
    y = np.sin(np.arange(22050) / 3.0) * MAX_ABS_AMPLITUDE
    for compression in ("log1p", "db"):
        out = MelSpectrogramTransformer(offset=0.0, duration=1.0, compression=compression).transform([y])
        assert np.isfinite(out).all() and out.max() > 0


@pytest.mark.parametrize(
    "y, match",
    [
        (np.array([1, 2], np.uint8), r"unsigned integer dtype uint8.*- 128\) / 128"),
        (np.array([1, 2], np.uint16), "unsigned integer dtype uint16"),
        (np.array([True, False]), "must hold real numbers.*bool"),
        (np.array([1j, 2]), "complex"),
        (np.array([0.1, "a"], dtype=object), "must hold real numbers.*object"),
        (np.array(0.5), r"must be 1-D .* or 2-D .*shape \(\)"),
        (np.zeros((2, 2, 2)), "shape \\(2, 2, 2\\)"),
        (np.zeros(0), "is empty"),
        (np.zeros((3, 0)), "is empty"),
        (np.array([0.0, np.nan]), "NaN or infinity"),
        (np.array([np.inf], np.float16), "NaN or infinity"),
        ([[0.0, 1.0], [2.0]], "is not a numeric array"),
    ],
)
def test_refusals_are_one_line_value_errors(y, match):
    with pytest.raises(ValueError, match=match) as info:
        as_float_waveform(y, name="X[3]")
    assert str(info.value).startswith("X[3] ") and "\n" not in str(info.value)


def test_transformer_refuses_unsigned_waveforms_naming_them():
    with pytest.raises(ValueError, match=r"MelSpectrogramTransformer: waveform X\[1\] has unsigned"):
        MelSpectrogramTransformer(**FAST).transform([np.zeros(200), np.full(200, 128, np.uint8)])
    with pytest.raises(ValueError, match=r"waveform X\[0\] has unsigned"):
        MelSpectrogramTransformer(**FAST).transform(np.full((2, 200), 128, np.uint8))
