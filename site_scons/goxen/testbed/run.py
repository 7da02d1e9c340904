"""`./scons run app=NAME`: boot the test bed, create the app's domU, stream its console, and stay
up until Ctrl-C, SIGTERM, SIGHUP or end of stdin; then tear everything down.

    python -m goxen.testbed.run --xl build/hello/hello.xl [--kernel K] [--ramdisk R]
        [--dom0-kernel build/testbed/vmlinux] [--dom0-initramfs build/testbed/dom0.cpio.gz]
        [--name NAME] [--ping-timeout S] [-v]

stdout: the guest's console lines, as they arrive, and one line
    READY name=NAME ip=ADDR netns=NSNAME      once the guest answers ping (its xl config's
                                              extra= has ip=ADDR/PREFIX), or
    READY name=NAME netns=NSNAME              right after `xl create` for a guest without network.
stderr: progress (`run: ...`); with -v also Xen's and the dom0's console.
Exit status: 0 after a requested stop; 1 when the bed or the guest fails (the guest's console and
xl's error are printed); 2 for bad arguments; 130 when stopped before READY.
"""

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

from goxen import paths
from goxen.testbed import bed as bedmod

DEFAULT_DOM0_KERNEL = paths.BUILD / "testbed" / "vmlinux"
DEFAULT_DOM0_INITRAMFS = paths.BUILD / "testbed" / "dom0.cpio.gz"
DEFAULT_WORKDIR = paths.BUILD / "testbed" / "run"


def _say(msg):
    print(f"run: {msg}", file=sys.stderr, flush=True)


def _stdin_watch(stop):
    """Set stop when stdin reaches its end (or cannot be read)."""
    try:
        fd = sys.stdin.fileno()
        while os.read(fd, 4096):
            pass
    except (OSError, ValueError, AttributeError):
        pass
    stop.set()


def machine_cpus(xl_text):
    """The bed machine's CPUs for a guest: one per vCPU (as many as the host has) for a PV
    guest, so that they run in parallel; one for PVH, whose state QEMU's SVM emulation corrupts
    when another CPU interrupts it (testbed.bed.BED_CPUS): its vCPUs then take turns."""
    vcpus = int(bedmod.xl_value(xl_text, "vcpus") or 1)
    if vcpus <= 1:
        return bedmod.BED_CPUS
    if (bedmod.xl_value(xl_text, "type") or "pv") == "pv":
        return max(bedmod.BED_CPUS, min(vcpus, os.cpu_count() or 1))
    _say(f"{vcpus} vCPUs as PVH: the bed keeps one CPU (QEMU's SVM emulation is not safe with "
         "more for HVM guests), so they take turns; mode: pv runs them in parallel here")
    return bedmod.BED_CPUS


