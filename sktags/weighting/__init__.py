"""Per-entry loss weights from labels and playlist counts (the paper's section 4.2)."""

from ._context_weights import ContextWeightEstimator
from ._configs import TABLE2_CONFIGURATIONS, WeightingConfiguration, table2_param_grid

__all__ = ["ContextWeightEstimator", "TABLE2_CONFIGURATIONS", "WeightingConfiguration", "table2_param_grid"]
