"""Per-entry loss weights from labels and playlist counts (the paper's section 4.2)."""

from ._context_weights import ContextWeightEstimator

__all__ = ["ContextWeightEstimator"]
