"""The tier-2 runner against real Xen in QEMU, with the minipv assembler kernel (no Go needed):
each way a dom0 run can end gives its own outcome, CPU time is measured, QEMU always goes."""

import os
import shutil
import subprocess
import time

import pytest

from goxen import debian, elfnotes
from goxen.xenrun import Dom0Run, Outcome, run_kernel

from xentest import echo, explain


def _boot(minipv, xen, words, timeout=60):
    return run_kernel(minipv, words, timeout=timeout, xen=xen, on_line=echo)


def _gone(pid):
    return not os.path.exists(f"/proc/{pid}")


def test_exit_status(minipv, xen_hypervisor):
    r = _boot(minipv, xen_hypervisor, ["e", "exit", "status", "3"])
    assert r.outcome is Outcome.EXIT and r.status == 3, explain(r)
    assert r.guest_lines == ["minipv: start", "exit status 3"], explain(r)
    assert "(XEN) Hardware Dom0 halted" in r.console
    assert r.wall_seconds < 20 and r.cpu_seconds > 0


def test_shutdown_crash(minipv, xen_hypervisor):
    r = _boot(minipv, xen_hypervisor, ["c", "crashing"])
    assert r.outcome is Outcome.CRASH, explain(r)
    assert r.exit_code == 2
    assert "crashing" in r.guest_lines


def test_unhandled_fault_crashes(minipv, xen_hypervisor):
    r = _boot(minipv, xen_hypervisor, ["f"])
    assert r.outcome is Outcome.CRASH, explain(r)
    assert "Unhandled" in r.console and "cr2: 00007ff000000000" in r.console


def test_poweroff_without_status(minipv, xen_hypervisor):
    r = _boot(minipv, xen_hypervisor, ["e"])
    assert r.outcome is Outcome.NO_STATUS, explain(r)


def test_reboot_ends_qemu(minipv, xen_hypervisor):
    r = _boot(minipv, xen_hypervisor, ["r"])
    assert r.outcome is Outcome.NO_STATUS and "rebooted" in r.reason, explain(r)


def test_not_a_pv_kernel_is_a_xen_panic(tmp_path, xen_hypervisor):
    kernel = tmp_path / "true.elf"
    shutil.copy("/bin/true", kernel)
    r = run_kernel(kernel, timeout=60, xen=xen_hypervisor, on_line=echo)
    assert r.outcome is Outcome.XEN_PANIC, explain(r)
    assert "Could not construct domain 0" in r.reason


def test_timeout_kills_qemu(minipv, xen_hypervisor):
    t = time.monotonic()
    with Dom0Run(minipv, ["s", "asleep"], timeout=8, xen=xen_hypervisor, on_line=echo) as run:
        pid = run.pid
        r = run.wait()
    assert r.outcome is Outcome.TIMEOUT, explain(r)
    assert time.monotonic() - t < 15
    assert _gone(pid)


def test_cmdline_reaches_the_guest(minipv, xen_hypervisor):
    words = ["e", "-test.run=A,B", "-test.v", "x=1"]
    r = _boot(minipv, xen_hypervisor, words)
    assert "-test.run=A,B -test.v x=1" in r.guest_lines, explain(r)


@pytest.mark.parametrize("mode, low, high", [("s", 0.0, 0.5), ("b", 0.15, 10.0)])
def test_cpu_time_tells_idle_from_busy(minipv, xen_hypervisor, mode, low, high):
    """The idle test's method: QEMU's CPU time over 3 s of a blocked vs a spinning vCPU
    A spinning vCPU keeps QEMU busy (a full core on a quiet machine, 0.5 s of 3 s seen on a
    loaded one), a blocked one does not; the bounds only need to tell the two apart."""
    with Dom0Run(minipv, [mode, "marker"], timeout=60, xen=xen_hypervisor, on_line=echo) as run:
        run.wait_for("^marker$", timeout=40)
        c0, t0 = run.cpu_seconds(), time.monotonic()
        time.sleep(3)
        used, window = run.cpu_seconds() - c0, time.monotonic() - t0
        pid = run.pid
    print(f"{mode}: QEMU used {used:.2f} s of CPU in {window:.2f} s")
    assert low <= used <= high
    assert _gone(pid)


def test_notes_tools_accept_minipv(minipv):
    """The note checks used on Go images, on a kernel known to boot."""
    notes = elfnotes.check(minipv, pvh=False)   # a PV-only kernel
    assert notes["LOADER"] == "generic"
    proc = subprocess.run(debian.readnotes() + [str(minipv)], env=debian.readnotes_env(),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "GUEST_OS: minipv" in proc.stdout and "HYPERCALL_PAGE:" in proc.stdout
