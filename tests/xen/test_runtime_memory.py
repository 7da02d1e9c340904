"""Issue 3's runtime checks in tier 2: memory (GC under churn, out of memory), entropy,
timers at scale, and the kernel command line as os.Args and environment."""

import re

from goxen.xenrun import Outcome

from xentest import explain


def test_gc_keeps_up_with_ten_times_the_domain(boot):
    r = boot("churn", mem=64)
    assert r.outcome is Outcome.EXIT and r.status == 0, explain(r)
    m = re.search(r"^churned (\d+) MiB, (\d+) GCs", r.guest_output, re.M)
    assert m and int(m.group(1)) >= 640 and int(m.group(2)) > 10, explain(r)


def test_default_memory_limit_keeps_a_half_full_domain_alive(boot):
    # 28 MiB live in a 48 MiB domain: GOGC=100's heap goal alone (56 MiB) does not fit.
    r = boot("memlimit", mem=48, timeout=180)
    assert r.outcome is Outcome.EXIT and r.status == 0, explain(r)
    m = re.search(r"^memory limit (\d+) MiB \(GOMEMLIMIT=\"\"\)$", r.guest_output, re.M)
    assert m and 30 <= int(m.group(1)) < 48, explain(r)
    assert re.search(r"^live 28 MiB, churned 400 MiB, \d+ GCs", r.guest_output, re.M), explain(r)


def test_gomemlimit_off_turns_the_default_limit_off(boot):
    r = boot("memlimit", mem=48, timeout=180, cmdline=("env.GOMEMLIMIT=off",))
    assert 'memory limit 8796093022207 MiB (GOMEMLIMIT="off")' in r.guest_lines, explain(r)
    # Without the limit the heap goal outgrows the domain: a clear out-of-memory crash.
    assert r.outcome is Outcome.CRASH, explain(r)
    assert "fatal error: out of memory" in r.guest_output, explain(r)


def test_out_of_memory_is_a_clear_crash(boot):
    r = boot("oom", mem=64, timeout=120)
    assert r.outcome is Outcome.CRASH, explain(r)
    assert "fatal error: out of memory" in r.guest_output, explain(r)
    assert "xen: out of memory" in r.guest_output, explain(r)
    assert "holding 32 MiB" in r.guest_lines, explain(r)


def _entropy(boot):
    r = boot("entropy")
    assert r.outcome is Outcome.EXIT and r.status == 0, explain(r)
    c = re.search(r"^crypto/rand ([0-9a-f]{64})$", r.guest_output, re.M)
    m = re.search(r"^math/rand (\d+)$", r.guest_output, re.M)
    assert c and m, explain(r)
    return c.group(1), m.group(1)


def test_two_boots_get_different_entropy(boot):
    a, b = _entropy(boot), _entropy(boot)
    assert a[0] != b[0], "crypto/rand gave the same bytes in two boots"
    assert a[1] != b[1], "math/rand/v2 gave the same value in two boots (runtime seed)"


def test_thousand_sleeping_goroutines_wake_on_time(boot):
    r = boot("timers", timeout=120)
    assert r.outcome is Outcome.EXIT and r.status == 0, explain(r)
    m = re.search(r"^woke 1000 goroutines in (\S+); early (\d+); worst lateness (\S+)$",
                  r.guest_output, re.M)
    assert m, explain(r)
    assert m.group(2) == "0", explain(r)
    worst = m.group(3)
    # Under TCG a wakeup may be late by scheduling work, but not by more than 200 ms.
    ms = float(worst[:-2]) if worst.endswith("ms") else (float(worst[:-1]) * 1000 if worst.endswith("s") else 0.0)
    assert ms < 200, explain(r)


def test_command_line_becomes_args_and_environment(boot):
    """The one parser (runtime/cmdline_xen.go): env.K=V words are the environment, the
    kernel's own parameters (ip=, gw=, cwd=, ...) stay out of os.Args, and `--` ends them."""
    r = boot("cmdline", cmdline=("-v", "name=x", "ip=10.9.9.9/24", "cwd=/dev", "env.GREETING=hi",
                                 "env.GOMAXPROCS=4", "--", "ip=1", "env.X=y"))
    assert r.outcome is Outcome.EXIT and r.status == 0, explain(r)
    assert 'args ["-v" "name=x" "ip=1" "env.X=y"]' in r.guest_lines, explain(r)
    assert 'cwd "/dev"' in r.guest_lines, explain(r)
    assert 'GREETING="hi" MISSING=""' in r.guest_lines, explain(r)
    assert "GOMAXPROCS 4 NumCPU 1" in r.guest_lines, explain(r)    # from env.GOMAXPROCS=4
    assert "GOMAXPROCS 2" in r.guest_lines, explain(r)             # runtime.GOMAXPROCS(2)
