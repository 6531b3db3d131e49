"""Repository-wide pytest set-up: figures render off-screen (tests and doctests)."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
