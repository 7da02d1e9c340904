"""Issue 2's "must show" list for the GOOS=xen runtime, each a Go program booted as dom0 of
Xen 4.17 in QEMU: output, exit status, crashes with Go traces, goroutines and timers, clocks,
and an idle guest that blocks in Xen."""

import re

from goxen.xenrun import Outcome

from xentest import assert_idle_costs_little, explain


def test_hello(boot):
    r = boot("hello")
    assert r.outcome is Outcome.EXIT and r.status == 0, explain(r)
    assert "hello, xen" in r.guest_lines, explain(r)
    assert r.guest_lines[-1] == "exit status 0", explain(r)


def test_os_exit_status(boot):
    r = boot("exit3")
    assert r.outcome is Outcome.EXIT and r.status == 3, explain(r)
    assert "exiting with 3" in r.guest_lines, explain(r)


def _assert_go_trace(r):
    out = r.guest_output
    assert re.search(r"^goroutine 1 \[running\]:$", out, re.M), explain(r)
    assert re.search(r"^main\.main\(\)$", out, re.M), explain(r)
    assert re.search(r"^\s+\S*/main\.go:\d+", out, re.M), explain(r)


def test_nil_pointer_dereference_crashes_with_trace(boot):
    r = boot("nilptr")
    assert r.outcome is Outcome.CRASH, explain(r)
    assert "dereferencing nil" in r.guest_lines, explain(r)
    assert "invalid memory address or nil pointer dereference" in r.guest_output, explain(r)
    _assert_go_trace(r)


def test_panic_crashes_with_trace(boot):
    r = boot("panic")
    assert r.outcome is Outcome.CRASH, explain(r)
    assert "panic: boom" in r.guest_lines, explain(r)
    _assert_go_trace(r)


def test_goroutines_channels_select_waitgroup_sleep(boot):
    r = boot("goroutines")
    assert r.outcome is Outcome.EXIT and r.status == 0, explain(r)
    got = [line for line in r.guest_lines
           if line != "exit status 0" and not line.startswith("xen: shim: ")]
    assert got == ["sum of squares: 385", "select: timer first", "select: late",
                   "ping-pong: 1000", "ticks: 5", "counter: 10000", "done"], explain(r)


def test_wall_clock_matches_host(boot):
    r = boot("clock")
    assert r.outcome is Outcome.EXIT and r.status == 0, explain(r)
    line = next((l for l in r.lines if l.text.startswith("now ")), None)
    assert line is not None, explain(r)
    guest = int(line.text.split()[1]) / 1e9
    skew = guest - line.wall
    print(f"guest clock - host clock at the line's arrival: {skew:+.3f} s")
    assert abs(skew) < 5, f"guest time {line.text} is {skew:+.1f} s off the host\n{explain(r)}"


def test_sleep_two_seconds_by_guest_clock(boot):
    r = boot("sleep")
    assert r.outcome is Outcome.EXIT and r.status == 0, explain(r)
    start = next((l for l in r.lines if l.text == "sleeping 2s"), None)
    end = next((l for l in r.lines if l.text.startswith("slept ")), None)
    assert start and end, explain(r)
    slept = int(end.text.split()[1]) / 1e9
    print(f"guest measured {slept:.3f} s; host saw {end.elapsed - start.elapsed:.3f} s")
    assert 1.8 <= slept <= 2.2, explain(r)


def test_idle_guest_uses_little_cpu(dom0):
    assert_idle_costs_little(dom0)
