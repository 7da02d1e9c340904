"""Tier-2 test runner: boot a PV kernel as the dom0 of Xen 4.17 inside QEMU (TCG).

QEMU loads Xen with multiboot (`-kernel xen -append XENARGS`) and hands it the kernel as the
first module (`-initrd "KERNEL CMDLINE"`); Xen builds dom0 from it. The dom0's console writes
(CONSOLEIO_write) and Xen's own `(XEN) ...` lines both reach the first serial port, which QEMU
sends to its stdout. The runner reads that stream line by line, stamps each line with host
times, and decides the outcome from what the guest and Xen print:

    exit status N                                guest's final line (the runtime prints it, then
                                                 shuts down with reason poweroff)
    (XEN) Hardware Dom0 halted: halting machine  dom0 powered off
    (XEN) Hardware Dom0 crashed: ...             dom0 shut down with reason crash, or Xen
                                                 crashed it (an unhandled fault)
    (XEN) Hardware Dom0 shutdown: rebooting ...  dom0 asked for a reboot (QEMU exits: -no-reboot)
    (XEN) Panic on CPU 0: ...                    Xen itself gave up (e.g. it could not build dom0)

With `noreboot` on Xen's command line a halted, crashed or panicked machine just halts (no
5-second reboot delay), so the runner kills QEMU itself once it has seen one of the final Xen
lines above; QEMU is always killed (its whole process group) when the run ends, on timeout,
on error and on KeyboardInterrupt.

API:
    with Dom0Run(kernel, cmdline=["-test.v"], mem=64, timeout=60) as run:
        line = run.wait_for(r"^sleeping", timeout=30)   # -> Line (text, elapsed, wall)
        cpu0 = run.cpu_seconds()                         # QEMU user+sys CPU so far
        result = run.wait()                              # -> Result
    result = run_kernel(kernel, ...)                     # the same in one call
    result.outcome (Outcome.EXIT/CRASH/TIMEOUT/XEN_PANIC/NO_STATUS/QEMU_ERROR), result.status,
    result.console, result.guest_lines, result.cpu_seconds, result.wall_seconds, result.reason

Command line (site_scons on sys.path):
    python -m goxen.xenrun [--timeout S] [--mem MB] [--xen PATH] [-q] KERNEL [cmdline words...]
exits with the guest's status; see EXIT_CODES for the other outcomes.
"""

import argparse
import enum
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

QEMU = "qemu-system-x86_64"
#: TCG only (KVM here cannot run Xen). The one CPU model of every QEMU the project starts
#: (tier 2, the tier-3 bed, `./scons run`, the bench, `go test -exec`):
#:   -smap    PV kernel pages are user pages and TCG's IRET frame read trips SMAP;
#:   -avx,-avx2  QEMU 7.2 TCG computes some AVX2 results wrongly;
#:   -xsave   QEMU 7.2 TCG corrupts XSAVE state across process switches (measured: 11 of 1,336
#:            checked SHA-256 rounds wrong in a Linux domU with it, 0 of 1,351 without; xl in
#:            the dom0 dying with rc 134/139); Xen and Linux fall back to FXSAVE;
#:   -rdtscp  Xen's SVM path cannot decode RDTSCP under TCG (no NRIP save), so a PVH guest
#:            dies at its first RDTSCP; PV guests lose nothing (Go then uses LFENCE; RDTSC).
#: tests/xen3/test_bed_health.py checks the first three in the bed's Linux domU.
QEMU_MACHINE = "q35,accel=tcg"
QEMU_CPU = "max,-smap,-avx,-avx2,-xsave,-rdtscp"
#: Xen command line: console on the first serial port, every message, a single-vCPU dom0;
#: `noreboot` so that a crashed or halted machine stops at once instead of rebooting after 5 s;
#: `bootscrub=0` so that Xen's idle loop does not spend seconds of emulated CPU scrubbing free
#: RAM after boot (measured: 0.4 s of QEMU CPU in the first 5 s of an idle dom0 with it, 0.0 s
#: without), which would blur the idle-CPU measurements.
XEN_ARGS = (
    "console=com1", "com1=115200,8n1", "loglvl=all", "guest_loglvl=all",
    "dom0_max_vcpus=1", "noreboot", "bootscrub=0",
)
DEFAULT_MEM_MB = 64
DEFAULT_TIMEOUT = 120.0
#: Xen 4.17 caps a guest's command line (start_info.cmd_line) at 1024 bytes with the NUL.
MAX_CMDLINE = 1023
#: Seconds to keep reading after Xen's final line, to catch anything still in flight.
GRACE = 0.5


