"""Lazy re-exports for a subpackage's ``__init__`` (PEP 562)."""

import importlib
import sys


def lazy_exports(package, exports):
    """Module ``__getattr__`` and ``__dir__`` that import each name on first use.

    Parameters
    ----------
    package : str
        The subpackage's ``__name__``.
    exports : dict of str to str
        Each exported name mapped to the relative module that defines it.

    Returns
    -------
    getattr_, dir_ : callable
        To bind as the subpackage's ``__getattr__`` and ``__dir__``.

    Examples
    --------
    >>> from sktags.utils import lazy_exports
    >>> getattr_, dir_ = lazy_exports("sktags.utils", {"atomic_path": "._atomic"})
    >>> getattr_("atomic_path").__name__
    'atomic_path'
    """

    def __getattr__(name):
        if name in exports:
            return getattr(importlib.import_module(exports[name], package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
