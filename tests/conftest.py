"""Shared pytest setup: the goxen Python package (site_scons/goxen) is importable everywhere."""

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "site_scons") not in sys.path:
    sys.path.insert(0, str(REPO / "site_scons"))


@pytest.fixture(scope="session")
def repo():
    """The repository's top directory."""
    return REPO
