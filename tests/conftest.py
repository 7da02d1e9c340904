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


def pytest_configure(config):
    config.addinivalue_line("markers", "soak: long runs (100 MB transfers under faults, the kvstore soak); only with "
                                       "-m soak (./scons soak), left out otherwise")


def pytest_collection_modifyitems(config, items):
    """Soak tests run only when a -m expression asks for them (./scons soak: -m soak)."""
    if config.option.markexpr:
        return
    soak = [i for i in items if i.get_closest_marker("soak")]
    if soak:
        config.hook.pytest_deselected(items=soak)
        items[:] = [i for i in items if not i.get_closest_marker("soak")]


def pytest_terminal_summary(terminalreporter):
    """Every defensive retry the tier-3 bed made in this session (xl repeated, bed booted
    again): with XSAVE off in QEMU the number should be 0, and a regression shows here."""
    from goxen.testbed import bed
    terminalreporter.write_line(bed.retry_report())
