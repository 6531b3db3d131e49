"""Lazy re-exports for a subpackage's ``__init__`` (PEP 562)."""

import importlib
import sys


def lazy_exports(package, exports, internal=None):
    """A subpackage's ``__all__``, and a ``__getattr__`` that imports each name on first use.

    Parameters
    ----------
    package : str
        The subpackage's ``__name__``.
    exports : dict of str to str
        Each public name mapped to the relative module that defines it.
    internal : dict of str to str, default=None
        Names importable the same way by the other subpackages, but left out of
        ``__all__`` (not public).

    Returns
    -------
    all_ : list of str
        The public names, to bind as ``__all__``.
    getattr_, dir_ : callable
        To bind as the subpackage's ``__getattr__`` and ``__dir__``.

    Examples
    --------
    >>> from sktags.utils import lazy_exports
    >>> all_, getattr_, dir_ = lazy_exports("sktags.utils", {"atomic_path": "._atomic"})
    >>> all_, getattr_("atomic_path").__name__
    (['atomic_path'], 'atomic_path')
    """
    public = list(exports)
    exports = {**exports, **(internal or {})}

    def __getattr__(name):
        if name in exports:
            return getattr(importlib.import_module(exports[name], package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return public, __getattr__, __dir__
