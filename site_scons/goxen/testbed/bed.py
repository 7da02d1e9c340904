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

Pieces (one module each: control.py, xl.py, domain.py; this one is the bed's lifecycle):
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

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from goxen import xenrun
from goxen.testbed.control import (AGENT_GRACE, BedError, CommandResult,  # noqa: F401
                                   CommandTimeout, Control)
from goxen.testbed.domain import ConsoleLine, Domain  # noqa: F401
from goxen.testbed.netns import Netns
# The toolstack layer, one facility per module (control channel, xl and its retry policy,
# domains); their names are re-exported here for the bed's users.
from goxen.testbed.xl import (RETRIES, SHUTDOWN_REASONS, DomainInfo, cmdline_ip,  # noqa: F401
                              create_command, parse_xl_list, quote, retried, retry_report,
                              rewrite_xl, run_xl, xl_value)

#: What `from goxen.testbed.bed import *` and `bedmod.NAME` users get: the bed and the names of
#: the layer's other modules it re-exports.
__all__ = ["AGENT_GRACE", "BedError", "CommandResult", "CommandTimeout", "Control", "ConsoleLine",
           "Domain", "DomainInfo", "Bed", "RETRIES", "SHUTDOWN_REASONS", "cmdline_ip",
           "create_command", "link_or_copy", "parse_xl_list", "quote", "remove_stale_workdirs",
           "retried", "retry_report", "rewrite_xl", "run_xl", "xl_value"]

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
#: The machine's CPUs (QEMU -smp, one host thread each under multi-threaded TCG): one. With two,
#: an HVM (PVH) guest's state is corrupted now and then when the other CPU interrupts the one it
#: runs on (2026-12-06: "d1v1 Triple fault", the guest's saved RIP being Xen's own instruction
#: after VMRUN in svm_asm_do_resume, cr3 Xen's: QEMU 7.2's SVM emulation taking a cross-thread
#: interrupt between Xen's STI and VMRUN), seen within a minute of kvsoak load on a PVH guest
#: with two vCPUs, whose event-channel IPIs make such interrupts frequent; never as PV, never on
#: one CPU. Guests with several vCPUs still run here (Xen time-slices them, every SMP path of
#: the runtime runs); parallel speed is shown by tier 2 (a PV dom0 on `-smp N`) and the bench.
BED_CPUS = 1


class Bed:
    def __init__(self, kernel, initramfs, *, xen=None, workdir=None, on_line=None,
                 boot_timeout=BOOT_TIMEOUT, dom0_mem=DOM0_MEM_MB, qemu_mem=QEMU_MEM_MB,
                 host_addr=HOST_ADDR, dom0_addr=DOM0_ADDR, cpus=BED_CPUS):
        self.kernel = Path(kernel)
        self.cpus = cpus
        #: wire_offload: QEMU's TAP carries offloads (vnet_hdr, the default): the dom0's
        #: virtio-net hands 64 KiB TCP segments with partial checksums to the host, as a NIC
        #: with TSO would to its wire, cheaply. False: the TAP carries wire frames (MTU-sized,
        #: complete checksums; the dom0 cuts and checksums in software), for a capture on the
        #: host to check what a guest's segments become. Takes effect at (re)start.
        self.wire_offload = True
        #: dom0_vcpus: the dom0's vCPUs (Xen's dom0_max_vcpus; xenrun.XEN_ARGS gives it one).
        #: Linux's netback offers a guest as many queues as the dom0 has vCPUs
        #: (multi-queue-max-queues). At most cpus; takes effect at (re)start.
        self.dom0_vcpus = 1
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
        self.control = Control(self.workdir / "ctl.sock")
        self.netns.create()
        qemu_args = [
            "-smp", str(self.cpus),
            "-netdev", f"tap,id=net0,ifname={self.netns.tap},script=no,downscript=no"
                       + ("" if self.wire_offload else ",vnet_hdr=off"),
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
            wrapper=self.netns.exec_prefix(), extra_qemu_args=qemu_args,
            extra_xen_args=[f"dom0_max_vcpus={self.dom0_vcpus}"] if self.dom0_vcpus != 1 else [])
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
        """Run an idempotent xl command with the bed's retry policy (xl.run_xl). When every
        attempt hangs, the bed is marked broken (needs_restart) and CommandTimeout raised."""
        try:
            return run_xl(self.sh, command, timeout=timeout, attempts=attempts,
                          kind="xl failed")
        except CommandTimeout:
            self.broken = f"{command!r} hung {attempts} times"
            raise

    def xl_create(self, dom, local, timeout, prefix="", before_unpause=""):
        """Create Domain dom with `xl create -p` and `xl unpause` from the config in the
        share's domains/NAME/ (its files staged in the dom0's local directory by prefix, a
        shell command run first, and removed afterwards), with the bed's retry policy: a
        failed xl leaves a domain in an unknown state, so it is destroyed and its console
        forgotten before the next attempt (two in all). dom.created is the host time the
        successful attempt was sent (the origin of its console lines' times)."""
        name = dom.name

        def sh(command, timeout):
            dom.created = time.monotonic()
            return self.sh(command, timeout=timeout)

        def cleanup():
            self.sh(f"xl destroy {quote(name)}", timeout=30)
            with self._cond:
                dom.lines, dom._pos, dom._partial = [], 0, b""
                dom.log.unlink(missing_ok=True)
        return run_xl(sh, create_command(name, local, prefix, before_unpause), timeout=timeout, attempts=2,
                      cleanup=cleanup, kind="xl create failed")

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

        Keywords: ramdisk, extra, memory, network, overrides, on_line, timeout, before_unpause
        (a dom0 shell command run while the new domain is still paused, $DOMID its id: to
        change its backends' xenstore nodes before the guest connects). When the dom0
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
                network=None, overrides=None, on_line=None, timeout=COMMAND_TIMEOUT,
                before_unpause=""):
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
        link_or_copy(kernel, ddir / "kernel")
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
            link_or_copy(ramdisk, ddir / "ramdisk")
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
        files = " ".join(f"/host/domains/{name}/{f}" for f in ("kernel", "ramdisk")
                         if (ddir / f).exists())
        if network:
            # An address used before by another domain (another MAC): forget the old one.
            subprocess.run([*self.netns.exec_prefix(), "ip", "neigh", "flush", "all"],
                           capture_output=True)
        stage = f"rm -rf {local}; mkdir -p {local} && cp {files} {local}/ && "
        res = self.xl_create(dom, local, timeout, prefix=stage, before_unpause=before_unpause)
        dom.create_result = res
        if res.rc != 0:
            time.sleep(0.5)
            raise BedError(f"xl create {name} failed (rc={res.rc}):\n{res.output}"
                           f"--- console ---\n{dom.console}--- end ---")
        return dom


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


def link_or_copy(src, dst):
    """Hard-link src to dst (the same file system), else copy it."""
    src = Path(src)
    if not src.is_file():
        raise BedError(f"{src} not found")
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)
