"""Argument parsing and error handling shared by every subcommand."""

import argparse
import os
import sys

from .._version import __version__
from . import _demo, _embed, _evaluate, _extract, _fetch, _tag, _train
from ..utils import first_line
from ._errors import CLIError

_COMMANDS = (_extract, _train, _tag, _embed, _evaluate, _fetch, _demo)

_DESCRIPTION = """\
Context auto-tagging of music audio (Ibrahim et al., ICASSP 2020).

Typical use:
  sktags demo --out demo_out                         # offline end-to-end demo
  sktags extract audio/ -o feats.npy --cache .cache  # audio -> log-mel file
  sktags train feats.npy --labels labels.csv -o model.sktags
  sktags tag model.sktags song.mp3 --top-k 3
  sktags tag --pretrained msd song.mp3 --top-k 5     # musicnn's own tags, no model file
  sktags evaluate model.sktags test_feats.npy --labels test_labels.csv
"""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr (exit status 2).

    argparse prints the whole usage block before the message, which for
    ``sktags train`` is a dozen lines; the hint points to ``--help`` instead.
    Sub-parsers inherit this class through ``add_subparsers``.
    """

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser():
    """The :class:`argparse.ArgumentParser` of ``sktags`` and its subcommands."""
    parser = _Parser(
        prog="sktags",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Exit status: 0 success, 1 data or file error, 2 usage error, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"sktags {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in _COMMANDS:
        module.add_parser(sub)
    return parser


#: Commands that run faster with glibc's huge-page allocator setting: CNN training
#: frees and re-faults large activation buffers at every step (measured 1.36-1.54x
#: on a 2-core CPU; see benchmarks/bench_training.py and docs/performance.rst).
_ALLOCATOR_TUNED = ("train",)


def _reexec_with_allocator_settings():
    """Re-run ``sktags train`` with ``GLIBC_TUNABLES=glibc.malloc.hugetlb=1``.

    Only for the installed command (not ``main([...])`` calls), only on glibc
    Linux, and only when neither ``GLIBC_TUNABLES`` nor ``LD_PRELOAD`` is set;
    ``SKTAGS_MALLOC_TUNING=0`` turns it off. Allocator settings are read at
    process start, so they cannot be changed from within Python.
    """
    import platform

    if sys.platform != "linux" or len(sys.argv) < 2 or sys.argv[1] not in _ALLOCATOR_TUNED:
        return
    if os.environ.get("SKTAGS_MALLOC_TUNING", "1") == "0":
        return
    if "GLIBC_TUNABLES" in os.environ or "LD_PRELOAD" in os.environ:
        return
    if platform.libc_ver()[0] != "glibc":
        return
    env = dict(os.environ, GLIBC_TUNABLES="glibc.malloc.hugetlb=1", SKTAGS_MALLOC_TUNING="0")
    try:
        os.execve(sys.executable, [sys.executable, "-m", "sktags", *sys.argv[1:]], env)
    except OSError:
        return  # run as we are


def main(argv=None):
    """Run the ``sktags`` command line.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments, without the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    status : int
        0 on success, 1 on a data or file error (one line on stderr), 2 on a
        usage error, 130 when interrupted, 141 when stdout is closed early (a
        broken pipe, quietly).
    """
    if argv is None:
        _reexec_with_allocator_settings()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version or a usage error
        return exc.code if isinstance(exc.code, int) else 2
    debug = os.environ.get("SKTAGS_DEBUG", "") not in ("", "0")
    try:
        status = args.run(args)
        sys.stdout.flush()
    except KeyboardInterrupt:
        print(f"sktags {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``sktags evaluate ... | head -1``): stop quietly.
        _silence_stdout()
        return _EXIT_BROKEN_PIPE
    except (CLIError, ValueError, OSError, RuntimeError) as exc:
        if debug:
            raise
        message = first_line(exc)
        hint = "" if isinstance(exc, CLIError) else " (SKTAGS_DEBUG=1 shows the traceback)"
        print(f"sktags {args.command}: error: {message}{hint}", file=sys.stderr)
        return getattr(exc, "status", 1)
    return 0 if status is None else int(status)


#: Exit status after a broken pipe, as a shell reports a process killed by SIGPIPE.
_EXIT_BROKEN_PIPE = 141


def _silence_stdout():
    """Point stdout at /dev/null so that the interpreter's final flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (captured)
        pass
