"""The paper's evaluation (Tables 1 and 2): metrics, report, thresholds, scorers."""

from ._ranking import roc_auc_macro, roc_auc_per_label, true_negative_rate
from ._report import ContextReport, context_report
from ._scorers import (
    SCORERS,
    MultilabelScorer,
    neg_hamming_loss_scorer,
    roc_auc_macro_scorer,
    tn_rate_macro_scorer,
)
from ._thresholds import tune_thresholds

__all__ = [
    "SCORERS",
    "ContextReport",
    "MultilabelScorer",
    "context_report",
    "neg_hamming_loss_scorer",
    "roc_auc_macro",
    "roc_auc_per_label",
    "roc_auc_macro_scorer",
    "tn_rate_macro_scorer",
    "true_negative_rate",
    "tune_thresholds",
]
