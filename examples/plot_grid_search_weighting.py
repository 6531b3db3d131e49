"""
Grid search over the weighting schemes (the paper's Table 2)
============================================================

The paper compares five ways of weighting the loss: no weights, negative
weights by exact match or by ignoring zeros, each optionally with TF-IDF
positive weights. Here they are one :class:`~sklearn.model_selection.GridSearchCV`
over a :class:`~sklearn.pipeline.Pipeline`, with

- artist-grouped, multilabel-stratified folds
  (:class:`~sktags.model_selection.MultilabelStratifiedGroupKFold`),
- the playlist counts that TF-IDF needs routed to the tagger and sliced per
  fold,
- the paper's metrics as scorers (:data:`sktags.metrics.SCORERS`).

Model selection uses the OBSERVED labels only, as it must in practice. The data
is **constructed** (:func:`sktags.demo.make_context_mixtures`), so the chosen
model can then be checked against the TRUE labels of held-out clips.

``python examples/plot_grid_search_weighting.py [--quick] [--out DIR]``
"""

# %%
import argparse

import numpy as np
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from sktags import CNNTagger, MelSpectrogramTransformer
from sktags.demo import make_context_mixtures
from sktags.metrics import SCORERS, context_report
from sktags.model_selection import MultilabelStratifiedGroupKFold
from sktags.weighting import TABLE2_CONFIGURATIONS, table2_param_grid

parser = argparse.ArgumentParser(description="Grid search over the weighting schemes")
parser.add_argument("--quick", action="store_true", help="tiny run for CI (seconds)")
parser.add_argument("--out", default=None, help="folder for the figure (default: none)")
args, _ = parser.parse_known_args()
n_train, n_test, epochs, n_splits = (36, 18, 1, 2) if args.quick else (240, 120, 20, 3)
duration, n_mels = (1.5, 32) if args.quick else (3.0, 48)

# %%
# Constructed clips; each clip gets a pseudo "artist" (12 of them) so that
# the folds can be grouped as the paper's were.
train = make_context_mixtures(n_train, clip_duration=duration, region=(0.0, 0.7),
                              random_state=0)
test = make_context_mixtures(n_test, clip_duration=duration, region=(0.7, 1.0),
                             random_state=1)
artists = np.arange(n_train) % 12

pipe = Pipeline([
    ("mel", MelSpectrogramTransformer(offset=0.0, duration=duration, n_mels=n_mels)),
    ("tagger", CNNTagger(filters=(16, 32, 64), hidden_units=64, lr=1.0,
                         max_epochs=epochs, device="cpu", random_state=0)),
])

# %%
# The five configurations of Table 2, as sktags defines them once
# (:data:`sktags.weighting.TABLE2_CONFIGURATIONS`), one candidate each.
search = GridSearchCV(
    pipe, table2_param_grid("tagger__weighting"),
    scoring={"roc_auc": SCORERS["roc_auc_macro"], "tn_rate": SCORERS["tn_rate_macro"],
             "neg_hamming": SCORERS["neg_hamming_loss"], "f1": "f1_macro"},
    refit="f1",
    cv=MultilabelStratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=0),
)
# ``tagger__playlist_counts`` is sliced per fold like X and y.
search.fit(train.data, train.target_observed, groups=artists,
           tagger__playlist_counts=train.playlist_counts)


# %%
# Cross-validated scores on the observed labels, one row per configuration.
def name(params):
    w = params["tagger__weighting"]
    return next(c.name for c in TABLE2_CONFIGURATIONS.values() if c.matches(w))


res = search.cv_results_
print(f"{'configuration':<24} {'AUC':>6} {'TN rate':>8} {'-HL':>7} {'F1':>6}")
for i, params in enumerate(res["params"]):
    print(f"{name(params):<24} {res['mean_test_roc_auc'][i]:6.3f} "
          f"{res['mean_test_tn_rate'][i]:8.3f} {res['mean_test_neg_hamming'][i]:7.3f} "
          f"{res['mean_test_f1'][i]:6.3f}")
print("selected:", name(search.best_params_))

# %%
# The selected model on held-out clips, against the TRUE labels and against the
# incomplete ones (all that real data offers).
scores = search.predict_proba(test.data)
for labels, what in ((test.target, "TRUE"), (test.target_observed, "OBSERVED")):
    report = context_report(labels, scores, target_names=test.target_names)
    print(f"\nTable 1 against the {what} labels:\n{report}")

# %%
if args.out:
    import os

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(args.out, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    labels = [name(p) for p in res["params"]]
    for key in ("roc_auc", "tn_rate", "f1"):
        ax.errorbar(labels, res[f"mean_test_{key}"], yerr=res[f"std_test_{key}"],
                    marker="o", capsize=3, label=key)
    ax.set_ylabel("cross-validated score (observed labels)")
    ax.legend()
    fig.savefig(os.path.join(args.out, "grid_search_weighting.png"), dpi=100,
                bbox_inches="tight")
    print("figure written to", args.out)
