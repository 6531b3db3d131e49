"""The ``sktags`` command line.

Subcommands: ``extract``, ``train``, ``tag``, ``evaluate``, ``fetch-previews``
and ``demo``; ``sktags <command> --help`` describes each. Exit status: 0 on
success, 2 on a usage error, 1 when the data or a file is at fault (reported as
one line on stderr; set ``SKTAGS_DEBUG=1`` for the full traceback), 130 when
interrupted.
"""

from ._main import build_parser, main

__all__ = ["build_parser", "main"]
