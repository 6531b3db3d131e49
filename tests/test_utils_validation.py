import numpy as np
import pytest
import scipy.sparse as sp

from sktags.utils import check_label_matrix, check_nonnegative_counts


@pytest.mark.parametrize(
    "Y",
    [
        np.array([[1, 0], [0, 1]]),
        np.array([[True, False], [False, True]]),
        np.array([[1.0, 0.0], [0.0, 1.0]]),
        sp.csr_matrix(np.array([[1, 0], [0, 1]])),
    ],
)
def test_label_matrix_accepts_binary_forms(Y):
    out = check_label_matrix(Y)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, [[1, 0], [0, 1]])


def test_label_matrix_names_the_bad_entry():
    with pytest.raises(ValueError, match="row 1, column 0"):
        check_label_matrix([[1, 0], [2, 1]])
    with pytest.raises(ValueError, match="NaN or inf at row 0, column 1"):
        check_label_matrix([[1, np.nan]])
    with pytest.raises(ValueError, match="2-D"):
        check_label_matrix([1, 0, 1])
    with pytest.raises(ValueError, match="empty"):
        check_label_matrix(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="expected 4"):
        check_label_matrix([[1, 0]], n_labels=4)


def test_label_matrix_1d_as_one_label():
    assert check_label_matrix([1, 0, 1], allow_1d=True).shape == (3, 1)


def test_counts_validation():
    np.testing.assert_array_equal(check_nonnegative_counts([[0, 2]]), [[0.0, 2.0]])
    with pytest.raises(ValueError, match="non-negative.*row 0, column 1"):
        check_nonnegative_counts([[0, -1]])
    with pytest.raises(ValueError, match="shape"):
        check_nonnegative_counts([[0, 1]], shape=(2, 2))
