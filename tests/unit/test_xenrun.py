"""Host-only tests of the tier-2 runner (goxen.xenrun): command line, console verdicts, and
process handling against a fake `qemu` that acts out what its -initrd words say."""

import os
import signal
import sys
import subprocess
import time

import pytest

from goxen import xenrun
from goxen.xenrun import Console, Dom0Run, Outcome, WaitError, XenRunError

# -- command line --------------------------------------------------------------------------


def _opt(cmd, name):
    return cmd[cmd.index(name) + 1]


def test_qemu_command_boots_xen_with_the_kernel_as_dom0():
    cmd = xenrun.qemu_command("/k/hello.xen", "/x/xen", ["-test.v", "a=b"], mem=96)
    assert cmd[0] == "qemu-system-x86_64"
    assert _opt(cmd, "-machine") == "q35,accel=tcg"
    assert _opt(cmd, "-cpu") == "max,-smap,-avx,-avx2,-xsave,-rdtscp"
    assert _opt(cmd, "-serial") == "stdio"
    assert _opt(cmd, "-display") == "none"
    assert "-no-reboot" in cmd
    assert _opt(cmd, "-kernel") == "/x/xen"
    assert _opt(cmd, "-initrd") == "/k/hello.xen -test.v a=b"
    xen = _opt(cmd, "-append").split()
    for arg in ("console=com1", "noreboot", "dom0_max_vcpus=1", "dom0_mem=96M,max:96M",
                "bootscrub=0", "guest_loglvl=all"):
        assert arg in xen
    assert int(_opt(cmd, "-m")) >= 96 + 128


def test_qemu_command_options():
    cmd = xenrun.qemu_command("/k", "/x", qemu="/bin/fake", qemu_mem=1024,
                              extra_xen_args=["sync_console"], extra_qemu_args=["-smp", "2"])
    assert cmd[0] == "/bin/fake"
    assert _opt(cmd, "-m") == "1024"
    assert _opt(cmd, "-append").endswith("sync_console")
    assert _opt(cmd, "-smp") == "2"
    assert _opt(cmd, "-initrd") == "/k"


def test_cpus_give_the_machine_and_the_dom0_that_many():
    assert xenrun.cpus_args(4) == (["-smp", "4"], ["dom0_max_vcpus=4"])
    with pytest.raises(XenRunError, match="at least 1"):
        xenrun.cpus_args(0)


def test_commas_are_doubled_for_qemus_module_list():
    cmd = xenrun.qemu_command("/k,1", "/x", ["-test.run=A,B"])
    assert _opt(cmd, "-initrd") == "/k,,1 -test.run=A,,B"


@pytest.mark.parametrize("words", [["a b"], [""], ["tab\there"], ["x" * 1024]])
def test_bad_cmdline_words_are_refused(words):
    with pytest.raises(XenRunError):
        xenrun.qemu_command("/k", "/x", words)


def test_kernel_path_with_space_is_refused():
    with pytest.raises(XenRunError, match="whitespace"):
        xenrun.qemu_command("/my dir/k", "/x")


# -- console verdicts ----------------------------------------------------------------------

XEN_BOOT = ["(XEN) Xen version 4.17.7", "(XEN) *** Building a PV Dom0 ***",
            "(XEN) Freed 656kB init memory"]


def _verdict(lines, **kw):
    c = Console()
    for text in lines:
        c.feed(text)
    return c, c.verdict(**kw)


def test_exit_status_then_halt():
    c, v = _verdict(XEN_BOOT + ["hello, xen", "exit status 0\r",
                                "(XEN) Hardware Dom0 halted: halting machine"])
    assert c.finished
    assert v == (Outcome.EXIT, 0, "exit status 0")


def test_last_exit_status_line_wins():
    _, v = _verdict(["exit status 9", "exit status 3", "(XEN) Hardware Dom0 halted: halting machine"])
    assert v[:2] == (Outcome.EXIT, 3)