def run(args):
    xl_text = Path(args.xl).read_text() if args.xl else ""
    kernel = args.kernel or bedmod.xl_value(xl_text, "kernel")
    if not kernel:
        _say("no kernel: give --kernel or an xl config with kernel=")
        return 2
    name = args.name or bedmod.xl_value(xl_text, "name") or Path(kernel).stem
    stop = threading.Event()
    why = []
    waiting = [False]       # True once READY is out: a signal then only ends the wait loop

    def on_signal(signum, frame):
        why.append(signal.Signals(signum).name)
        stop.set()
        if not waiting[0]:
            raise KeyboardInterrupt     # abort the boot or xl create at once; finally cleans up
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    def dom0_line(line):
        if args.verbose:
            print(f"[{line.elapsed:8.3f}] {line.text}", file=sys.stderr, flush=True)

    def guest_line(line):
        print(line.text, flush=True)

    t0 = time.monotonic()
    cpus = machine_cpus(xl_text)
    _say(f"booting the test bed (Xen + Linux dom0 in QEMU, {cpus} CPU(s); about 15-30 s)")
    bed = bedmod.Bed(args.dom0_kernel, args.dom0_initramfs, workdir=args.workdir,
                     on_line=dom0_line, cpus=cpus)
    try:
        try:
            bed.start()
        except (bedmod.BedError, OSError) as e:
            _say(f"error: the test bed did not boot: {e}")
            if bed.run is not None and not args.verbose:
                tail = bed.run.lines[-40:]
                print("".join(f"  | {line.text}\n" for line in tail), file=sys.stderr)
            return 1
        _say(f"dom0 up in {bed.boot_seconds:.1f} s (netns {bed.netns.name}, QEMU pid "
             f"{bed.qemu_pid})")
        if stop.is_set():
            return 0
        try:
            dom = bed.create(name, kernel, xl_text, ramdisk=args.ramdisk, on_line=guest_line)
        except bedmod.BedError as e:
            _say(f"error: {e}")
            return 1
        _say(f"xl create {name}: {time.monotonic() - t0 - bed.boot_seconds:.1f} s")
        if dom.ip:
            try:
                took = _wait_ping(bed, dom, args.ping_timeout, stop)
            except bedmod.BedError as e:
                _say(f"error: {e}")
                info = dom.info()
                print(f"--- console of {name} ---\n{dom.console}--- end ---", file=sys.stderr)
                _say(f"domain state: {info}")
                return 1
            if took is None:
                return 0
            _say(f"{dom.ip} answers ping {took:.1f} s after xl create")
            print(f"READY name={name} ip={dom.ip} netns={bed.netns.name}", flush=True)
        else:
            print(f"READY name={name} netns={bed.netns.name}", flush=True)
        waiting[0] = True
        if stop.is_set():
            return 0
        threading.Thread(target=_stdin_watch, args=(stop,), daemon=True).start()
        reported = False
        while not stop.wait(0.5):
            if not bed.running:
                _say("error: QEMU ended unexpectedly")
                return 1
            if not reported:
                try:
                    info = dom.info()
                except bedmod.BedError:
                    continue
                if info is None or info.shutdown:
                    reported = True
                    _say(f"{name} has shut down"
                         + (f" (reason {info.reason}, state {info.state})" if info else "")
                         + "; the bed stays up until Ctrl-C, SIGTERM or end of stdin")
        _say(f"stopping ({why[0] if why else 'end of stdin'})")
        return 0
    except KeyboardInterrupt:
        _say(f"interrupted ({why[0] if why else 'SIGINT'}) before READY")
        return 130
    finally:
        waiting[0] = True
        bed.close()
        _say(f"test bed torn down (QEMU killed, netns {bed.netns.name} deleted)")


def _wait_ping(bed, dom, timeout, stop):
    t = time.monotonic()
    while not stop.is_set():
        if bed.netns.ping(dom.ip, count=1, wait=1):
            return time.monotonic() - t
        info = dom.info()
        if info is None or info.shutdown:
            raise bedmod.BedError(f"{dom.name} shut down before it answered ping "
                                  f"({info.reason if info else 'gone'})")
        if time.monotonic() - t > timeout:
            raise bedmod.BedError(f"{dom.name} ({dom.ip}) did not answer ping within "
                                  f"{timeout:g} s")
    return None


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m goxen.testbed.run", description=__doc__.split("\n")[0])
    p.add_argument("--xl", help="the domU's xl config (build/NAME/NAME.xl)")
    p.add_argument("--kernel", help="the domU's kernel (default: the xl config's kernel=)")
    p.add_argument("--ramdisk", help="the domU's ramdisk (baseline images)")
    p.add_argument("--name", help="domain name (default: the xl config's name=)")
    p.add_argument("--dom0-kernel", default=str(DEFAULT_DOM0_KERNEL))
    p.add_argument("--dom0-initramfs", default=str(DEFAULT_DOM0_INITRAMFS))
    p.add_argument("--workdir", default=str(DEFAULT_WORKDIR))
    p.add_argument("--ping-timeout", type=float, default=60.0, metavar="S")
    p.add_argument("-v", "--verbose", action="store_true", help="show Xen's and the dom0's console")
    args = p.parse_args(argv)
    if not args.xl and not args.kernel:
        p.error("give --xl or --kernel")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
