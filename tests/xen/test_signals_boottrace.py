"""os/signal and the boot timeline on GOOS=xen, booted as dom0 of Xen in QEMU.

A dom0 has no toolstack, so no shutdown request can arrive here (tests/xen3/test_shutdown.py
covers that delivery); the program signals itself with syscall.Kill as on Linux. What is checked here: Notify,
Stop, Ignore, Reset and NotifyContext neither block nor crash, os/signal's receive
goroutine parks instead of holding the only M, and a notified program still exits
normally. And boottrace=1 prints "goxen-boot: STAGE NS" for entry, runtime and main, in
that order, before the program's own output, in Xen system time (issue 9)."""

import re

from goxen.xenrun import Outcome

from xentest import explain

BOOT_LINE = re.compile(r"^goxen-boot: (\w+) (\d+)$")


def test_signal_api_without_signals(boot):
    r = boot("signals")
    assert r.outcome is Outcome.EXIT and r.status == 0, explain(r)
    got = [line for line in r.guest_lines
           if line != "exit status 0" and not line.startswith("xen: shim: ")]
    assert got == [
        "notify+stop: ok",
        "notify: ok",
        "sleeps while notified: 3",
        "ignored before: false",
        "ignored after Ignore: true",
        "ignored after Reset: true",    # as on Unix: Reset restores the default, Ignored remembers
        "ignored after Notify: false",
        "notify context: <nil> / context deadline exceeded",
        "self signal: user defined signal 1",
        "kill ignored, unhandled, signal 0, other pid: <nil> <nil> <nil> no such process",
        "done",
    ], explain(r)
    assert r.guest_lines[-1] == "exit status 0", explain(r)


def test_unhandled_sigterm_to_itself_ends_the_program(boot):
    """kill(getpid(), SIGTERM) without a handler: the default action, as Go on Linux."""
    r = boot("signals", ["selfterm"])
    assert r.outcome is Outcome.EXIT and r.status == 128 + 15, explain(r)
    assert "signal: terminated" in r.guest_lines, explain(r)
    assert "still running after SIGTERM" not in r.guest_lines, explain(r)


def _stages(r):
    return [(m.group(1), int(m.group(2)))
            for m in (BOOT_LINE.match(line) for line in r.guest_lines) if m]


def test_boottrace_stages_in_order(boot):
    r = boot("hello", ["boottrace=1"])
    assert r.outcome is Outcome.EXIT and r.status == 0, explain(r)
    stages = _stages(r)
    assert [s for s, _ in stages] == ["entry", "runtime", "main"], explain(r)
    times = [ns for _, ns in stages]
    # System time counts from Xen's boot, which came before this kernel's first
    # instruction; the stages follow each other within the run's own duration.
    assert 0 < times[0] <= times[1] <= times[2], explain(r)
    assert times[2] - times[0] < r.wall_seconds * 1e9, explain(r)
    lines = r.guest_lines
    assert lines.index("hello, xen") > max(i for i, l in enumerate(lines) if BOOT_LINE.match(l)), \
        explain(r)


def test_boottrace_off_by_default(boot):
    r = boot("hello", ["boottrace=0"])
    assert r.outcome is Outcome.EXIT and r.status == 0, explain(r)
    assert not any(l.startswith("goxen-boot:") for l in r.guest_lines), explain(r)
