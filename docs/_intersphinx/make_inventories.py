"""Write the offline intersphinx inventories of the projects the docs link to.

The documentation builds with ``-n -W`` (every cross-reference must resolve),
on machines that reach no documentation site, so the inventories that
:mod:`sphinx.ext.intersphinx` would download are built here instead, from the
installed packages: every public class and function of the modules listed
below, at the address its project's documentation gives it. Run it again after
adding a module::

    python docs/_intersphinx/make_inventories.py

An online build can use the projects' own inventories instead:
``SKTAGS_DOCS_ONLINE=1 python -m sphinx ...`` (see ``docs/conf.py``).
"""

import importlib
import inspect
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

# project -> (modules whose public names are listed, URI pattern for one object)
# In the patterns, {name} is the full dotted name and {module} the module's name.
PROJECTS = {
    "python": (
        ["os", "pathlib", "argparse", "warnings", "dataclasses", "functools", "pickle",
         "hashlib", "json", "csv", "multiprocessing", "concurrent.futures", "tempfile"],
        "library/{module}.html#{name}",
    ),
    "numpy": (["numpy", "numpy.random", "numpy.lib.format"],
              "reference/generated/{name}.html#{name}"),
    "scipy": (["scipy.fft", "scipy.signal", "scipy.special", "scipy.sparse"],
              "reference/generated/{name}.html#{name}"),
    "sklearn": (
        ["sklearn.base", "sklearn.pipeline", "sklearn.model_selection", "sklearn.metrics",
         "sklearn.preprocessing", "sklearn.utils", "sklearn.linear_model",
         "sklearn.multiclass", "sklearn.multioutput", "sklearn.frozen",
         "sklearn.exceptions"],
        "modules/generated/{name}.html#{name}",
    ),
    "joblib": (["joblib"], "generated/{name}.html#{name}"),
    "torch": (["torch", "torch.nn", "torch.optim", "torch.optim.lr_scheduler",
               "torch.utils.data", "torch.amp"],
              "generated/{name}.html#{name}"),
    "skorch": (["skorch.net", "skorch.callbacks", "skorch.dataset", "skorch.history"],
               "{page}.html#{name}"),
    "soundfile": (["soundfile"], "#{name}"),
    "librosa": (["librosa", "librosa.feature", "librosa.util", "librosa.filters"],
                "generated/{name}.html#{name}"),
}


def public_objects(module_name):
    """(full name, role) of the public classes and functions of a module."""
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return []
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    out = []
    for name in names:
        try:
            obj = getattr(module, name, None)
        except ImportError:  # e.g. scikit-learn's experimental names
            continue
        if inspect.isclass(obj):
            out.append((f"{module_name}.{name}", "py:class"))
            if name[:1].islower():  # a class used as a function (joblib.parallel_config)
                out.append((f"{module_name}.{name}", "py:function"))
            for meth, member in vars(obj).items():
                if not meth.startswith("_") and callable(member):
                    out.append((f"{module_name}.{name}.{meth}", "py:method"))
        elif inspect.isfunction(obj) or inspect.isbuiltin(obj) or callable(obj):
            out.append((f"{module_name}.{name}", "py:function"))
    out.append((module_name, "py:module"))
    return out


def write_inventory(project, entries, pattern, path):
    lines = []
    for name, role in sorted(set(entries)):
        module = name if role == "py:module" else name.rsplit(".", 1)[0]
        if role == "py:method":
            module = module.rsplit(".", 1)[0]
        page = module.split(".", 1)[1].replace(".", "/") if "." in module else module
        if role == "py:module":
            uri = pattern.format(name=name, module=name, page=page).split("#")[0] + "#module-" + name
            if project in ("numpy", "scipy", "sklearn", "joblib", "torch", "librosa"):
                uri = ""  # module pages differ by project: link to the site's root
        elif role == "py:method" and "{name}.html" in pattern:
            owner = name.rsplit(".", 1)[0]
            uri = pattern.format(name=owner, module=module, page=page).split("#")[0] + "#" + name
        else:
            uri = pattern.format(name=name, module=module, page=page)
        lines.append(f"{name} {role} 1 {uri} -")
    header = (f"# Sphinx inventory version 2\n# Project: {project}\n# Version: \n"
              "# The remainder of this file is compressed using zlib.\n")
    body = zlib.compress(("\n".join(lines) + "\n").encode())
    path.write_bytes(header.encode() + body)
    return len(lines)


def main():
    for project, (modules, pattern) in PROJECTS.items():
        entries = [e for m in modules for e in public_objects(m)]
        n = write_inventory(project, entries, pattern, HERE / f"{project}.inv")
        print(f"{project}: {n} objects")


if __name__ == "__main__":
    main()
