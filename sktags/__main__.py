"""``python -m sktags``: the command line (same as the ``sktags`` script)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
