"""sktags.utils.lazy_exports: the lazy re-exports of the subpackages."""

import importlib
import sys

import pytest

from sktags.utils import lazy_exports

LAZY = ["sktags.features", "sktags.inference", "sktags.losses", "sktags.models", "sktags.utils"]


@pytest.mark.parametrize("package", LAZY)
def test_every_export_is_the_object_of_its_module(package):
    mod = importlib.import_module(package)
    table = {**mod._EXPORTS, **getattr(mod, "_INTERNAL", {})}
    assert set(mod._EXPORTS) <= set(mod.__all__) <= set(mod._EXPORTS) | {"lazy_exports"}
    assert not set(getattr(mod, "_INTERNAL", {})) & set(mod.__all__)
    for name, where in table.items():
        assert getattr(mod, name) is getattr(importlib.import_module(where, package), name)
        assert name in dir(mod)
    with pytest.raises(AttributeError, match=f"module '{package}' has no attribute 'nope'"):
        getattr(mod, "nope")


def test_names_are_imported_on_first_use_only(tmp_path, monkeypatch):
    pkg = tmp_path / "lazypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "from sktags.utils import lazy_exports\n"
        "__all__, __getattr__, __dir__ = lazy_exports(__name__, {'A': '._a'}, {'B': '._a'})\n")
    (pkg / "_a.py").write_text("A, B = 1, 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = importlib.import_module("lazypkg")
    assert "lazypkg._a" not in sys.modules and mod.__all__ == ["A"]
    assert (mod.A, mod.B) == (1, 2) and "lazypkg._a" in sys.modules
    assert {"A", "B"} <= set(dir(mod))
    del sys.modules["lazypkg._a"], sys.modules["lazypkg"]
    assert lazy_exports("x", {})[0] == []