class Outcome(enum.Enum):
    EXIT = "exit"              # `exit status N`, then the dom0 powered off (or QEMU ended)
    CRASH = "crash"            # the dom0 shut down with reason crash, or Xen crashed it
    TIMEOUT = "timeout"        # no final line before the deadline
    XEN_PANIC = "xen-panic"    # Xen panicked (e.g. "Could not construct domain 0")
    NO_STATUS = "no-status"    # the dom0 powered off or rebooted without an `exit status N` line
    QEMU_ERROR = "qemu-error"  # QEMU ended by itself before any final line
    STOPPED = "stopped"        # the caller closed the run (or was interrupted) before its end


#: Process exit codes of the command line for outcomes other than EXIT (which exits with N).
#: CRASH is 2 like a fatal Go panic on Linux; TIMEOUT is 124 like timeout(1).
EXIT_CODES = {
    Outcome.CRASH: 2,
    Outcome.NO_STATUS: 123,
    Outcome.TIMEOUT: 124,
    Outcome.XEN_PANIC: 125,
    Outcome.QEMU_ERROR: 126,
    Outcome.STOPPED: 130,
}


class XenRunError(RuntimeError):
    """QEMU could not be started, or the arguments cannot be passed to the guest."""


class WaitError(RuntimeError):
    """Dom0Run.wait_for did not see its line (timeout, or the run ended first)."""


@dataclass(frozen=True)
class Line:
    text: str       # the line without its line ending
    elapsed: float  # host seconds since QEMU started
    wall: float     # host time.time() when the line arrived

    @property
    def from_xen(self):
        return self.text.startswith("(XEN)")


@dataclass
class Result:
    outcome: Outcome
    status: int | None          # the guest's exit status (Outcome.EXIT only)
    reason: str                 # one line saying what happened
    lines: list[Line] = field(repr=False)
    cpu_seconds: float          # QEMU's user+sys CPU time, all threads
    wall_seconds: float
    qemu_returncode: int | None
    command: list[str] = field(repr=False)

    @property
    def console(self):
        return "".join(line.text + "\n" for line in self.lines)

    @property
    def guest_lines(self):
        """The dom0's own console lines (Xen's `(XEN) ...` lines left out)."""
        return [line.text for line in self.lines if not line.from_xen]

    @property
    def guest_output(self):
        return "".join(text + "\n" for text in self.guest_lines)

    @property
    def ok(self):
        return self.outcome is Outcome.EXIT and self.status == 0

    @property
    def exit_code(self):
        """What the command line exits with."""
        if self.outcome is Outcome.EXIT:
            return self.status
        return EXIT_CODES[self.outcome]

    def summary(self):
        return (f"{self.reason} (outcome {self.outcome.value}, wall {self.wall_seconds:.1f} s, "
                f"qemu cpu {self.cpu_seconds:.1f} s)")


# ---------------------------------------------------------------------------------------------
# Command line construction (pure)

def _module_escape(text):
    # QEMU's -initrd for multiboot separates modules with ",": a literal comma is written ",,".
    return text.replace(",", ",,")


def guest_cmdline(words):
    """The dom0 command line for a list of words; each word must be free of whitespace."""
    words = [str(w) for w in words]
    for w in words:
        if not w or any(c.isspace() for c in w):
            raise XenRunError(f"guest command-line word {w!r} is empty or contains whitespace")
    line = " ".join(words)
    if len(line.encode()) > MAX_CMDLINE:
        raise XenRunError(f"guest command line is {len(line.encode())} bytes; Xen keeps at most "
                          f"{MAX_CMDLINE}")
    return line


def xen_cmdline(mem=DEFAULT_MEM_MB, xen_args=XEN_ARGS, extra=()):
    """Xen's own command line: the fixed arguments, dom0 memory, then extra arguments."""
    return " ".join([*xen_args, f"dom0_mem={mem}M,max:{mem}M", *extra])


