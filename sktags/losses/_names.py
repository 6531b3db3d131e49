"""The loss names, without importing torch (the command line lists them in its help).

The registry :data:`sktags.losses.LOSSES` maps each name to its class, in
this order; a test checks that the two agree.
"""

#: The names that ``loss=`` and ``sktags train --loss`` accept.
LOSS_NAMES = ("bce", "wan", "label_smoothing", "asl", "hill", "splc", "em", "ll_r", "ll_ct",
              "epr", "role", "track_consistency")
