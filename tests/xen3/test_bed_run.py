"""Tier 3: `python -m goxen.testbed.run` (what `./scons run app=NAME` runs) prints READY and
leaves no QEMU, TAP or network namespace behind when it is stopped."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from goxen import paths
from goxen.testbed import netns


def _start(xl, bed_images):
    kernel, initramfs = bed_images
    env = dict(os.environ, PYTHONPATH=str(paths.REPO / "site_scons"))
    return subprocess.Popen(
        [sys.executable, "-m", "goxen.testbed.run", "--xl", str(xl), "--dom0-kernel",
         str(kernel), "--dom0-initramfs", str(initramfs)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=env)


def _qemu_alive(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"qemu" in f.read()
    except FileNotFoundError:
        return False


# One real run (it boots a bed of its own); the other ways to stop (SIGTERM, end of stdin) are
# covered against a fake bed in tests/unit/test_testbed_run.py.
@pytest.mark.parametrize("stop", ["sigint"])
def test_run_prints_ready_and_cleans_up(bed_images, go_build, tmp_path, stop):
    kernel = go_build("hello")
    xl = tmp_path / "hello.xl"
    xl.write_text(f'name = "hello"\ntype = "pv"\nkernel = "{kernel}"\nmemory = 32\n')
    proc = _start(xl, bed_images)
    out = []
    ready = None
    try:
        deadline = time.monotonic() + 240
        for line in proc.stdout:
            out.append(line)
            print(line, end="", flush=True)
            if line.startswith("READY "):
                ready = line.strip()
                break
            if time.monotonic() > deadline:
                break
        assert ready, "no READY line:\n" + "".join(out)
        m = re.fullmatch(r"READY name=hello netns=(\S+)", ready)
        assert m, ready
        ns = m.group(1)
        assert ns in netns.list_namespaces()
        pids = re.findall(r"QEMU pid (\d+)", "".join(out))
        assert pids and all(_qemu_alive(p) for p in pids), "".join(out)
        # The guest's own line may follow READY (a loaded machine): wait for it before
        # stopping, so that the check below is about the run, not about timing.
        while "hello, xen" not in "".join(out) and time.monotonic() < deadline + 120:
            line = proc.stdout.readline()
            if not line:
                break
            out.append(line)
            print(line, end="", flush=True)
        if stop == "sigint":
            proc.send_signal(signal.SIGINT)
        else:
            proc.stdin.close()
            proc.stdin = None       # communicate() must not flush it
        rest, _ = proc.communicate(timeout=60)
        out.append(rest)
        print(rest, flush=True)
        assert proc.returncode == 0, "".join(out)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "hello, xen" in "".join(out)
    assert ns not in netns.list_namespaces(), "network namespace left behind"
    for p in pids:
        assert not _qemu_alive(p), f"QEMU {p} left behind"
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert netns.TAP not in links, "TAP device left behind in the host namespace"