def cpus_args(cpus):
    """(extra QEMU args, extra Xen args) for a machine of cpus CPUs whose dom0 has as many
    vCPUs: QEMU's multi-threaded TCG runs each on its own host thread."""
    if cpus < 1:
        raise XenRunError(f"cpus must be at least 1, not {cpus}")
    return ["-smp", str(cpus)], [f"dom0_max_vcpus={cpus}"]


def qemu_memory(mem):
    """QEMU RAM for a dom0 of mem MB: the dom0 plus room for Xen's heap and frame table."""
    return max(256, mem + 128)


def qemu_command(kernel, xen, cmdline=(), mem=DEFAULT_MEM_MB, *, qemu=QEMU, qemu_mem=None,
                 xen_args=XEN_ARGS, extra_xen_args=(), extra_qemu_args=(), modules=(),
                 wrapper=()):
    """argv that boots Xen with kernel (a PV ELF) as dom0, console on QEMU's stdout.

    modules are further multiboot modules after the kernel (e.g. the dom0's initramfs, which
    Xen hands to the dom0); wrapper is an argv prefix QEMU runs under (e.g. `ip netns exec NS`,
    which execs QEMU, so the process is still QEMU itself).
    """
    paths = [str(kernel), *(str(m) for m in modules)]
    for path in paths:
        if any(c.isspace() for c in path):
            raise XenRunError(f"module path {path!r} contains whitespace, which QEMU's "
                              "multiboot module list cannot carry")
    module = paths[0]
    words = guest_cmdline(cmdline)
    if words:
        module += " " + words
    module = ",".join(_module_escape(m) for m in [module, *paths[1:]])
    return [
        *wrapper,
        qemu,
        "-machine", QEMU_MACHINE,
        "-cpu", QEMU_CPU,
        "-m", str(qemu_mem or qemu_memory(mem)),
        "-display", "none",
        "-serial", "stdio",
        "-no-reboot",
        *extra_qemu_args,
        "-kernel", str(xen),
        "-append", xen_cmdline(mem, xen_args, extra_xen_args),
        "-initrd", module,
    ]


# ---------------------------------------------------------------------------------------------
# Console parsing (pure)

EXIT_RE = re.compile(r"^exit status (\d+)$")
CRASH_RE = re.compile(r"^\(XEN\) .*(?:Hardware Dom\d+|Domain 0) crashed:")
HALT_RE = re.compile(r"^\(XEN\) .*(?:Hardware Dom\d+|Domain 0) halted")
REBOOT_RE = re.compile(r"^\(XEN\) .*(?:Hardware Dom\d+|Domain 0) shutdown[: ]")
PANIC_RE = re.compile(r"^\(XEN\) .*Panic on CPU \d+:")


class Console:
    """Follows the console line by line and knows when the run has reached its end."""

    def __init__(self):
        self.exit_status = None
        self.crash = None       # Xen's "crashed" line
        self.halt = None        # Xen's "halted" line
        self.reboot = None      # Xen's "shutdown ..." line
        self.panic = None       # Xen's panic message (the line after "Panic on CPU N:")
        self._in_panic = False

    @property
    def finished(self):
        """True once Xen has printed a line after which nothing else happens."""
        return bool(self.crash or self.halt or self.reboot or self._in_panic)

    def feed(self, text):
        text = text.rstrip()
        if self._in_panic and self.panic is None and text.startswith("(XEN) "):
            msg = text[6:].strip()
            if msg and not msg.startswith("****"):
                self.panic = msg
        m = EXIT_RE.match(text)
        if m:
            self.exit_status = int(m.group(1))
        elif CRASH_RE.match(text):
            self.crash = self.crash or text[6:].strip()
        elif HALT_RE.match(text):
            self.halt = self.halt or text[6:].strip()
        elif REBOOT_RE.match(text):
            self.reboot = self.reboot or text[6:].strip()
        elif PANIC_RE.match(text):
            self._in_panic = True

    def verdict(self, timed_out=False, qemu_returncode=None, tail=(), stopped=False):
        """(outcome, status, reason) for a run that has ended."""
        if self.crash:
            return Outcome.CRASH, None, f"dom0 crashed ({self.crash})"
        if self._in_panic:
            return Outcome.XEN_PANIC, None, f"Xen panicked: {self.panic or '(no message)'}"
        if self.halt or self.reboot:
            if self.exit_status is not None:
                return Outcome.EXIT, self.exit_status, f"exit status {self.exit_status}"
            how = "powered off" if self.halt else "rebooted"
            return Outcome.NO_STATUS, None, f"dom0 {how} without an `exit status N` line"
        if stopped:
            return Outcome.STOPPED, None, "stopped by the caller before the run ended"
        if timed_out:
            extra = ""
            if self.exit_status is not None:
                extra = f" (it printed `exit status {self.exit_status}` but did not power off)"
            return Outcome.TIMEOUT, None, f"timed out{extra}"
        if self.exit_status is not None and qemu_returncode == 0:
            return Outcome.EXIT, self.exit_status, f"exit status {self.exit_status}"
        last = " | ".join(t for t in list(tail)[-3:] if t.strip())
        return (Outcome.QEMU_ERROR, None,
                f"QEMU exited with status {qemu_returncode} before Xen's final line"
                + (f": {last}" if last else ""))