def test_exit_status_must_be_the_whole_line():
    c, v = _verdict(["child: exit status 4", "(XEN) Hardware Dom0 halted: halting machine"])
    assert c.exit_status is None
    assert v[0] is Outcome.NO_STATUS


def test_go_panic_is_a_crash():
    c, v = _verdict(XEN_BOOT + [
        "panic: boom", "", "goroutine 1 [running]:", "main.main()",
        "\t/src/main.go:4 +0x25",
        "(XEN) Hardware Dom0 crashed: 'noreboot' set - not rebooting."])
    assert c.finished
    assert v[0] is Outcome.CRASH and v[1] is None
    assert "Hardware Dom0 crashed" in v[2]


def test_crash_wins_over_an_exit_line():
    _, v = _verdict(["exit status 0", "(XEN) Hardware Dom0 crashed: 'noreboot' set - not rebooting."])
    assert v[0] is Outcome.CRASH


def test_unhandled_fault_is_a_crash():
    _, v = _verdict(XEN_BOOT + [
        "(XEN) d0v0 Unhandled: vec 14, #PF[0002]",
        "(XEN) domain_crash_sync called from entry.S: fault at ffff82d040204b78",
        "(XEN) Domain 0 (vcpu#0) crashed on cpu#0:",
        "(XEN) Hardware Dom0 crashed: 'noreboot' set - not rebooting."])
    assert v[0] is Outcome.CRASH


def test_xen_panic():
    c, v = _verdict(["(XEN) *** Building a PV Dom0 ***", "(XEN) ", "(XEN) " + "*" * 40,
                     "(XEN) Panic on CPU 0:", "(XEN) Could not construct domain 0",
                     "(XEN) " + "*" * 40, "(XEN) Manual reset required ('noreboot' specified)"])
    assert c.finished
    assert v == (Outcome.XEN_PANIC, None, "Xen panicked: Could not construct domain 0")


def test_reboot_without_status():
    _, v = _verdict(["(XEN) Hardware Dom0 shutdown: rebooting machine"], qemu_returncode=0)
    assert v[0] is Outcome.NO_STATUS and "rebooted" in v[2]


def test_timeout():
    c, v = _verdict(XEN_BOOT + ["sleeping"], timed_out=True)
    assert not c.finished
    assert v == (Outcome.TIMEOUT, None, "timed out")
    _, v = _verdict(["exit status 0"], timed_out=True)
    assert v[0] is Outcome.TIMEOUT and "did not power off" in v[2]


def test_qemu_error():
    _, v = _verdict([], qemu_returncode=1,
                    tail=["qemu-system-x86_64: could not load kernel '/x'"])
    assert v[0] is Outcome.QEMU_ERROR and "could not load kernel" in v[2]


def test_stopped():
    _, v = _verdict(XEN_BOOT, qemu_returncode=-9, stopped=True)
    assert v[0] is Outcome.STOPPED


def test_exit_codes():
    r = xenrun.Result(Outcome.EXIT, 3, "", [], 0.0, 0.0, 0, [])
    assert r.exit_code == 3 and not r.ok
    assert xenrun.Result(Outcome.EXIT, 0, "", [], 0.0, 0.0, 0, []).ok
    codes = {o: xenrun.Result(o, None, "", [], 0.0, 0.0, 0, []).exit_code
             for o in Outcome if o is not Outcome.EXIT}
    assert codes[Outcome.CRASH] == 2 and codes[Outcome.TIMEOUT] == 124
    assert len(set(codes.values())) == len(codes)


def test_proc_cpu_seconds_of_self():
    t = time.process_time()
    while time.process_time() - t < 0.2:
        pass
    assert xenrun.proc_cpu_seconds(os.getpid()) >= 0.15


# -- process handling with a fake qemu -----------------------------------------------------

