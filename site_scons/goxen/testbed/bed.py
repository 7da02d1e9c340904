"""The tier-3 test bed: Xen 4.17 + a Linux PV dom0 (xl, xenstored, xenconsoled, netback) in QEMU,
with the unikernels as domUs whose vifs are bridged, through QEMU's NIC, to a TAP inside a
network namespace that the bed creates and always removes.

    with Bed(kernel=vmlinux, initramfs=dom0_cpio_gz) as bed:   # boots (about 10-20 s under TCG)
        dom = bed.create("hello", "build/hello/hello.xen", xl="build/hello/hello.xl")
        dom.wait_for(r"^hello, xen$", timeout=30)     # the domU's console (xenconsoled's log)
        info = dom.wait_shutdown(timeout=30)           # DomainInfo(state, reason='poweroff', ...)
        dom.destroy()
        bed.ping("10.0.0.2")                            # from inside the namespace
        bed.netns.run(["curl", ...])                    # any host tool, inside the namespace

Pieces:
- QEMU runs as `ip netns exec NS qemu-system-x86_64 ...` through goxen.xenrun.Dom0Run (process
  group, SIGKILL on parent death, console reader); Xen's and the dom0's console are its lines.
- Control channel: a virtio-serial port `goxen.ctl`, a unix socket on the host side that QEMU
  connects to; in the dom0, goxen/dom0/agent runs one shell command per request (bed.sh()).
- Files: a 9p share (virtio-9p) mounted at /host in the dom0: the host puts each domU's kernel,
  ramdisk and xl config in `domains/NAME/`; xenconsoled writes guest logs to `console/`, which the
  host follows (lines stamped with host time on arrival).
- Domains are created with on_poweroff/on_reboot/on_crash = "preserve", so that the host can
  read the shutdown reason (`xl list -v`) before it destroys them.
"""

import collections
import sys
import ipaddress
import os
import re
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from goxen import xenrun
from goxen.testbed.netns import Netns

#: The bed's private network, inside the namespace only: the TAP (the host side, and the
#: guests' gateway) is .1, the dom0's bridge .254; guests use the addresses in their configs.
NETWORK = "10.0.0.0/24"
HOST_ADDR = "10.0.0.1/24"
DOM0_ADDR = "10.0.0.254/24"
DOM0_MEM_MB = 256
QEMU_MEM_MB = 768
#: The dom0's Linux command line: hvc0 is Xen's console (serial); 256 MB of dom0 memory needs a
#: bigger swiotlb or the initramfs does not unpack; loglevel=4 keeps the serial line quiet;
#: no crypto self-tests (about a second of emulated CPU at boot).
DOM0_CMDLINE = ("console=hvc0", "earlyprintk=xen", "swiotlb=4096", "loglevel=4",
                "cryptomgr.notests")
BOOT_TIMEOUT = 300.0
COMMAND_TIMEOUT = 60.0
DOM0_MAC = "52:54:00:12:34:56"
SHUTDOWN_REASONS = {0: "poweroff", 1: "reboot", 2: "suspend", 3: "crash", 4: "watchdog",
                    5: "soft_reset"}


class BedError(RuntimeError):
    """The bed could not boot, or a dom0 command failed."""


class CommandTimeout(BedError):
    """A dom0 command ran out of time; the dom0 agent killed it (its process group), and the
    message carries what the hung processes were doing."""


#: Seconds the host waits for the agent's answer beyond a command's own timeout (the agent
#: needs a moment to kill a hung command and describe it).
AGENT_GRACE = 30.0


@dataclass(frozen=True)
class CommandResult:
    command: str
    rc: int
    output: str
    t0: float       # dom0 uptime when the command started
    t1: float       # dom0 uptime when it ended

    def check(self):
        if self.rc != 0:
            raise BedError(f"dom0 command failed (rc={self.rc}): {self.command}\n{self.output}")
        return self


@dataclass(frozen=True)
class DomainInfo:
    name: str
    domid: int
    state: str          # xl's flags, e.g. "-b----", "---s--"
    reason: str | None  # shutdown reason once the domain has shut down (state has s or c)

    @property
    def shutdown(self):
        return "s" in self.state or "c" in self.state


@dataclass(frozen=True)
class ConsoleLine:
    text: str
    elapsed: float      # host seconds since the domain was created
    wall: float         # host time.time() when the line was read