# ---------------------------------------------------------------------------------------------
# Process helpers

_CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu_seconds(pid):
    """user+sys CPU seconds of a live process (all its threads), from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def _die_with_parent():
    """In the child before exec: SIGKILL it when the thread that started it dies, so that even
    a runner killed with SIGKILL leaves no QEMU behind (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def default_xen():
    """The Xen hypervisor ELF from the Debian test-bed parts (downloaded on first use)."""
    from goxen import debian
    return debian.xen_hypervisor()


def print_line(line, file=None):
    """The default console echo: `[elapsed] text`."""
    print(f"[{line.elapsed:8.3f}] {line.text}", file=file or sys.stdout, flush=True)


# ---------------------------------------------------------------------------------------------
# The run

class Dom0Run:
    """One QEMU+Xen boot of a dom0 kernel; a context manager that always kills QEMU.

    A reader thread consumes the console; it enforces `timeout` (seconds from start) by
    itself, so a run never outlives its deadline even if nobody calls wait(). QEMU runs in a
    session of its own (killed as a group) and gets SIGKILL if the thread that called start()
    dies, so call start() (or enter the with block) from a thread that outlives the run.
    """

    def __init__(self, kernel, cmdline=(), mem=DEFAULT_MEM_MB, timeout=DEFAULT_TIMEOUT, *,
                 xen=None, on_line=None, qemu=QEMU, qemu_mem=None, xen_args=XEN_ARGS,
                 extra_xen_args=(), extra_qemu_args=(), modules=(), wrapper=(),
                 grace=GRACE):
        self.kernel = Path(kernel)
        self.timeout = timeout
        self.grace = grace
        self.on_line = on_line
        self._xen = xen
        self._cmd_args = dict(cmdline=list(cmdline), mem=mem, qemu=qemu, qemu_mem=qemu_mem,
                              xen_args=xen_args, extra_xen_args=extra_xen_args,
                              extra_qemu_args=extra_qemu_args,
                              modules=[Path(m).resolve() for m in modules],
                              wrapper=list(wrapper))
        self.command = None
        self.console = Console()
        self.lines = []
        self._cond = threading.Condition()
        self._proc = None
        self._reader = None
        self._reaped = False
        self._kill_lock = threading.Lock()
        self._timed_out = False
        self._stopped = False
        self._cpu = 0.0
        self._t0 = None
        self._wall = None
        self._result = None

    # -- lifecycle --

    def start(self):
        if self._proc is not None:
            raise XenRunError("run already started")
        if not self.kernel.is_file():
            raise XenRunError(f"kernel {self.kernel} not found")
        xen = Path(self._xen) if self._xen is not None else default_xen()
        if not xen.is_file():
            raise XenRunError(f"Xen hypervisor {xen} not found")
        self.command = qemu_command(self.kernel.resolve(), xen, **self._cmd_args)
        self._t0 = time.monotonic()
        try:
            # A session of its own: the whole group is killed at the end.
            self._proc = subprocess.Popen(self.command, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                          start_new_session=True, preexec_fn=_die_with_parent)
        except OSError as e:
            raise XenRunError(f"cannot start {self.command[0]}: {e}") from e
        self._reader = threading.Thread(target=self._read, name="xenrun-console", daemon=True)
        self._reader.start()
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        """Kill QEMU if it still runs and wait for the reader to finish."""
        if self._proc is None:
            return
        with self._cond:
            if self._result is None:
                self._stopped = True
        self.kill()
        if self._reader is not None:
            self._reader.join()

    def kill(self):
        """Kill QEMU's process group (no-op once QEMU has been reaped)."""
        with self._kill_lock:
            if self._proc is None or self._reaped:
                return
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    @property
    def pid(self):
        return self._proc.pid if self._proc else None

    @property
    def running(self):
        return self._proc is not None and not self._reaped

    # -- the reader thread --

    def _add_line(self, raw):
        text = raw.decode("utf-8", "replace").rstrip("\r")
        line = Line(text, time.monotonic() - self._t0, time.time())
        with self._cond:
            self.lines.append(line)
            self.console.feed(text)
            self._cond.notify_all()
        if self.on_line is not None:
            try:
                self.on_line(line)
            except Exception as e:  # a broken callback must not stop the reader
                print(f"xenrun: on_line callback failed: {e!r}; echo disabled", file=sys.stderr)
                self.on_line = None

    def _sample_cpu(self):
        try:
            self._cpu = proc_cpu_seconds(self._proc.pid)
        except (OSError, ValueError, IndexError):
            pass

    def _read(self):
        fd = self._proc.stdout.fileno()
        buf = b""
        deadline = self._t0 + self.timeout if self.timeout else None
        end_at = None
        try:
            while True:
                now = time.monotonic()
                if end_at is not None and now >= end_at:
                    break
                if deadline is not None and now >= deadline and end_at is None:
                    self._timed_out = True
                    break
                wait = 0.2
                for t in (end_at, deadline):
                    if t is not None:
                        wait = min(wait, max(0.0, t - now))
                ready, _, _ = select.select([fd], [], [], wait)
                self._sample_cpu()
                if not ready:
                    continue
                data = os.read(fd, 65536)
                if not data:
                    break
                buf += data
                while b"\n" in buf:
                    raw, buf = buf.split(b"\n", 1)
                    self._add_line(raw)
                if end_at is None and self.console.finished:
                    end_at = time.monotonic() + self.grace
        finally:
            self._sample_cpu()
            self.kill()
            # Whatever is still buffered in the pipe, then a final partial line.
            try:
                while select.select([fd], [], [], 0.05)[0]:
                    data = os.read(fd, 65536)
                    if not data:
                        break
                    buf += data
            except OSError:
                pass
            for raw in buf.split(b"\n"):
                if raw.strip():
                    self._add_line(raw)
            self._reap()

    def _reap(self):
        # QEMU was killed just before, so this returns at once; holding the lock keeps kill()
        # from signalling a process group whose leader's pid may already be reused.
        with self._kill_lock:
            _, status, usage = os.wait4(self._proc.pid, 0)
            self._reaped = True
        self._proc.returncode = os.waitstatus_to_exitcode(status)
        self._proc.stdout.close()
        self._cpu = usage.ru_utime + usage.ru_stime
        self._wall = time.monotonic() - self._t0
        tail = [line.text for line in self.lines[-5:]]
        outcome, status_n, reason = self.console.verdict(self._timed_out, self._proc.returncode,
                                                         tail, self._stopped)
        with self._cond:
            self._result = Result(outcome, status_n, reason, list(self.lines), self._cpu,
                                  self._wall, self._proc.returncode, self.command)
            self._cond.notify_all()

    # -- queries for the caller --

    def cpu_seconds(self):
        """QEMU's user+sys CPU seconds so far (exact once the run has ended)."""
        if self._proc is None:
            return 0.0
        if not self._reaped:
            self._sample_cpu()
        return self._cpu

    def elapsed(self):
        return time.monotonic() - self._t0 if self._t0 is not None else 0.0

    def wait_for(self, pattern, timeout=None, *, start=0):
        """Wait for a console line matching pattern (regex, re.search), from line index start.

        Returns the Line; raises WaitError on timeout or when the run ends first.
        """
        rx = re.compile(pattern)
        end = None if timeout is None else time.monotonic() + timeout
        i = start
        with self._cond:
            while True:
                while i < len(self.lines):
                    line = self.lines[i]
                    i += 1
                    if rx.search(line.text):
                        return line
                if self._result is not None:
                    raise WaitError(f"run ended ({self._result.reason}) before a line matching "
                                    f"{pattern!r}\n{self._tail()}")
                if not self._reader.is_alive():
                    raise XenRunError("the console reader stopped without a result")
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    raise WaitError(f"no line matching {pattern!r} within {timeout} s\n"
                                    f"{self._tail()}")
                self._cond.wait(left if left is not None else 1.0)

    def _tail(self, n=20):
        return "".join(f"  | {line.text}\n" for line in self.lines[-n:])

    def wait(self, timeout=None):
        """Wait for the run to end (at the latest at its own deadline); return the Result.

        With a timeout shorter than the run's own, raises WaitError when it expires (QEMU
        keeps running until close()).
        """
        if self._proc is None:
            self.start()
        end = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._result is None:
                if not self._reader.is_alive():
                    raise XenRunError("the console reader stopped without a result (see the "
                                      "traceback above)")
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    raise WaitError(f"run still going after {timeout} s")
                self._cond.wait(min(left, 1.0) if left is not None else 1.0)
        return self._result

    @property
    def result(self):
        return self._result


def run_kernel(kernel, cmdline=(), mem=DEFAULT_MEM_MB, timeout=DEFAULT_TIMEOUT, **kw):
    """Boot kernel as dom0 until it ends; return the Result."""
    with Dom0Run(kernel, cmdline, mem, timeout, **kw) as run:
        return run.wait()


# ---------------------------------------------------------------------------------------------
# Command line

def main(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m goxen.xenrun",
        description="Boot a PV kernel as the dom0 of Xen in QEMU, print its console and exit "
                    "with its exit status (crash 2, no status 123, timeout 124, Xen panic 125, "
                    "QEMU error 126).")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="S",
                   help=f"seconds before QEMU is killed (default {DEFAULT_TIMEOUT:g})")
    p.add_argument("--mem", type=int, default=DEFAULT_MEM_MB, metavar="MB",
                   help=f"dom0 memory in MB (default {DEFAULT_MEM_MB})")
    p.add_argument("--xen", metavar="PATH", help="Xen hypervisor ELF (default: Debian's 4.17)")
    p.add_argument("--xen-arg", action="append", default=[], metavar="ARG",
                   help="extra Xen command-line argument (repeatable)")
    p.add_argument("--qemu", default=QEMU, metavar="PATH", help=f"QEMU binary (default {QEMU})")
    p.add_argument("--cpus", type=int, default=1, metavar="N",
                   help="CPUs of the machine and vCPUs of the dom0 (default 1)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="print only the dom0's own lines, without timestamps")
    p.add_argument("kernel", help="the PV kernel ELF")
    p.add_argument("cmdline", nargs=argparse.REMAINDER, help="words of the dom0 command line")
    args = p.parse_args(argv)

    def echo(line):
        if args.quiet:
            if not line.from_xen:
                print(line.text, flush=True)
        else:
            print_line(line)

    def terminated(signum, frame):
        raise SystemExit(128 + signum)   # unwinds through Dom0Run.__exit__, which kills QEMU
    signal.signal(signal.SIGTERM, terminated)
    signal.signal(signal.SIGHUP, terminated)
    try:
        qemu_cpus, xen_cpus = cpus_args(args.cpus)
        with Dom0Run(args.kernel, args.cmdline, args.mem, args.timeout, xen=args.xen,
                     on_line=echo, extra_xen_args=[*xen_cpus, *args.xen_arg], qemu=args.qemu,
                     extra_qemu_args=qemu_cpus) as run:
            result = run.wait()
    except XenRunError as e:
        print(f"xenrun: error: {e}", file=sys.stderr)
        return EXIT_CODES[Outcome.QEMU_ERROR]
    except KeyboardInterrupt:
        print("xenrun: interrupted; QEMU killed", file=sys.stderr)
        return 130
    print(f"xenrun: {result.summary()}", file=sys.stderr)
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
