"""CNNTagger's target validation: any input gives a correct result or a ValueError."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sktags.models._inputs import check_target


@settings(max_examples=150, deadline=None)
@given(y=st.one_of(
    hnp.arrays(st.sampled_from([np.int64, np.float64, np.int8]), st.integers(0, 12),
               elements=st.sampled_from([-1, 0, 1, 3, 7])),
    hnp.arrays(np.float64, st.integers(0, 12),
               elements=st.one_of(st.floats(-2, 2), st.just(np.nan), st.sampled_from([0.0, 1.0]))),
    st.lists(st.sampled_from(["no", "yes", "maybe"]), max_size=12).map(np.array),
))
def test_one_dimensional_targets(y):
    finite = y.dtype.kind != "f" or np.isfinite(y).all()
    integral = y.dtype.kind != "f" or (finite and np.all(y == np.round(y)))
    expected_ok = y.size > 0 and finite and integral and len(np.unique(y)) == 2
    try:
        Y, classes, outputs_2d = check_target(y, "CNNTagger")
    except ValueError as exc:
        assert "\n" not in str(exc)
        assert not expected_ok, exc
        return
    assert expected_ok
    assert not outputs_2d
    np.testing.assert_array_equal(classes, np.unique(y))
    assert len(classes) == 2 and Y.shape == (len(y), 1) and Y.dtype == np.uint8
    np.testing.assert_array_equal(Y[:, 0], y == classes[1])


@settings(max_examples=150, deadline=None)
@given(Y=hnp.arrays(st.sampled_from([np.int64, np.float64, np.uint8]),
                    hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=5),
                    elements=st.sampled_from([0, 1, 2])))
def test_indicator_matrices(Y):
    try:
        out, classes, outputs_2d = check_target(Y, "CNNTagger")
    except ValueError as exc:
        assert "\n" not in str(exc)
        assert Y.size == 0 or (Y > 1).any()
        return
    assert outputs_2d and out.shape == Y.shape
    np.testing.assert_array_equal(out, Y.astype(np.uint8))
    assert all(np.array_equal(c, [0, 1]) for c in classes) and len(classes) == Y.shape[1]


def test_messages():
    with pytest.raises(ValueError, match="requires y to be passed"):
        check_target(None, "CNNTagger")
    with pytest.raises(ValueError, match="only one class, 3"):
        check_target(np.array([3, 3]), "CNNTagger")
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        check_target(np.array([0.5, 1.0]), "CNNTagger")
