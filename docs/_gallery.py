"""Sphinx-Gallery hooks of the sktags documentation (named in conf.py)."""

import tempfile


def quick_argv(gallery_conf, script_vars):
    """Run every example with ``--quick``, the tiny settings CI uses.

    ``--out`` makes the examples draw their figures, which the gallery shows;
    the PNG files they also write go to a temporary folder.
    """
    return ["--quick", "--out", tempfile.mkdtemp(prefix="sktags-gallery-")]