FAKE_QEMU = """\
#!{python}
# Fake qemu-system-x86_64: acts out the words after the kernel in -initrd, in order.
#   say=TEXT (underscores become spaces)  part=TEXT (no newline)  sleep=S  burn=S (busy CPU)
#   child=PIDFILE (start a sleeping child in our group, write its pid)  pid=PIDFILE (our pid)
#   exit=N  hang
import os, subprocess, sys, time
argv = sys.argv
module = argv[argv.index("-initrd") + 1].replace(",,", ",")
words = module.split()[1:]
out = sys.stdout
for w in words:
    key, _, val = w.partition("=")
    text = val.replace("_", " ")
    if key == "say":
        out.write(text + "\\r\\n"); out.flush()
    elif key == "part":
        out.write(text); out.flush()
    elif key == "sleep":
        time.sleep(float(val))
    elif key == "burn":
        t = time.process_time()
        while time.process_time() - t < float(val):
            pass
    elif key == "pid":
        open(val, "w").write(str(os.getpid()))
    elif key == "child":
        p = subprocess.Popen(["sleep", "600"])
        open(val, "w").write(str(p.pid))
    elif key == "exit":
        sys.exit(int(val))
    elif key == "hang":
        while True:
            time.sleep(1)
"""

HALT = "say=(XEN)_Hardware_Dom0_halted:_halting_machine"
CRASH = "say=(XEN)_Hardware_Dom0_crashed:_'noreboot'_set_-_not_rebooting."


@pytest.fixture
def fake(tmp_path):
    qemu = tmp_path / "fake-qemu"
    qemu.write_text(FAKE_QEMU.format(python=sys.executable))
    qemu.chmod(0o755)
    kernel = tmp_path / "kernel.xen"
    kernel.write_bytes(b"\x7fELF")
    xen = tmp_path / "xen"
    xen.write_bytes(b"\x7fELF")

    def run(words, timeout=20, **kw):
        return Dom0Run(kernel, words, timeout=timeout, xen=xen, qemu=str(qemu), **kw)
    run.tmp = tmp_path
    return run


def _gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie child of someone else still answers kill(0); look at its state.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_exit_status_and_qemu_killed_after_halt(fake):
    seen = []
    t = time.monotonic()
    with fake(["say=(XEN)_booting", "say=hello,_xen", "say=exit_status_3", HALT, "hang"],
              on_line=seen.append) as run:
        result = run.wait()
        pid = run.pid
    assert time.monotonic() - t < 10
    assert result.outcome is Outcome.EXIT and result.status == 3, result.summary()
    assert result.guest_lines == ["hello, xen", "exit status 3"]
    assert "(XEN) booting\n" in result.console
    assert [line.text for line in seen] == [line.text for line in result.lines]
    assert all(b.elapsed >= a.elapsed for a, b in zip(seen, seen[1:]))
    assert abs(seen[0].wall - time.time()) < 30
    assert result.qemu_returncode == -signal.SIGKILL
    assert _gone(pid)


def test_crash_outcome(fake):
    with fake(["say=panic:_boom", CRASH, "hang"]) as run:
        result = run.wait()
    assert result.outcome is Outcome.CRASH
    assert result.exit_code == 2


def test_timeout_kills_the_whole_process_group(fake):
    pidfile = fake.tmp / "child.pid"
    t = time.monotonic()
    with fake([f"child={pidfile}", "say=started", "hang"], timeout=2) as run:
        result = run.wait()
    assert 1.9 < time.monotonic() - t < 8
    assert result.outcome is Outcome.TIMEOUT
    assert 1.9 < result.wall_seconds < 8
    assert _gone(run.pid)
    child = int(pidfile.read_text())
    for _ in range(50):
        if _gone(child):
            break
        time.sleep(0.1)
    assert _gone(child), "QEMU's process group was not killed"


def test_wait_for_and_cpu_time(fake):
    with fake(["say=booted", "burn=0.6", "say=marker_1", "sleep=0.5", "say=later", "hang"]) as run:
        line = run.wait_for(r"^marker \d$", timeout=10)
        assert line.text == "marker 1"
        assert run.cpu_seconds() >= 0.4
        later = run.wait_for("later", timeout=10)
        assert later.elapsed >= line.elapsed + 0.4
        with pytest.raises(WaitError, match="within"):
            run.wait_for("never", timeout=0.3)
        pid = run.pid
    assert run.result.outcome is Outcome.STOPPED
    assert run.result.cpu_seconds >= 0.4
    assert _gone(pid)


