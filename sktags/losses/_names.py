"""The loss names, without importing torch (the command line lists them in its help).

The registry :data:`sktags.losses.LOSSES` maps each name to its class, in
this order; a test checks that the two agree.
"""

#: The names that ``loss=`` and ``sktags train --loss`` accept.
LOSS_NAMES = ("bce", "wan", "label_smoothing", "asl", "hill", "splc", "em", "ll_r", "ll_ct",
              "epr", "role", "track_consistency")

#: What to use when labels are incomplete, chosen on ``benchmarks/bench_missing_labels.py``
#: alone (hidden AllMusic moods of real music, see :doc:`/incomplete_labels`): large-loss
#: rejection with its published schedule. ``loss=RECOMMENDED`` and
#: ``sktags train --loss ll_r`` use it.
RECOMMENDED = "ll_r"