class _Control:
    """The host side of the virtio-serial control channel."""

    def __init__(self, path):
        self.path = path
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(1)
        self.conn = None
        self.buf = b""
        self.lock = threading.Lock()
        self.seq = 0
        self.stuck = None           # why the agent is considered gone, once it is

    def accept(self, timeout, alive=lambda: True):
        """Wait for QEMU's connection; alive() false (QEMU ended) stops the wait early."""
        end = time.monotonic() + timeout
        self.server.settimeout(0.5)
        while self.conn is None:
            try:
                self.conn, _ = self.server.accept()
            except socket.timeout:
                if not alive():
                    raise BedError("QEMU ended before it connected to the control socket")
                if time.monotonic() >= end:
                    raise BedError(f"QEMU did not connect to the control socket within "
                                   f"{timeout} s")
        self.conn.settimeout(None)

    def readline(self, deadline):
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self.conn.settimeout(left)
            try:
                data = self.conn.recv(65536)
            except socket.timeout:
                raise TimeoutError
            if not data:
                raise BedError("the control channel closed (QEMU or the dom0 agent ended)")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("utf-8", "replace").rstrip("\r")

    def wait_line(self, text, timeout):
        deadline = time.monotonic() + timeout
        while True:
            if self.readline(deadline) == text:
                return

    def call(self, command, timeout):
        """Run command in the dom0; the agent kills it after timeout seconds (CommandTimeout).
        An agent that does not answer at all within AGENT_GRACE more seconds sets self.stuck
        and raises BedError: the bed then needs a restart."""
        if "\n" in command:
            raise ValueError("dom0 commands are single lines")
        secs = max(1, int(-(-timeout // 1)))
        with self.lock:
            if self.stuck:
                raise BedError(f"the dom0 agent stopped answering earlier ({self.stuck}); "
                               f"not running: {command}")
            self.seq += 1
            tag = f"c{self.seq}"
            self.conn.sendall(f"{tag} {secs} {command}\n".encode())
            deadline = time.monotonic() + secs + AGENT_GRACE
            out = []
            end_re = re.compile(rf"^{tag} END rc=(\d+) t0=([\d.]+) t1=([\d.]+)$")
            while True:
                try:
                    line = self.readline(deadline)
                except TimeoutError:
                    self.stuck = f"no answer to {command!r} within {secs + AGENT_GRACE:.0f} s"
                    raise BedError(f"the dom0 agent did not answer within "
                                   f"{secs + AGENT_GRACE:.0f} s: {command}\n"
                                   + "".join(o + "\n" for o in out)) from None
                if line.startswith(tag + "|"):
                    out.append(line[len(tag) + 1:])
                    continue
                m = end_re.match(line)
                if m:
                    text = "".join(o + "\n" for o in out)
                    if "goxen-agent: TIMEOUT" in text:
                        raise CommandTimeout(f"dom0 command timed out after {secs} s and was "
                                             f"killed: {command}\n{text}")
                    return CommandResult(command, int(m.group(1)), text,
                                         float(m.group(2)), float(m.group(3)))
                # Anything else is left over from an earlier, timed-out command.

    def close(self):
        for s in (self.conn, self.server):
            if s is not None:
                try:
                    s.close()
                except OSError:
                    pass


def _quote(text):
    return "'" + str(text).replace("'", "'\\''") + "'"


def parse_xl_list(text):
    """{name: DomainInfo} from `xl list -v` output."""
    out = {}
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 8 or not parts[1].isdigit():
            continue
        name, domid, state, code = parts[0], int(parts[1]), parts[4], parts[7]
        reason = None
        if ("s" in state or "c" in state) and code.lstrip("-").isdigit():
            reason = SHUTDOWN_REASONS.get(int(code), f"code {code}")
        if "c" in state and reason is None:
            reason = "crash"
        out[name] = DomainInfo(name, domid, state, reason)
    return out


_XL_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*?)\s*$")


def rewrite_xl(text, overrides):
    """xl config text with keys replaced (or appended) by overrides {key: xl value text};
    a value of None removes the key."""
    lines = []
    done = set()
    for line in text.splitlines():
        m = _XL_LINE.match(line)
        if m and m.group(1) in overrides:
            key = m.group(1)
            if overrides[key] is not None and key not in done:
                lines.append(f"{key} = {overrides[key]}")
            done.add(key)
            continue
        lines.append(line)
    for key, value in overrides.items():
        if key not in done and value is not None:
            lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


def xl_value(text, key):
    """The value of key in xl config text, with one level of quotes removed; None if absent."""
    for line in text.splitlines():
        m = _XL_LINE.match(line)
        if m and m.group(1) == key:
            v = m.group(2)
            if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
                v = v[1:-1]
            return v
    return None


def cmdline_ip(cmdline):
    """The address of `ip=ADDR/PREFIX` in a guest command line, or None (also for ip=dhcp)."""
    for word in (cmdline or "").split():
        if word.startswith("ip="):
            try:
                return str(ipaddress.ip_interface(word[3:]).ip)
            except ValueError:
                return None
    return None


class Domain:
    """A domU created on the bed; console lines arrive through the bed's log follower."""

    def __init__(self, bed, name, log, ip=None):
        self.bed = bed
        self.name = name
        self.ip = ip
        self.log = log
        self.lines = []
        self.created = time.monotonic()
        self.create_result = None
        self.on_line = None
        self._pos = 0
        self._partial = b""
        self.destroyed = False

    # -- console --

    def _poll(self):
        """Read new console bytes; called with the bed's condition held."""
        try:
            with open(self.log, "rb") as f:
                f.seek(self._pos)
                data = f.read()
        except FileNotFoundError:
            return False
        if not data:
            return False
        self._pos += len(data)
        data = self._partial + data
        *complete, self._partial = data.split(b"\n")
        for raw in complete:
            text = raw.decode("utf-8", "replace").rstrip("\r")
            line = ConsoleLine(text, time.monotonic() - self.created, time.time())
            self.lines.append(line)
            if self.on_line is not None:
                try:
                    self.on_line(line)
                except Exception:
                    self.on_line = None
        return bool(complete)

    @property
    def console(self):
        with self.bed._cond:
            self._poll()
            return "".join(line.text + "\n" for line in self.lines) + \
                self._partial.decode("utf-8", "replace")

    def wait_for(self, pattern, timeout=30.0, start=0):
        """The first console line (from index start) matching pattern (re.search)."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        i = start
        with self.bed._cond:
            while True:
                self._poll()
                while i < len(self.lines):
                    i += 1
                    if rx.search(self.lines[i - 1].text):
                        return self.lines[i - 1]
                if time.monotonic() >= end:
                    raise BedError(f"domain {self.name}: no console line matching {pattern!r} "
                                   f"within {timeout} s\n--- console ---\n{self._tail()}"
                                   f"--- end ---")
                self.bed._check_alive()
                self.bed._cond.wait(0.05)

    @property
    def exit_status(self):
        """N of the last `exit status N` console line (the Go runtime's and the baseline's
        final line), or None."""
        with self.bed._cond:
            self._poll()
            for line in reversed(self.lines):
                m = re.fullmatch(r"exit status (\d+)", line.text)
                if m:
                    return int(m.group(1))
        return None

    def _tail(self, n=40):
        return "".join(line.text + "\n" for line in self.lines[-n:])

    # -- toolstack --

    def info(self):
        """DomainInfo from `xl list -v`, or None when the domain no longer exists."""
        return self.bed.list().get(self.name)

    def wait_shutdown(self, timeout=30.0):
        """Wait until the domain has shut down (it is preserved); return its DomainInfo."""
        end = time.monotonic() + timeout
        while True:
            info = self.info()
            if info is None:
                raise BedError(f"domain {self.name} disappeared\n{self._tail()}")
            if info.shutdown:
                return info
            if time.monotonic() >= end:
                raise BedError(f"domain {self.name} still running after {timeout} s "
                               f"(state {info.state})\n--- console ---\n{self.console}")
            time.sleep(0.3)

    def shutdown(self):
        """`xl shutdown` (asks the guest through xenstore control/shutdown; does not wait).

        Debian's xl 4.17 now and then dies (rc 134/139) or hangs in this command, sometimes
        after the request reached the guest; and asked again, a domain that has shut down
        meanwhile never acknowledges the request, so xl then hangs. So after a failed run the
        domain's state decides: shut down (or gone) is success, otherwise xl is run again (at
        most three runs in all)."""
        command = f"xl shutdown {_quote(self.name)}"
        for attempt in range(1, 4):
            try:
                res = self.bed.sh(command, timeout=30)
                if res.rc < 128:
                    return res
                why = f"died (rc {res.rc}): {res.output.strip()[:200]}"
            except CommandTimeout as e:
                res, why = None, f"hung and was killed:\n{e}"
            info = self.info()
            if info is None or info.shutdown:
                retried("xl shutdown failed", f"{command} {why}; the domain has shut down all the same")
                return CommandResult(command, 0, res.output if res else "", 0.0, 0.0)
            if attempt == 3:
                if res is None:
                    raise CommandTimeout(f"{command} hung three times")
                return res
            retried("xl shutdown failed", f"{command} {why}; retrying (attempt {attempt})")

    def destroy(self):
        """`xl destroy`; afterwards the domain is gone."""
        res = self.bed.sh(f"xl destroy {_quote(self.name)}")
        with self.bed._cond:
            self._poll()            # the last lines xenconsoled wrote
            self.destroyed = True
        return res

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if not self.destroyed and self.bed.running:
            try:
                if self.info() is not None:
                    self.destroy()
            except BedError:
                pass
        return False


class Bed:
    def __init__(self, kernel, initramfs, *, xen=None, workdir=None, on_line=None,
                 boot_timeout=BOOT_TIMEOUT, dom0_mem=DOM0_MEM_MB, qemu_mem=QEMU_MEM_MB,
                 host_addr=HOST_ADDR, dom0_addr=DOM0_ADDR):
        self.kernel = Path(kernel)
        self.initramfs = Path(initramfs)
        self.xen = xen
        self.on_line = on_line
        self.boot_timeout = boot_timeout
        self.dom0_mem = dom0_mem
        self.qemu_mem = qemu_mem
        self.dom0_addr = dom0_addr
        self.netns = Netns(host_addr)
        self._workdir_arg = workdir
        self.workdir = None
        self.share = None
        self.run = None             # the xenrun.Dom0Run
        self.control = None
        self.domains = {}
        self._cond = threading.Condition()
        self._follower = None
        self._closing = False
        self.boot_seconds = None
        self.marks = {}             # GOXEN-MARK name -> host seconds since QEMU started
        self.broken = None          # why the dom0's toolstack is unusable, once it is

    # -- lifecycle --

    def start(self):
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _start(self):
        for p in (self.kernel, self.initramfs):
            if not p.is_file():
                raise BedError(f"{p} not found (build it with ./scons testbed)")
        parent = Path(self._workdir_arg) if self._workdir_arg else None
        if parent:
            parent.mkdir(parents=True, exist_ok=True)
        remove_stale_workdirs(parent or Path(tempfile.gettempdir()))
        # Unix socket paths are limited to ~107 bytes: keep the work directory short.
        self.workdir = Path(tempfile.mkdtemp(prefix="gxbed-", dir=parent))
        (self.workdir / "owner").write_text(f"{os.getpid()}\n")
        self.share = self.workdir / "share"
        (self.share / "console").mkdir(parents=True)
        (self.share / "domains").mkdir()
        self.control = _Control(self.workdir / "ctl.sock")
        self.netns.create()
        qemu_args = [
            "-netdev", f"tap,id=net0,ifname={self.netns.tap},script=no,downscript=no",
            "-device", f"virtio-net-pci,netdev=net0,mac={DOM0_MAC}",
            "-device", "virtio-serial-pci",
            "-chardev", f"socket,id=ctl,path={self.control.path}",
            "-device", "virtserialport,chardev=ctl,name=goxen.ctl",
            "-fsdev", f"local,id=host,path={self.share},security_model=none",
            "-device", "virtio-9p-pci,fsdev=host,mount_tag=host",
        ]
        cmdline = [*DOM0_CMDLINE]
        if self.dom0_addr:
            cmdline.append(f"goxen_net={self.dom0_addr}")
        self.run = xenrun.Dom0Run(
            self.kernel, cmdline, self.dom0_mem, timeout=0, xen=self.xen,
            on_line=self._console_line, qemu_mem=self.qemu_mem, modules=[self.initramfs],
            wrapper=self.netns.exec_prefix(), extra_qemu_args=qemu_args)
        self.run.start()
        try:
            self.control.accept(timeout=120, alive=lambda: self.run.running)
        except BedError as e:
            tail = "".join(f"  | {line.text}\n" for line in self.run.lines[-20:])
            raise BedError(f"{e}\n{tail}") from None
        try:
            self.run.wait_for(r"^GOXEN-MARK ready", timeout=self.boot_timeout)
        except xenrun.WaitError as e:
            raise BedError(f"the dom0 did not come up: {e}") from None
        self.control.wait_line("GOXEN-AGENT up", timeout=30)
        self.boot_seconds = self.run.elapsed()
        errors = [line.text for line in self.run.lines if line.text.startswith("GOXEN-ERROR")]
        if errors:
            raise BedError("the dom0's init failed:\n" + "\n".join(errors))
        self._follower = threading.Thread(target=self._follow, name="testbed-consoles",
                                          daemon=True)
        self._follower.start()

    def _console_line(self, line):
        m = re.match(r"^GOXEN-MARK (\S+)", line.text)
        if m:
            self.marks.setdefault(m.group(1), line.elapsed)
        if self.on_line is not None:
            self.on_line(line)

    def _follow(self):
        while not self._closing:
            with self._cond:
                changed = False
                for dom in list(self.domains.values()):
                    if not dom.destroyed:
                        changed |= dom._poll()
                if changed:
                    self._cond.notify_all()
                self._cond.wait(0.05)

    def _check_alive(self):
        if self.run is None or not self.run.running:
            tail = "".join(f"  | {line.text}\n" for line in (self.run.lines[-30:] if self.run else []))
            raise BedError(f"QEMU is no longer running\n{tail}")

    @property
    def running(self):
        return self.run is not None and self.run.running and not self._closing

    @property
    def needs_restart(self):
        """Why the bed can no longer run commands (QEMU ended, the agent stopped answering,
        xl hangs every time), or None."""
        if self.run is None or not self.run.running:
            return "QEMU is not running"
        if self.control is not None and self.control.stuck:
            return self.control.stuck
        return self.broken

    def restart(self):
        """Kill QEMU and boot the bed again (same namespace name); its domains are gone.
        Callers that do so because the bed failed count it (retried("bed booted again"))."""
        self.close()
        self._closing = False
        self.run = self.control = self._follower = None
        self.workdir = self.share = None
        self.domains = {}
        self.marks = {}
        self.broken = None
        return self.start()

    def close(self):
        """Kill QEMU, delete the namespace (and its TAP), remove the work directory."""
        self._closing = True
        with self._cond:
            self._cond.notify_all()
        if self.run is not None:
            self.run.close()
        if self.control is not None:
            self.control.close()
        self.netns.delete()
        if self._follower is not None:
            self._follower.join(timeout=5)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
        return False

    @property
    def qemu_pid(self):
        return self.run.pid if self.run else None

    # -- dom0 commands --

    def sh(self, command, timeout=COMMAND_TIMEOUT, check=False):
        """Run a shell command in the dom0; CommandResult (check=True raises on rc != 0)."""
        self._check_alive()
        stuck = self.control.stuck
        try:
            res = self.control.call(command, timeout)
        except BedError as e:
            if self.control.stuck and not stuck:
                # The agent went silent in this command: the dom0's console may say why.
                tail = "".join(f"  | {line.text}\n" for line in self.run.lines[-40:])
                raise BedError(f"{e}\n--- Xen and dom0 console, last lines ---\n{tail}") from None
            raise
        return res.check() if check else res

    def uptime(self):
        """The dom0's uptime in seconds (Xen's and the dom0's clock, not the host's)."""
        return self.sh("true").t1

    def list(self):
        """{name: DomainInfo} of every domain, Domain-0 included (`xl list -v`)."""
        return parse_xl_list(self.xl_retrying("xl list -v", timeout=30, attempts=4).check().output)

    def xl_retrying(self, command, timeout=30.0, attempts=3):
        """Run an idempotent xl command, again when xl itself fails.

        Debian's xl 4.17 now and then corrupts its own heap: it dies of a signal ("malloc():
        corrupted top size", rc 134, in about 1 of 15 runs of `xl shutdown`; 137 and 139 seen in
        `xl list`) or hangs (the agent kills it after timeout). Such a run is repeated, at most
        attempts times in all, each failure reported on stderr. When every attempt hangs, the
        bed is marked broken (needs_restart) and CommandTimeout raised."""
        for attempt in range(1, attempts + 1):
            try:
                res = self.sh(command, timeout=timeout)
            except CommandTimeout as e:
                if attempt == attempts:
                    self.broken = f"{command!r} hung {attempts} times"
                    raise
                retried("xl hung", f"{command} hung in the dom0 (attempt {attempt}), killed; "
                                   f"retrying:\n{e}")
                continue
            if res.rc < 128 or attempt == attempts:
                return res
            retried("xl died", f"{command} died in the dom0 (rc {res.rc}, attempt {attempt}), retrying: "
                  f"{res.output.strip()[:300]}")
            time.sleep(1)
        raise AssertionError("unreachable")

    def xl_create(self, name, local, timeout, prefix=""):
        """Run `xl create -p` and `xl unpause` for the config in the share's domains/name/
        (its kernel staged in the dom0's local directory, removed afterwards; prefix: shell
        text to run first). A hung xl (CommandTimeout: the agent killed it) leaves a domain
        in an unknown state: it is destroyed, and CommandTimeout raised for the caller to
        create it again or give up."""
        try:
            return self.sh(_xl_create_command(name, local, prefix), timeout=timeout)
        except CommandTimeout as e:
            retried("xl create hung",
                    f"xl create {name} hung in the dom0 and was killed; destroying {name}:\n{e}")
            self.sh(f"xl destroy {name}", timeout=30)
            raise

    def ping(self, addr, timeout=30.0):
        """Ping addr from the namespace until it answers; host seconds taken, or BedError."""
        t = time.monotonic()
        end = t + timeout
        while True:
            if self.netns.ping(addr, count=1, wait=1):
                return time.monotonic() - t
            if time.monotonic() >= end:
                raise BedError(f"{addr} did not answer ping within {timeout} s")
            self._check_alive()

    # -- domUs --

    def create(self, name, kernel, xl=None, **kw):
        """Create domain name from a kernel and an xl config (a path or config text).

        The kernel (and ramdisk) are copied into the share and the config is rewritten to use
        them, to preserve the domain on poweroff/reboot/crash and, when network is true (default:
        when the command line has `ip=`), to add one vif on the bridge. on_line(ConsoleLine) is
        called for each console line as it arrives. Returns the Domain;
        raises BedError with the xl output and the console when `xl create` fails.

        Keywords: ramdisk, extra, memory, network, overrides, on_line, timeout. When the dom0
        agent goes silent during the creation, the bed is booted again and the domain created
        once more; domains created before are gone then (a test using them fails on that).
        """
        try:
            return self._create(name, kernel, xl, **kw)
        except BedError:
            if not self.control.stuck:
                raise
            retried("bed booted again",
                    f"the dom0 agent went silent while creating {name}; booting the bed again")
            self.restart()
            return self._create(name, kernel, xl, **kw)

    def _create(self, name, kernel, xl=None, *, ramdisk=None, extra=None, memory=None,
                network=None, overrides=None, on_line=None, timeout=COMMAND_TIMEOUT):
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
            raise BedError(f"bad domain name {name!r}")
        text = ""
        if xl is not None:
            p = Path(str(xl))
            text = p.read_text() if "\n" not in str(xl) and p.is_file() else str(xl)
        ddir = self.share / "domains" / name
        if ddir.exists():
            shutil.rmtree(ddir)
        ddir.mkdir(parents=True)
        _link_or_copy(kernel, ddir / "kernel")
        # xl reads the kernel through mmap, page by page: from the 9p share that is many times
        # slower than one big copy, so the files are copied into the dom0's RAM (/tmp) first
        # and removed once `xl create` has loaded them.
        local = f"/tmp/goxen/{name}"
        mode = (xl_value(text, "type") or "pv").strip('"')
        if mode not in ("pv", "pvh"):
            raise BedError(f"xl type {mode!r}: the bed runs pv and pvh guests")
        over = {"name": f'"{name}"', "type": f'"{mode}"', "kernel": f'"{local}/kernel"',
                "on_poweroff": '"preserve"', "on_reboot": '"preserve"',
                "on_crash": '"preserve"'}
        if ramdisk is not None:
            _link_or_copy(ramdisk, ddir / "ramdisk")
            over["ramdisk"] = f'"{local}/ramdisk"'
        elif xl_value(text, "ramdisk"):
            raise BedError("the xl config names a ramdisk: pass it as ramdisk= so it is copied")
        if extra is not None:
            over["extra"] = f'"{extra}"'
        if memory is not None:
            over["memory"] = str(int(memory))
        if xl_value(text, "memory") is None and memory is None:
            over["memory"] = "32"
        cmdline = extra if extra is not None else (xl_value(text, "extra") or "")
        if network is None:
            network = cmdline_ip(cmdline) is not None
        if network:
            mac = "00:16:3e:%02x:%02x:%02x" % tuple(os.urandom(3))
            over["vif"] = f"[ 'mac={mac},bridge=xenbr0' ]"
        over.update(overrides or {})
        config = rewrite_xl(text, over)
        (ddir / "config.xl").write_text(config)
        log = self.share / "console" / f"guest-{name}.log"
        if name in self.list():
            raise BedError(f"a domain named {name} already exists")
        log.unlink(missing_ok=True)
        dom = Domain(self, name, log, ip=cmdline_ip(cmdline) if network else None)
        dom.on_line = on_line
        with self._cond:
            self.domains[name] = dom
        dom.created = time.monotonic()
        files = " ".join(f"/host/domains/{name}/{f}" for f in ("kernel", "ramdisk")
                         if (ddir / f).exists())
        # Created paused and then unpaused: a guest that ends at once (hello) otherwise races
        # xl's domain-watching child while it daemonizes, which then dies (SIGSEGV, seen in
        # about one run in ten) and makes `xl create` fail although the guest ran.
        stage = f"rm -rf {local}; mkdir -p {local} && cp {files} {local}/ && "
        try:
            res = self.xl_create(name, local, timeout, prefix=stage)
        except CommandTimeout:
            # The domain is gone again (xl_create destroyed it): once more, from scratch.
            with self._cond:
                dom.lines, dom._pos, dom._partial = [], 0, b""
                log.unlink(missing_ok=True)
            dom.created = time.monotonic()
            res = self.xl_create(name, local, timeout, prefix=stage)
        dom.create_result = res
        if res.rc != 0:
            time.sleep(0.5)
            raise BedError(f"xl create {name} failed (rc={res.rc}):\n{res.output}"
                           f"--- console ---\n{dom.console}--- end ---")
        return dom


def _xl_create_command(name, local, prefix=""):
    return (f"{prefix}xl create -p /host/domains/{name}/config.xl && xl unpause {name}; "
            f"rc=$?; rm -rf {local}; exit $rc")


#: Every defensive retry of this process's beds, by kind: a hung or dying xl repeated, a bed
#: booted again. They exist to survive QEMU's emulation faults; with XSAVE off (xenrun.QEMU_CPU)
#: none should happen. Reported at the end of a test session (tests/conftest.py) and of a bench
#: run (results.json meta.retries), so that a regression shows as a number, not as luck.
RETRIES = collections.Counter()


def retried(kind, text):
    """Count one retry of kind and say why on stderr."""
    RETRIES[kind] += 1
    _warn(f"{text} [retry: {kind}]")


def retry_report(counter=None):
    """One line: how many retries, and of which kinds."""
    counter = RETRIES if counter is None else counter
    total = sum(counter.values())
    kinds = ", ".join(f"{k}: {n}" for k, n in sorted(counter.items()) if n)
    return f"test-bed retries: {total}" + (f" ({kinds})" if kinds else "")


def _warn(text):
    print(f"testbed: {text}", file=sys.stderr, flush=True)


def remove_stale_workdirs(parent):
    """Remove gxbed-* work directories in parent whose owner process is gone (a bed whose
    runner was SIGKILLed); return them."""
    from goxen.testbed.netns import _alive
    gone = []
    for d in Path(parent).glob("gxbed-*"):
        try:
            pid = int((d / "owner").read_text())
        except (OSError, ValueError):
            continue
        if not _alive(pid):
            shutil.rmtree(d, ignore_errors=True)
            gone.append(d)
    return gone


def _link_or_copy(src, dst):
    src = Path(src)
    if not src.is_file():
        raise BedError(f"{src} not found")
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)