def test_wait_for_after_the_end_raises(fake):
    with fake(["say=exit_status_0", HALT, "hang"]) as run:
        run.wait()
        assert run.wait_for("exit status", timeout=1).text == "exit status 0"
        with pytest.raises(WaitError, match="run ended"):
            run.wait_for("never", timeout=5)


def test_interrupt_kills_qemu(fake):
    with pytest.raises(KeyboardInterrupt):
        with fake(["say=up", "hang"]) as run:
            run.wait_for("up", timeout=10)
            pid = run.pid
            raise KeyboardInterrupt
    assert _gone(pid)
    assert run.result.outcome is Outcome.STOPPED


def test_qemu_failing_by_itself(fake):
    result = fake(["say=qemu:_could_not_load_kernel", "exit=1"]).wait()
    assert result.outcome is Outcome.QEMU_ERROR
    assert result.qemu_returncode == 1
    assert "could not load kernel" in result.reason


def test_partial_last_line_is_kept(fake):
    result = fake(["say=exit_status_5", "part=(XEN)_Hardware_Dom0_halted", "exit=0"]).wait()
    assert result.lines[-1].text == "(XEN) Hardware Dom0 halted"
    assert result.outcome is Outcome.EXIT and result.status == 5


def test_missing_qemu_and_kernel(fake, tmp_path):
    with pytest.raises(XenRunError, match="cannot start"):
        Dom0Run(fake.tmp / "kernel.xen", xen=fake.tmp / "xen", qemu=str(tmp_path / "nope")).start()
    with pytest.raises(XenRunError, match="not found"):
        Dom0Run(tmp_path / "missing.xen", xen=fake.tmp / "xen").start()


def test_command_line_exit_code(fake, capsys):
    args = ["--qemu", str(fake.tmp / "fake-qemu"), "--xen", str(fake.tmp / "xen"),
            "--timeout", "20", str(fake.tmp / "kernel.xen")]
    assert xenrun.main(args + ["say=hi", "say=exit_status_7", HALT, "hang"]) == 7
    out, err = capsys.readouterr()
    assert "] hi\n" in out and "exit status 7" in err
    assert xenrun.main(["-q"] + args + ["say=hi", CRASH, "hang"]) == 2
    out, _ = capsys.readouterr()
    assert out == "hi\n"
    assert xenrun.main(args[:-2] + ["1", args[-1], "hang"]) == 124


def _runner_process(fake):
    """The command line runner in a process of its own; returns it and the fake QEMU's pid."""
    pidfile = fake.tmp / "qemu.pid"
    site = os.path.dirname(os.path.dirname(xenrun.__file__))
    env = dict(os.environ, PYTHONPATH=site)
    proc = subprocess.Popen([sys.executable, "-m", "goxen.xenrun", "--qemu",
                             str(fake.tmp / "fake-qemu"), "--xen", str(fake.tmp / "xen"),
                             str(fake.tmp / "kernel.xen"), f"pid={pidfile}", "say=up", "hang"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert b"] up" in proc.stdout.readline()
    return proc, int(pidfile.read_text())


def _wait_gone(pid, seconds=5):
    end = time.monotonic() + seconds
    while time.monotonic() < end and not _gone(pid):
        time.sleep(0.05)
    return _gone(pid)


@pytest.mark.parametrize("sig, rc", [(signal.SIGTERM, 128 + signal.SIGTERM),
                                     (signal.SIGINT, 130)])
def test_signalled_runner_kills_qemu(fake, sig, rc):
    proc, qemu = _runner_process(fake)
    proc.send_signal(sig)
    assert proc.wait(timeout=10) == rc
    assert _wait_gone(qemu)


def test_killed_runner_leaves_no_qemu(fake):
    proc, qemu = _runner_process(fake)
    proc.kill()
    proc.wait(timeout=10)
    assert _wait_gone(qemu), "QEMU outlived a SIGKILLed runner"
