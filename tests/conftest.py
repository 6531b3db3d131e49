"""Shared fixtures. Tests that need ../shared skip when it is absent."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SKTAGS_SHARED", ROOT.parent / "shared"))
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def shared_dir():
    """Path to ../shared (read-only research data); skip when absent."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent")
    return SHARED


@pytest.fixture(scope="session")
def deezer_dir(shared_dir):
    d = shared_dir / "data" / "deezer_context"
    if not d.is_dir():
        pytest.skip(f"{d} is absent")
    return d


@pytest.fixture(scope="session")
def fixtures_dir():
    return FIXTURES


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Run tests on one torch thread when torch is loaded.

    The tests train tiny nets, which run several times faster on one thread on
    a busy 2-core machine; the global setting is restored afterwards.
    """
    import sys

    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
