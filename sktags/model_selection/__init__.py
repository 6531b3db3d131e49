"""Group-disjoint, multilabel-stratified splits of a dataset.

The paper's protocol: iterative stratification (Sechidis et al., 2011) with no
artist or album shared between the training, validation and test parts.
"""

from ._iterative_stratification import MultilabelStratifiedGroupKFold, train_valid_test_split

__all__ = ["MultilabelStratifiedGroupKFold", "train_valid_test_split"]
