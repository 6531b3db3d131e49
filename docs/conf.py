"""Sphinx configuration of the sktags documentation."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))
sys.path.insert(0, os.path.abspath(os.path.dirname(__file__)))
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
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

# Cross-references to the projects sktags builds on. The docs build with
# ``-n -W`` on machines that reach no documentation site, so the inventories
# are read from docs/_intersphinx/ (written by make_inventories.py there from
# the installed packages); SKTAGS_DOCS_ONLINE=1 downloads the projects' own.
_ONLINE = os.environ.get("SKTAGS_DOCS_ONLINE") == "1"
_SITES = {
    "python": "https://docs.python.org/3/",
    "numpy": "https://numpy.org/doc/stable/",
    "scipy": "https://docs.scipy.org/doc/scipy/",
    "sklearn": "https://scikit-learn.org/stable/",
    "joblib": "https://joblib.readthedocs.io/en/stable/",
    "torch": "https://pytorch.org/docs/stable/",
    "skorch": "https://skorch.readthedocs.io/en/stable/",
    "soundfile": "https://python-soundfile.readthedocs.io/en/latest/",
    "librosa": "https://librosa.org/doc/latest/",
}
intersphinx_mapping = {
    name: (url, None if _ONLINE else os.path.join("_intersphinx", f"{name}.inv"))
    for name, url in _SITES.items()
}
intersphinx_disabled_reftypes = ["std:doc"]

# The examples, rendered as a gallery and run with their quick settings.
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Run the plot_* scripts; the others need data or hours and are shown as code.
    "filename_pattern": r"/plot_",
    "reset_argv": "_gallery.quick_argv",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
}

exclude_patterns = ["_build", "_intersphinx", "Thumbs.db", ".DS_Store"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"

autosummary_generate = True
# Classes are documented by autodoc (members included), without autosummary's
# tables of inherited torch / skorch attributes, whose targets are not documented.
templates_path = ["_templates"]
autosummary_imported_members = True
# Inherited members too (CNNTagger's prediction methods live in a mixin);
# scikit-learn's, skorch's and torch's own are skipped below.
autodoc_default_options = {"members": True, "inherited-members": True}
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
