"""Helpers shared by the tier-2 tests (a module of its own: conftest modules are not importable
by name when several directories have one)."""

import os

import pytest


def must_not_skip():
    return os.environ.get("CI") == "true" or os.environ.get("GOXEN_REQUIRE_XEN") == "1"


def unavailable(reason):
    """Skip for a missing test-bed piece; under CI (or GOXEN_REQUIRE_XEN=1) fail instead."""
    if must_not_skip():
        pytest.fail(f"test bed incomplete: {reason}", pytrace=False)
    pytest.skip(reason)


def explain(result, last=80):
    """Assertion text: the verdict and the console's last lines (Xen's boot log left out)."""
    lines = [line.text for line in result.lines]
    for i, text in enumerate(lines):
        if "*** Building a PV Dom0 ***" in text:
            lines = lines[i:]
            break
    cut = ""
    if len(lines) > last:
        cut = f"({len(lines) - last} lines before these left out)\n"
        lines = lines[-last:]
    body = "".join(text + "\n" for text in lines)
    return f"{result.summary()}\n--- console ---\n{cut}{body}--- end ---"


def echo(line):
    # Captured by pytest and shown for a failing test (or live with -s).
    print(f"[{line.elapsed:8.3f}] {line.text}", flush=True)


def assert_idle_costs_little(dom0, cpus=1):
    """Boot progs/idle on `cpus` vCPUs and check that QEMU used little CPU while it slept 5 s:
    every vCPU blocks in Xen instead of spinning."""
    from goxen.xenrun import Outcome
    with dom0("idle", cpus=cpus) as run:
        start = run.wait_for(r"^idle: sleeping 5s$", timeout=60)
        cpu0 = run.cpu_seconds()
        end = run.wait_for(r"^idle: awake$", timeout=60)
        used = run.cpu_seconds() - cpu0
        window = end.elapsed - start.elapsed
        r = run.wait()
    print(f"QEMU used {used:.2f} s of CPU while the guest ({cpus} vCPUs) slept "
          f"({window:.2f} s host time)")
    assert r.outcome is Outcome.EXIT and r.status == 0, explain(r)
    assert window >= 4.0, f"the guest slept only {window:.2f} s of host time\n{explain(r)}"
    assert used < 2.5, f"QEMU used {used:.2f} s of CPU in a {window:.2f} s idle sleep\n{explain(r)}"
