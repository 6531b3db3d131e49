"""Sphinx configuration of the sktags documentation."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))
os.environ.setdefault("MPLBACKEND", "Agg")

import sktags  # noqa: E402

project = "sktags"
author = "sktags developers"
copyright = "2026, sktags developers"
version = release = sktags.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
]

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"

autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True}
autodoc_typehints = "none"

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "alabaster"
html_title = f"sktags {release}"
html_static_path = []
html_theme_options = {
    "description": "Context auto-tagging of music audio, the scikit-learn way",
    "fixed_sidebar": True,
}


# --------------------------------------------------------------------------- hooks
import re  # noqa: E402

def _skip_foreign_members(app, what, name, obj, skip, options):
    """Document sktags' own members, not those scikit-learn adds or defines.

    scikit-learn generates ``set_*_request`` methods and provides
    ``get_params``, ``score`` and friends; their docstrings refer to
    scikit-learn's own documentation and are described there.
    """
    if re.fullmatch(r"set_\w+_request", name):
        return True
    module = getattr(obj, "__module__", None) or ""
    if module.startswith(("sklearn", "skorch", "torch")):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_members)
