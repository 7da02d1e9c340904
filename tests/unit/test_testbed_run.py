"""`python -m goxen.testbed.run` against a fake bed: READY lines, the three ways to stop, and
failures (no QEMU involved; the real run is tested in tests/xen3/test_bed_run.py)."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

SITE = Path(__file__).resolve().parents[2] / "site_scons"

FAKE = textwrap.dedent('''
    import sys, types
    from goxen.testbed import bed as bedmod, run
    MODE = sys.argv.pop(1)

    class Dom:
        def __init__(self, name, ip, on_line):
            self.name, self.ip, self.console = name, ip, "boot line\\n"
            on_line(types.SimpleNamespace(text="hello from the guest"))
        def info(self):
            return bedmod.DomainInfo(self.name, 1, "-b----", None)

    class FakeNetns:
        name = "gxbedfake-1"
        def ping(self, addr, count=1, wait=1):
            return MODE != "noping"

    class FakeBed:
        def __init__(self, *a, **k):
            self.netns, self.boot_seconds, self.qemu_pid, self.run = FakeNetns(), 1.0, 4242, None
            self.running = True
        def start(self):
            if MODE == "slowboot":
                print("BOOTING", flush=True)
                import time; time.sleep(60)
            if MODE == "noboot":
                raise bedmod.BedError("no Xen today")
        def create(self, name, kernel, xl, ramdisk=None, on_line=None):
            if MODE == "badcreate":
                raise bedmod.BedError("xl create failed: bad kernel")
            return Dom(name, bedmod.cmdline_ip(bedmod.xl_value(xl, "extra")), on_line)
        def close(self):
            print("CLOSED", flush=True)

    bedmod.Bed = FakeBed
    sys.exit(run.main(sys.argv[1:]))
''')


def _start(tmp_path, mode, extra=""):
    script = tmp_path / "fake_run.py"
    script.write_text(FAKE)
    xl = tmp_path / "app.xl"
    xl.write_text(f'name = "app"\nkernel = "/k/app.xen"\nextra = "{extra}"\n')
    env = dict(os.environ, PYTHONPATH=str(SITE))
    return subprocess.Popen([sys.executable, str(script), mode, "--xl", str(xl), "--ping-timeout",
                             "2"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _wait_ready(proc):
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("READY"):
            return line.strip(), lines
    pytest.fail("no READY line: " + "".join(lines) + proc.stderr.read())


@pytest.mark.parametrize("how", ["eof", "sigterm", "sigint"])
def test_ready_then_stop(tmp_path, how):
    proc = _start(tmp_path, "ok", extra="ip=10.0.0.2/24 gw=10.0.0.1")
    ready, lines = _wait_ready(proc)
    assert ready == "READY name=app ip=10.0.0.2 netns=gxbedfake-1"
    assert "hello from the guest\n" in lines
    time.sleep(0.3)
    assert proc.poll() is None, "run ended before it was told to"
    if how != "eof":
        proc.send_signal(signal.SIGTERM if how == "sigterm" else signal.SIGINT)
        proc.wait(timeout=20)                   # stops without end of stdin
    out, err = proc.communicate(timeout=20)     # closes stdin: the eof case
    why = {"eof": "end of stdin", "sigterm": "SIGTERM", "sigint": "SIGINT"}[how]
    assert f"stopping ({why})" in err
    assert proc.returncode == 0, err
    assert "CLOSED" in out
    assert "torn down" in err


def test_ready_without_network(tmp_path):
    proc = _start(tmp_path, "ok")
    ready, _ = _wait_ready(proc)
    assert ready == "READY name=app netns=gxbedfake-1"
    proc.communicate(timeout=20)
    assert proc.returncode == 0


@pytest.mark.parametrize("mode, message", [
    ("noboot", "did not boot: no Xen today"),
    ("badcreate", "xl create failed: bad kernel"),
    ("noping", "did not answer ping within 2 s"),
])
def test_failures_exit_nonzero_and_tear_down(tmp_path, mode, message):
    proc = _start(tmp_path, mode, extra="ip=10.0.0.2/24")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1, (out, err)
    assert message in err
    assert "READY" not in out
    assert "CLOSED" in out


def test_ctrl_c_during_boot_stops_at_once(tmp_path):
    proc = _start(tmp_path, "slowboot")
    assert proc.stdout.readline().strip() == "BOOTING"
    t = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert time.monotonic() - t < 10
    assert proc.returncode == 130, err
    assert "CLOSED" in out and "READY" not in out


def test_machine_cpus_follow_a_pv_guests_vcpus_and_keep_pvh_on_one(monkeypatch):
    sys.path.insert(0, str(SITE))
    from goxen.testbed import run
    monkeypatch.setattr(run.os, "cpu_count", lambda: 2)
    assert run.machine_cpus('kernel = "k"\n') == 1
    assert run.machine_cpus('type = "pv"\nvcpus = 2\n') == 2
    assert run.machine_cpus('type = "pv"\nvcpus = 4\n') == 2      # no more than the host has
    assert run.machine_cpus('type = "pvh"\nvcpus = 2\n') == 1
