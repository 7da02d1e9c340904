"""Helpers for the example apps' host tests: build an app with the wheel's Go for linux/amd64,
run it on loopback, fetch Debian's memcached tools (goxen.debian, unpacked, not installed)."""

import os
import socket
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WHEEL_GO = REPO / ".venv" / "lib" / "python3.11" / "site-packages" / "go" / "bin" / "go"

#: Debian packages of the real memcached and libmemcached-tools, and the libraries they need
#: beyond a minimal Debian.
MEMCACHED_DEBS = ["memcached", "libmemcached-tools", "libmemcached11", "libmemcachedutil2",
                  "libhashkit2", "libevent-2.1-7"]


def go_env(tmp):
    env = dict(os.environ, GOTOOLCHAIN="local", GOOS="linux", GOARCH="amd64", CGO_ENABLED="0",
               GOFLAGS="-mod=mod")
    env.setdefault("GOCACHE", str(REPO / "build" / "gocache-host"))
    env.setdefault("GOPATH", str(Path(tmp) / "gopath"))
    return env


def build(app, out_dir):
    """go build ./apps/<app> for linux/amd64; return the binary's path."""
    out = Path(out_dir) / app
    print(f"building apps/{app} for linux/amd64", flush=True)
    subprocess.run([str(WHEEL_GO), "build", "-o", str(out), f"./apps/{app}"], cwd=REPO,
                   env=go_env(out_dir), check=True, timeout=600)
    return out


def go_test(pkg, tmp):
    return subprocess.run([str(WHEEL_GO), "test", "-count=1", pkg], cwd=REPO, env=go_env(tmp),
                          capture_output=True, text=True, timeout=600)


def free_port():
    """A port free on 127.0.0.1 for both TCP and UDP (checked, then released)."""
    for _ in range(50):
        with socket.socket() as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                try:
                    u.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port")


def wait_tcp(port, proc, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
