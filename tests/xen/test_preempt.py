"""Tier 2: Go's scheduler on the thread layer (runtime/thread_xen.go). Goroutines spinning in
loops without function calls are preempted asynchronously (sysmon runs as a thread, the
event upcall delivers the request as SIGURG does), so 10 ms sleeps in the same program wake;
with GODEBUG=asyncpreemptoff=1 a loop that calls functions is still preempted cooperatively.
Bounds are generous (QEMU under load): they tell "wakes" from "never wakes"."""

import re

from goxen.xenrun import Outcome

from xentest import explain

LATE_MAX_MS = 1000.0


def _spin(boot, *words):
    r = boot("spin", cmdline=words, timeout=180)
    assert r.outcome is Outcome.EXIT and r.status == 0, explain(r)
    m = re.search(r"^spin: sleeps=(\d+) late_max_ms=(\S+) late_p50_ms=(\S+) spins=(\d+) "
                  r"gomaxprocs=(\d+)$", r.guest_output, re.M)
    assert m, explain(r)
    sleeps, late_max, spins = int(m.group(1)), float(m.group(2)), int(m.group(4))
    print(m.group(0))
    return sleeps, late_max, spins, int(m.group(5))


def test_sleeps_wake_while_a_goroutine_spins_without_calls(boot):
    sleeps, late_max, spins, procs = _spin(boot, "spinners=1", "sleeps=100")
    assert sleeps == 100 and procs == 1
    assert spins > 0                        # the spinner ran
    assert late_max < LATE_MAX_MS           # and was taken off the P for the sleeper


def test_sleeps_wake_when_xens_timer_fires_before_the_guests_deadline(boot):
    """Xen's one-shot timer can fire while the guest's clock still reads a time before the
    deadline it set (seen as PVH under QEMU, up to 1.7 ms). The thread layer must set the
    timer again; when it took the deadline for still armed, nothing woke sysmon while a
    goroutine spun, and the guest stalled. timerearly= sets every timer 3 ms early."""
    sleeps, late_max, spins, _ = _spin(boot, "spinners=1", "sleeps=100", "timerearly=3000000")
    assert sleeps == 100 and spins > 0
    assert late_max < LATE_MAX_MS


def test_a_bad_timerearly_is_named_and_ignored(boot):
    r = boot("spin", cmdline=("spinners=1", "sleeps=10", "timerearly=3ms"), timeout=180)
    assert r.outcome is Outcome.EXIT and r.status == 0, explain(r)
    assert "xen: timerearly=3ms: not a number of nanoseconds, ignored" in r.guest_output, explain(r)
    assert re.search(r"^spin: sleeps=10 ", r.guest_output, re.M), explain(r)


def test_more_spinners_than_procs(boot):
    sleeps, late_max, spins, procs = _spin(boot, "spinners=3", "sleeps=30", "gomaxprocs=2")
    assert sleeps == 30 and procs == 2 and spins > 0
    assert late_max < LATE_MAX_MS


def test_cooperative_preemption_with_asyncpreemptoff(boot):
    sleeps, late_max, spins, _ = _spin(boot, "env.GODEBUG=asyncpreemptoff=1", "calls=1",
                                       "sleeps=30")
    assert sleeps == 30 and spins > 0
    assert late_max < LATE_MAX_MS
