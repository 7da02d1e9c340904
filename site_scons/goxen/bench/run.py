"""`./scons bench`: the unikernel against the same Go program in a Linux domU (the baseline),
side by side on one tier-3 test bed booted once.

    python -m goxen.bench.run --manifest build/bench/manifest.json --out build/bench
        [--runs 5] [--seconds 10] [--repeats 3] [--memory-tries 3] [--only PART,...]

The manifest (written by the goxen_bench SCons tool) lists each app: its unikernel kernel and
xl config, its linux/amd64 binary and baseline xl config, and its romfs directory. The parts
are PART_TABLE (below), in order; what each measures, and how, is METHOD (also in
results.json's "method"): image sizes as built and as shipped; boot times (--runs boots per
side) and the guests' own boot timelines; the smallest memory each side runs in (3 boots in a
row per size, one range and timeout for both); resident memory; kvstore, UDP echo, httpd, TCP
bulk and romfs read throughput (--repeats loads per side); save/restore; the same boot and
lifecycle as PVH with live migration; host netstack vs Linux (host.py). Every repeated value
is reported as median, [min-max, n] and failed runs (stats.summarize).

A value that cannot be measured is recorded as "unavailable: <why>" (e.g. the guest's own
error when TCP cannot listen), never as a number. Exit status 0 when every part ran (even with
unavailable values), 1 when a part failed with an error (the results are still written).
"""

import argparse
import gzip
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from goxen import debian, paths
from goxen.bench import stats, tree
from goxen.testbed import bed as bedmod
from goxen.testbed import image

LOADGEN = Path(__file__).with_name("loadgen.py")
SIDES = ("unikernel", "baseline")
T0 = time.monotonic()


def log(msg):
    print(f"bench [{time.monotonic() - T0:7.1f}s] {msg}", flush=True)


class Unavailable(Exception):
    """A measurement that cannot be taken (recorded as "unavailable: <why>")."""


# ---------------------------------------------------------------------------------------------
# The two sides of an app

WRAPPER = """#!/bin/sh
# ./scons bench: the baseline's /app. The unikernel reads env.KEY=VALUE words of its command
# line as its environment; baseline-init passes those words as arguments: export them here.
args=
for w in "$@"; do
    case $w in
    env.*=*) export "${w#env.}" ;;
    *) args="$args $w" ;;
    esac
done
# As a service's unit would (systemd's LimitNOFILE=): open files are not what the bench
# measures, the kernel's 4096 would cap the idle part's connections.
ulimit -n 1048576 2>/dev/null || ulimit -n 65536 2>/dev/null
exec /app.bin $args
"""


def baseline_initramfs(app, out_dir):
    """The bench's baseline initramfs of app: baseline-init's archive with /app = WRAPPER,
    /app.bin = the linux/amd64 program and the app's romfs tree at / (where the unikernel
    mounts it)."""
    out = Path(out_dir) / "baseline" / f"{app['name']}.cpio.gz"
    out.parent.mkdir(parents=True, exist_ok=True)
    wrapper = out.with_suffix(".wrapper.sh")
    wrapper.write_text(WRAPPER)
    arc = image.baseline_archive(wrapper)
    arc.file("app.bin", Path(app["baseline_binary"]).read_bytes(), 0o755)
    if app.get("romfs"):
        root = Path(app["romfs"])
        for p in sorted(root.rglob("*")):
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                continue
            if p.is_dir():
                arc.dir(rel)
            elif p.is_file():
                arc.file(rel, p.read_bytes())
    tmp = out.with_name(out.name + ".tmp")
    arc.write_gz(tmp)
    tmp.replace(out)
    return out


class Side:
    def __init__(self, app, side, ramdisk=None):
        self.app = app
        self.side = side
        if side == "unikernel":
            self.kernel = Path(app["kernel"])
            self.xl_text = Path(app["xl"]).read_text()
            self.ramdisk = None
        else:
            self.kernel = paths.BUILD / "testbed" / image.BED_KERNEL
            self.xl_text = Path(app["baseline_xl"]).read_text()
            self.ramdisk = Path(ramdisk)
        self.extra = bedmod.xl_value(self.xl_text, "extra") or ""
        self.memory = int(bedmod.xl_value(self.xl_text, "memory") or 32)

    def image_bytes(self):
        n = self.kernel.stat().st_size
        return n + (self.ramdisk.stat().st_size if self.ramdisk else 0)


def set_ip(extra, ip):
    """extra with its ip=ADDR/PREFIX word's address replaced by ip (prefix kept)."""
    words = []
    for w in extra.split():
        if w.startswith("ip=") and "/" in w:
            w = f"ip={ip}/{w.split('/', 1)[1]}"
        words.append(w)
    return " ".join(words)


class Bench:
    def __init__(self, bed, out_dir, seconds, repeats=3, vcpus=None):
        self.bed = bed
        self.out_dir = Path(out_dir)
        self.seconds = seconds
        self.repeats = repeats      # runs of each throughput and latency load, per side
        self.vcpus = vcpus          # xl vcpus= of every guest, when not the configs' own
        self.n = 0

    # -- domains --

    def create(self, side, label, ip=None, memory=None, words=(), timeout=300, mode="pv"):
        """Create a `mode` (pv, pvh) guest of side with the bed's own Bed.create (files staged
        in the dom0's RAM, the bed's retry policy for xl); returns (Domain, t_create) where
        t_create is time.monotonic() when the successful xl create command was sent."""
        self.n += 1
        name = f"{label}-{side.side[:4]}-{self.n}"
        extra = side.extra if ip is None else set_ip(side.extra, ip)
        extra = " ".join([extra, *words]).strip()
        addr = bedmod.cmdline_ip(extra)
        over = {"type": f'"{mode}"'}
        if self.vcpus:
            over["vcpus"] = str(self.vcpus)
        if addr:   # a MAC of its own per domain, reproducible from run to run
            over["vif"] = (f"[ 'mac=00:16:3e:be:{self.n // 256 % 256:02x}:{self.n % 256:02x},"
                           f"bridge=xenbr0' ]")
        dom = self.bed.create(name, side.kernel, side.xl_text, ramdisk=side.ramdisk,
                              extra=extra, memory=memory or side.memory, network=bool(addr),
                              overrides=over, timeout=timeout)
        return dom, dom.created

    def info(self, dom):
        """dom's DomainInfo (None when gone); Bed.list repeats an `xl list` that xl botched."""
        return self.bed.list().get(dom.name)

    def destroy(self, dom):
        try:
            if self.bed.running and self.info(dom) is not None:
                dom.destroy()
        except bedmod.BedError as e:
            log(f"destroying {dom.name} failed: {e}")
        shutil.rmtree(self.bed.share / "domains" / dom.name, ignore_errors=True)

    def loadgen(self, mode, *args, timeout=None):
        cmd = [*self.bed.netns.exec_prefix(), sys.executable, str(LOADGEN), mode,
               *[str(a) for a in args]]
        r = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout or self.seconds * 4 + 120)
        lines = [line for line in r.stdout.splitlines() if line.startswith("{")]
        if not lines:
            raise RuntimeError(f"loadgen {mode} printed no result (rc {r.returncode}):\n"
                               f"{r.stdout}{r.stderr}")
        out = json.loads(lines[-1])
        if "error" in out:
            raise Unavailable(out["error"])
        return out

    def wait_up(self, dom, port, seconds=120):
        """Wait until the kvstore-like app on dom answers a UDP set/get (smoke test)."""
        end = time.monotonic() + seconds
        err = "no answer"
        while time.monotonic() < end:
            info = self.info(dom)
            if info is None or info.shutdown:
                raise Unavailable(f"{dom.name} shut down ({info.reason if info else 'gone'}): "
                                  + _last_lines(dom))
            try:
                if self.loadgen("smoke", dom.ip, port, 5, timeout=60)["ok"]:
                    return
            except Unavailable as e:
                err = str(e)
            except RuntimeError as e:
                err = str(e)
        raise Unavailable(f"{dom.name}: no kvstore answer within {seconds} s ({err}): "
                          + _last_lines(dom))


def repeat(b, what, measure, first_fails_all=False):
    """measure() -> (value, detail), b.repeats times on the same guest: the summarize() of
    the values with "runs" (every value, failures as "unavailable: ..." strings, counted in
    the table) and the list of details. first_fails_all: a first run that fails ends it (a
    guest that cannot boot in its memory will not on the second try either)."""
    values, details = [], []
    for i in range(b.repeats):
        try:
            v, d = measure()
        except Unavailable as e:
            v, d = f"unavailable: {e}", None
        values.append(v)
        details.append(d)
        log(f"{what} run {i + 1}/{b.repeats}: {stats.fmt(v)}")
        if i == 0 and first_fails_all and not stats.is_number(v):
            break
    return stats.summarize(values) | {"runs": values}, details


def cpu_seconds(b, dom):
    """The domain's vCPU time so far (xl list's Time(s) column), or None."""
    return stats.parse_xl_cpu(b.bed.sh(f"xl list {dom.name}").output, dom.name)


def _with_cpu(b, dom, fn):
    """fn()'s result dict plus guest_cpu_s: the guest's vCPU seconds while fn ran (how busy
    the guest was: near the wall time means the guest's CPU is the limit)."""
    c0 = cpu_seconds(b, dom)
    out = fn()
    c1 = cpu_seconds(b, dom)
    if c0 is not None and c1 is not None:
        out["guest_cpu_s"] = round(c1 - c0, 3)
    return out


def bed_error_line(e):
    """One line for a BedError of `xl create`: its first line and xl's own reason (the first
    line of xl's output that names an error: the cause, before what it made fail), not the
    console after it."""
    lines = [line.strip() for line in str(e).split("--- console ---")[0].splitlines()
             if line.strip()]
    if not lines:
        return ""
    why = next((line for line in lines[1:]
                if re.search(r"error|fail|too|cannot|not enough|insufficient", line, re.I)),
               lines[-1] if len(lines) > 1 else "")
    return f"{lines[0]} {why}".strip()


def _last_lines(dom, n=6):
    lines = [line.text for line in dom.lines[-n:]]
    return " | ".join(lines) if lines else "(no console output)"


def _guest_error(dom, pattern, wait=3.0):
    """The guest's own complaint (a console line matching pattern), for "unavailable: ..."."""
    try:
        return dom.wait_for(pattern, timeout=wait).text
    except bedmod.BedError:
        return _last_lines(dom)


# ---------------------------------------------------------------------------------------------
# Parts

def loadable_bytes(path):
    """The file bytes of an ELF's PT_LOAD segments: what Xen's loader reads (no symbols or
    DWARF; the baseline's vmlinux is stored in this form already, see image.compact_elf)."""
    from elftools.elf.elffile import ELFFile
    with open(path, "rb") as f:
        return sum(seg["p_filesz"] for seg in ELFFile(f).iter_segments()
                   if seg["p_type"] == "PT_LOAD")


def shipped_bytes(kernel, out_dir):
    """(stripped, stripped and gzip -9) sizes of a unikernel image: what a user ships
    (no symbols, no DWARF; `objcopy --strip-all` keeps the notes and program headers) and the
    compressed form libxenguest also loads (xc_dom_try_gzip)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stripped = out_dir / (Path(kernel).name + ".stripped")
    subprocess.run(["objcopy", "--strip-all", str(kernel), str(stripped)], check=True)
    data = stripped.read_bytes()
    return len(data), len(gzip.compress(data, 9, mtime=0))


def part_image(apps, sides, out_dir):
    out = {}
    bzimage = sorted((paths.CACHE / "debian" / "root" / "boot").glob("vmlinuz-*"))
    for name, app in apps.items():
        uni, base = sides[name]["unikernel"], sides[name]["baseline"]
        stripped, gz = shipped_bytes(uni.kernel, Path(out_dir) / "images")
        out[name] = {"unikernel": uni.image_bytes(),
                     "unikernel_loadable": loadable_bytes(uni.kernel),
                     "unikernel_stripped": stripped,
                     "unikernel_stripped_gz": gz,
                     "baseline_kernel": base.kernel.stat().st_size,
                     "baseline_initramfs": base.ramdisk.stat().st_size,
                     "baseline_total": base.image_bytes(),
                     "baseline_app_binary": Path(app["baseline_binary"]).stat().st_size}
        if bzimage:
            out[name]["baseline_bzimage"] = bzimage[-1].stat().st_size
            out[name]["baseline_shipped"] = bzimage[-1].stat().st_size + \
                base.ramdisk.stat().st_size
        log(f"image {name}: unikernel {out[name]['unikernel']} B, baseline "
            f"{out[name]['baseline_total']} B")
    return out


def _boot_once(b, side, ip, port, words=(), mode="pv"):
    """One timed boot: (seconds to first ICMP reply, to first UDP reply, Domain)."""
    probe = subprocess.Popen([*b.bed.netns.exec_prefix(), sys.executable, str(LOADGEN), "probe",
                              ip, str(port), "180"], stdout=subprocess.PIPE, text=True)
    try:
        first = probe.stdout.readline()
        if "probe started" not in first:
            raise RuntimeError(f"probe did not start: {first!r}")
        dom, t = b.create(side, "boot", ip=ip, words=words, mode=mode)
        out, _ = probe.communicate(timeout=240)
    finally:
        if probe.poll() is None:
            probe.kill()
            probe.wait()
    dom.xl_seconds = dom.create_result.t1 - dom.create_result.t0
    got = json.loads([line for line in out.splitlines() if line.startswith("{")][-1])
    icmp = got["icmp"] - t if got["icmp"] is not None else "unavailable: no ping reply in 180 s"
    udp = got["udp"] - t if got["udp"] is not None else "unavailable: no UDP reply in 180 s"
    return icmp, udp, dom


def _boot_retrying(b, side, ip, port, words=(), mode="pv"):
    """_boot_once, once more when xl hung in the first (a new domain, a new timing)."""
    try:
        return _boot_once(b, side, ip, port, words, mode)
    except bedmod.CommandTimeout as e:
        bedmod.RETRIES["bench boot repeated"] += 1
        log(f"boot: xl hung ({str(e).splitlines()[0][:120]}); booting once more")
        return _boot_once(b, side, ip, port, words, mode)


def part_boot(b, kv, runs, mode="pv"):
    """Boot times of kvstore on both sides as `mode` guests (pv, pvh)."""
    port = 11211
    res = {s: {"runs": []} for s in SIDES}
    base_tl = []
    for i in range(runs):
        for s in SIDES:
            ip = f"10.0.0.{100 + i * 2 + (s == 'baseline')}"
            icmp, udp, dom = _boot_retrying(b, kv[s], ip, port, mode=mode)
            res[s]["runs"].append({"icmp": icmp, "udp": udp, "xl_create": dom.xl_seconds})
            if s == "baseline":
                dom.wait_for(r"^BASELINE-NET", timeout=10)
                base_tl.append(stats.parse_baseline_timeline(line.text for line in dom.lines))
            log(f"boot {s} run {i + 1}/{runs}: ping {stats.fmt(icmp)} s, "
                f"UDP {stats.fmt(udp)} s (the xl create command: {dom.xl_seconds:.2f} s)")
            b.destroy(dom)
    for s in SIDES:
        for key in ("icmp", "udp", "xl_create"):
            res[s][key] = stats.summarize(r[key] for r in res[s]["runs"])
    # Debug boots of the unikernel with boottrace=1 for its own timeline (median per stage).
    traces, console = [], []
    for i in range(min(runs, 3)):
        icmp, udp, dom = _boot_retrying(b, kv["unikernel"], "10.0.0.99", port,
                                        words=("boottrace=1",), mode=mode)
        try:
            dom.wait_for(r"^goxen-boot: net ", timeout=5)
        except bedmod.BedError:
            pass
        traces.append(stats.parse_boottrace([line.text for line in dom.lines]))
        # When each console line reached the host (s after xl create was sent): a coarse
        # timeline that does not depend on the guest's boottrace support.
        console = [(round(line.elapsed, 3), line.text) for line in dom.lines[:12]]
        b.destroy(dom)
    stages = [stats.boot_timeline(t) for t in traces]
    uni_tl = {k: stats.summarize(st.get(k) for st in stages)["median"]
              for k in stats.BOOT_STAGES}
    uni_tl = {k: v if v is not None else "missing: no traced boot printed it"
              for k, v in uni_tl.items()}
    timeline = {"unikernel": uni_tl, "unikernel_runs": stages, "unikernel_raw_ns": traces,
                "unikernel_debug_boot": {"icmp": icmp, "udp": udp, "console": console},
                "baseline": {k: stats.summarize(t.get(k) for t in base_tl)["median"]
                             for k in ("init", "net")}}
    log(f"boot timeline: unikernel {timeline['unikernel']}, baseline {timeline['baseline']}")
    res["timeline"] = timeline
    res["mode"] = mode
    return res


def _resident(st, side, image_bytes):
    """The memory numbers of one kvstore `stats` reply (see results.json's method)."""
    out = {k: st.get(k) for k in ("go_sys", "go_heap_inuse", "go_heap_alloc", "rss", "mem_used",
                                  "curr_items", "bytes")}
    if "go_sys" not in st:
        out["go_sys"] = "missing: this kvstore's stats have no go_sys"
    if side == "unikernel":
        out["used"] = st["go_sys"] + image_bytes if "go_sys" in st else out["go_sys"]
    else:
        out["used"] = st.get("mem_used", "missing: no mem_used (no /proc/meminfo?)")
    return out


def _fatal_line(dom):
    for line in dom.lines:
        if re.search(r"fatal error|out of memory|panic|Kernel panic|Out of memory", line.text):
            return line.text
    return _last_lines(dom)


def _fill(b, dom, ip, keys):
    """Fill keys 0..keys-1 in ten chunks: (stats dict, seconds), or ("crashed: ...", None)."""
    t0 = time.monotonic()
    done = 0
    step = keys // 10
    while done < keys:
        try:
            b.loadgen("kvfill", ip, 11211, done + step, done, timeout=900)
            done += step
        except Unavailable as e:
            time.sleep(2)
            info = b.info(dom)
            state = info.reason if info and info.shutdown else "running"
            msg = f"crashed: after {done}-{done + step} keys ({state}): {_fatal_line(dom)}"
            log(f"{dom.name}: fill failed: {e}; {msg}")
            return msg, None
    return b.loadgen("kvstats", ip, 11211)["stats"], time.monotonic() - t0


def part_kv(b, kv, seconds, clients=32, keys=100_000, memory=256, fill=True, sides=SIDES):
    """kvstore per side, both with memory= `memory` MB (room for 100k keys on both): UDP and TCP
    ops/s with `clients` parallel clients, resident memory at rest, then (fill) after `keys`
    keys (filled in chunks; a guest that dies on the way is reported with its fatal line)."""
    res = {"resident": {}, "kv_udp": {}, "kv_tcp": {}}
    for s in sides:
        ip = "10.0.0.2"
        dom, _ = b.create(kv[s], "kv", ip=ip, memory=memory)
        img = kv[s].image_bytes()
        try:
            b.wait_up(dom, 11211)
            time.sleep(2)
            rest = b.loadgen("kvstats", ip, 11211)["stats"]
            res["resident"][s] = {"memory_mb": memory, "rest": _resident(rest, s, img)}
            def udp():
                u = _with_cpu(b, dom, lambda: b.loadgen("kvudp", ip, 11211, clients, seconds))
                return u["ops"] / u["seconds"], u
            res["kv_udp"][s], res["kv_udp"][s + "_detail"] = repeat(b, f"kvstore {s} UDP ops/s",
                                                                    udp)
            listening = _guest_error(dom, r"^kvstore: listening", wait=1)
            if "tcp off" in listening:
                why = _guest_error(dom, r"^kvstore: tcp:", wait=1)
                res["kv_tcp"][s] = f"unavailable: {why}"
            else:
                def tcp():
                    try:
                        t = _with_cpu(b, dom, lambda: b.loadgen("kvtcp", ip, 11211, clients,
                                                                seconds))
                    except Unavailable as e:
                        raise Unavailable(f"{e}; guest: {_guest_error(dom, 'tcp', 1)}") from None
                    return t["ops"] / t["seconds"], t
                res["kv_tcp"][s], res["kv_tcp"][s + "_detail"] = repeat(
                    b, f"kvstore {s} TCP ops/s", tcp)
            if not fill:
                continue
            loaded, note = _fill(b, dom, ip, keys)
            if isinstance(loaded, str):
                # Once more on a fresh domain (the first crash is kept as a note).
                b.destroy(dom)
                dom, _ = b.create(kv[s], "kv", ip=ip, memory=memory)
                b.wait_up(dom, 11211)
                res["resident"][s]["first_fill"] = loaded
                loaded, note = _fill(b, dom, ip, keys)
            res["resident"][s]["loaded"] = loaded if isinstance(loaded, dict) else \
                {"go_sys": loaded, "used": loaded}
            if isinstance(loaded, dict):
                res["resident"][s]["loaded"] = _resident(loaded, s, img)
            res["resident"][s]["fill_seconds"] = note
            log(f"kvstore {s} memory: {res['resident'][s]}")
        finally:
            b.destroy(dom)
    return res


SAVE_DIR = "/tmp/goxen-save"


def _migrate(b, dom, ip, port=11211):
    """`xl migrate` of dom to this host while loadgen's gap probe asks it every 10 ms:
    (seconds the command took, the longest time without a reply)."""
    probe = subprocess.Popen([*b.bed.netns.exec_prefix(), sys.executable, str(LOADGEN), "gap",
                              ip, str(port), "300"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        if "gap started" not in probe.stdout.readline():
            raise RuntimeError("gap probe did not start")
        time.sleep(2)
        t = time.monotonic()
        r = b.bed.sh(f'xl migrate -s "" {dom.name} "xl migrate-receive"', timeout=300)
        took = time.monotonic() - t
        if r.rc != 0:
            raise Unavailable(f"xl migrate failed: {r.output.strip()[-300:]}")
        time.sleep(3)   # answers after the move, so that the last silence ends in the window
        out, _ = probe.communicate("stop\n", timeout=120)
    finally:
        if probe.poll() is None:
            probe.kill()
            probe.wait()
    got = json.loads([line for line in out.splitlines() if line.startswith("{")][-1])
    if got["max_gap"] is None:
        raise Unavailable(f"no answers during the migration: {got}")
    return took, got["max_gap"]


def part_lifecycle(b, kv, runs, memory=96, mode="pv"):
    """kvstore per side with memory= `memory` MB on both (the baseline's smallest is ~88, and
    the save file must fit in the dom0's RAM): `runs` cycles of xl save, xl restore, and the
    time from the restore's end to the first kvstore UDP reply; a key set before the first
    save must still be there after the last restore."""
    res = {s: {"save": [], "restore": [], "back": [], "migrate": [], "downtime": []}
           for s in SIDES}
    # The dom0's rootfs (/tmp) holds less than a 96 MB image: a tmpfs of its own holds it.
    b.bed.sh(f"mkdir -p {SAVE_DIR} && (mountpoint -q {SAVE_DIR} || "
             f"mount -t tmpfs -o size={memory + 48}m tmpfs {SAVE_DIR})", check=True)
    for s in SIDES:
        ip = "10.0.0.2"
        dom, _ = b.create(kv[s], "life", ip=ip, memory=memory, mode=mode)
        try:
            b.wait_up(dom, 11211)
            b.loadgen("kvkeep", ip, 11211, 1)
            for i in range(runs):
                t = time.monotonic()
                b.bed.sh(f"xl save {dom.name} {SAVE_DIR}/kv.save", timeout=300, check=True)
                t_save = time.monotonic() - t
                t = time.monotonic()
                r = b.bed.sh(f"xl restore {SAVE_DIR}/kv.save; rc=$?; rm -f {SAVE_DIR}/kv.save; "
                             "exit $rc", timeout=300)
                t_restore = time.monotonic() - t
                if r.rc != 0:
                    raise Unavailable(f"xl restore failed: {r.output.strip()[-300:]}")
                t = time.monotonic()
                b.wait_up(dom, 11211, seconds=120)
                res[s]["save"].append(t_save)
                res[s]["restore"].append(t_restore)
                res[s]["back"].append(time.monotonic() - t)
                log(f"lifecycle {s} run {i + 1}: save {t_save:.2f} s, restore {t_restore:.2f} s, "
                    f"answers {res[s]['back'][-1]:.2f} s later")
            for i in range(runs if mode == "pvh" else 0):   # PV cannot migrate here
                took, down = _migrate(b, dom, ip)
                b.wait_up(dom, 11211, seconds=120)
                res[s]["migrate"].append(took)
                res[s]["downtime"].append(down)
                log(f"lifecycle {s} migration {i + 1}: xl migrate {took:.2f} s, longest "
                    f"silence {down:.3f} s")
            got = b.loadgen("kvkeep", ip, 11211, 0)
            res[s]["kept"] = got.get("value") == "kept"
        except Unavailable as e:
            res[s]["error"] = f"unavailable: {e}"
            log(f"lifecycle {s}: {e}")
        finally:
            b.destroy(dom)
    b.bed.sh(f"umount {SAVE_DIR}")
    for s in SIDES:
        for k in ("save", "restore", "back", "migrate", "downtime"):
            res[s][k] = stats.summarize(res[s][k]) | {"runs": res[s][k]}
    res["memory_mb"] = memory
    res["mode"] = mode
    return res


def _kv_smoke(b, dom, seconds):
    b.wait_up(dom, 11211, seconds=seconds)


def _http_smoke(b, dom, seconds):
    """httpd says it serves and answers GET / with 200 (Unavailable otherwise)."""
    end = time.monotonic() + seconds
    _wait_tcp_app(b, dom, r"^httpd: serving", r"^httpd: (?!site|serving)|^fatal error",
                  timeout=seconds)
    out = ""
    while time.monotonic() < end:
        c = subprocess.run([*b.bed.netns.exec_prefix(), sys.executable, "-c",
                            "import sys, urllib.request as u; "
                            "r = u.urlopen(sys.argv[1], timeout=10); "
                            "print(r.status, len(r.read()))", f"http://{dom.ip}/"],
                           capture_output=True, text=True, timeout=60)
        out = (c.stdout + c.stderr).strip()
        if c.returncode == 0 and out.startswith("200 "):
            return
        time.sleep(1)
    raise Unavailable(f"{dom.name}: GET / did not answer 200 within {seconds} s: {out[-200:]}")


#: The smallest-memory search: the same range and the same smoke timeout on both sides.
MEMORY_RANGE = (4, 256)
MEMORY_SMOKE_SECONDS = 75


def part_memory(b, app, smoke=_kv_smoke, tries=3, lo_hi=MEMORY_RANGE):
    """The smallest memory= (MB) with which each side of app boots and passes smoke(b, dom,
    seconds), bisected over the same range for both sides: a size passes when `tries` boots
    in a row pass (the first failure ends it), so a flaky size never counts as enough."""
    out = {"min_mb": {}, "probes": {}, "tries": tries, "range_mb": list(lo_hi),
           "smoke_seconds": MEMORY_SMOKE_SECONDS}
    for s in SIDES:
        def boots(mb, i, s=s):
            try:
                dom, _ = b.create(app[s], "mem", ip="10.0.0.2", memory=mb)
            except bedmod.BedError as e:
                log(f"memory {s} {mb} MB try {i}: xl create failed: {bed_error_line(e)}")
                return False
            try:
                smoke(b, dom, MEMORY_SMOKE_SECONDS)
                log(f"memory {s} {mb} MB try {i}: boots and answers")
                return True
            except (Unavailable, bedmod.BedError) as e:
                log(f"memory {s} {mb} MB try {i}: fails: {str(e)[:200]}")
                return False
            finally:
                b.destroy(dom)

        def ok(mb):
            return all(boots(mb, i + 1) for i in range(tries))
        m, probes = stats.bisect_min(*lo_hi, ok)
        out["min_mb"][s] = m if m is not None else f"unavailable: does not pass at {lo_hi[1]} MB"
        out["probes"][s] = probes
    return out


def same_memory(app):
    """The memory= (MB) both sides of app get in a throughput or latency part: the larger of
    their configured ones (the baseline's, 128 MB and up), so that no row compares a guest
    with a smaller one."""
    return max(app[s].memory for s in SIDES)


def part_echo(b, echo, seconds, clients=16):
    res = {"udp_echo": {}, "ping_rtt": {}, "ping_detail": {}, "memory_mb": same_memory(echo)}
    ping = shutil.which("ping")
    for s in SIDES:
        ip = "10.0.0.2"
        dom, _ = b.create(echo[s], "echo", ip=ip, memory=same_memory(echo))
        try:
            b.bed.ping(ip, timeout=120)

            def rtt():
                r = subprocess.run([*b.bed.netns.exec_prefix(), ping, "-q", "-c", "50", "-i",
                                    "0.05", "-W", "2", ip], capture_output=True, text=True,
                                   timeout=120)
                p = stats.parse_ping(r.stdout)
                return p.get("avg", "unavailable: no RTT in ping's summary"), p
            res["ping_rtt"][s], res["ping_detail"][s] = repeat(b, f"ping {s} RTT ms", rtt)
            if "dom0_floor" not in res["ping_detail"]:
                # The same path without a domU's stack: the dom0's bridge address.
                r0 = subprocess.run([*b.bed.netns.exec_prefix(), ping, "-q", "-c", "50", "-i",
                                     "0.05", "-W", "2", b.bed.dom0_addr.split("/")[0]],
                                    capture_output=True, text=True, timeout=120)
                res["ping_detail"]["dom0_floor"] = stats.parse_ping(r0.stdout)
            def echo_rate():
                u = _with_cpu(b, dom, lambda: b.loadgen("udpecho", ip, 7, clients, seconds))
                return u["ops"] / u["seconds"], u
            res["udp_echo"][s], res["udp_echo"][s + "_detail"] = repeat(
                b, f"echo {s} UDP round trips/s", echo_rate)
        finally:
            b.destroy(dom)
    # Latency beside a CPU-bound goroutine: the same program with one goroutine spinning in a
    # loop without calls (ECHO_SPIN=1), one client, one datagram in flight.
    res["udp_echo_spin_p99"] = {}
    for s in SIDES:
        ip = "10.0.0.2"
        dom, _ = b.create(echo[s], "echospin", ip=ip, words=("env.ECHO_SPIN=1",),
                          memory=same_memory(echo))
        try:
            dom.wait_for(r"^echo: listening on .* 1 spinning goroutines", timeout=120)
            b.bed.ping(ip, timeout=120)
            def spin_p99():
                u = b.loadgen("udpecho", ip, 7, 1, seconds)
                if "rtt_p99_ms" not in u:
                    raise Unavailable(f"echo {s} with a spinner: no answer in {seconds} s: {u}")
                return u["rtt_p99_ms"], u
            res["udp_echo_spin_p99"][s], res["udp_echo_spin_p99"][s + "_detail"] = repeat(
                b, f"echo {s} p99 ms beside a spinning goroutine", spin_p99)
        finally:
            b.destroy(dom)
    return res


def _wrk():
    w = shutil.which("wrk")
    if w:
        return w
    try:
        debian.apt_install(["wrk"], "httpd's load tool")
    except debian.FetchError as e:
        raise Unavailable(str(e)) from None
    return shutil.which("wrk") or "wrk"


def _wait_tcp_app(b, dom, ready, fail, timeout=120):
    """Wait for the app's ready console line; the guest's error line -> Unavailable."""
    line = dom.wait_for(f"({ready})|({fail})", timeout=timeout).text
    if re.search(fail, line):
        raise Unavailable(line)
    b.bed.ping(dom.ip, timeout=60)
    return line


def part_http(b, httpd, seconds, conns=32):
    res = {}
    wrk = _wrk()
    for s in SIDES:
        ip = "10.0.0.3"
        dom, _ = b.create(httpd[s], "http", ip=ip, memory=same_memory(httpd))
        try:
            try:
                _wait_tcp_app(b, dom, r"^httpd: serving", r"^httpd: (?!site|serving)")
            except Unavailable as e:
                res[s] = f"unavailable: {e}"
                log(f"httpd {s}: {res[s]}")
                continue
            t = time.monotonic()
            c = subprocess.run([*b.bed.netns.exec_prefix(), sys.executable, "-c",
                                "import sys, urllib.request as u; "
                                "r = u.urlopen(sys.argv[1], timeout=60); "
                                "print(r.status, len(r.read()))", f"http://{ip}/"],
                               capture_output=True, text=True, timeout=120)
            res[s + "_first_get"] = {"output": (c.stdout + c.stderr).strip()[-300:],
                                     "seconds": time.monotonic() - t}
            log(f"httpd {s}: GET / -> {res[s + '_first_get']}")
            def rate():
                r = subprocess.run([*b.bed.netns.exec_prefix(), wrk, "-t2", f"-c{conns}",
                                    f"-d{seconds}s", f"http://{ip}/"], capture_output=True,
                                   text=True, timeout=seconds * 3 + 60)
                w = stats.parse_wrk(r.stdout)
                w["wrk_output"] = r.stdout[-1500:]
                return w["requests_per_s"], w
            res[s], res[s + "_detail"] = repeat(b, f"httpd {s} requests/s", rate)
        finally:
            b.destroy(dom)
    return res


def part_tcp(b, tcpbulk, seconds):
    res = {"tcp_sink": {}, "tcp_source": {}}
    for s in SIDES:
        ip = "10.0.0.2"
        dom, _ = b.create(tcpbulk[s], "tcp", ip=ip, memory=same_memory(tcpbulk))
        try:
            try:
                _wait_tcp_app(b, dom, r"^tcpbulk: sink on", r"^tcpbulk: (?!sink on)")
            except Unavailable as e:
                for k in res:
                    res[k][s] = f"unavailable: {e}"
                log(f"tcpbulk {s}: unavailable: {e}")
                continue
            def sink():
                k = _with_cpu(b, dom, lambda: b.loadgen("tcpsink", ip, 5001, seconds))
                if k["acked"] != k["bytes"]:   # wrong data: a failed run, counted as such
                    return (f"error: sent {k['bytes']} bytes, the sink counted {k['acked']}",
                            k)
                return k["bytes"] / k["seconds"] / 1e6, k

            def source():
                o = _with_cpu(b, dom, lambda: b.loadgen("tcpsource", ip, 5002, seconds))
                return o["bytes"] / o["seconds"] / 1e6, o
            res["tcp_sink"][s], res["tcp_sink"][s + "_detail"] = repeat(
                b, f"tcpbulk {s} into the guest MB/s", sink)
            res["tcp_source"][s], res["tcp_source"][s + "_detail"] = repeat(
                b, f"tcpbulk {s} out of the guest MB/s", source)
        finally:
            b.destroy(dom)
    return res


#: The idle part: connections are opened IDLE_STEP at a time up to IDLE_MOST (the bench's own
#: bound; the client's open-file limit may lower it: 20,000 here), with kvstore's own cap
#: (KV_MAX_CONNS) above it on both sides; memory per connection is read at the most
#: connections every run of both sides reached at the larger size (the runtime's Sys grows in
#: chunks: the more connections, the less a chunk weighs).
IDLE_MEMORY = (64, 128)
IDLE_MOST = 30_000
IDLE_STEP = 100


def _idle_run(b, kv_side, s, mb):
    """One fresh kvstore guest of side s with memory= mb, filled with idle connections by
    loadgen's idlehold: (held, detail); a guest that does not boot is Unavailable."""
    ip = "10.0.0.2"
    try:
        dom, _ = b.create(kv_side, "idle", ip=ip, memory=mb,
                          words=(f"env.KV_MAX_CONNS={IDLE_MOST + 1000}",))
    except bedmod.BedError as e:
        raise Unavailable(f"xl create with {mb} MB failed: {bed_error_line(e)}") from None
    try:
        try:
            b.wait_up(dom, 11211)
        except Unavailable as e:
            raise Unavailable(f"kvstore does not come up in {mb} MB: {str(e)[:300]}") from None
        time.sleep(2)
        out = b.loadgen("idlehold", ip, 11211, IDLE_MOST, IDLE_STEP, timeout=3600)
        if not out["survived"]:
            out["fatal"] = _fatal_line(dom)
        log(f"idle {s} {mb} MB: held {out['held']}, answered {out['answered']} of "
            f"{out['opened']}; stop: {out['stop']}; {out['seconds']} s")
        return out["held"], out
    finally:
        b.destroy(dom)


def common_conns(details):
    """The most connections at which every one of the idlehold runs `details` took a step
    (steps are IDLE_STEP apart; a run's last may fall between)."""
    counts = None
    for d in details:
        c = {st["conns"] for st in d.get("steps", [])} if isinstance(d, dict) else set()
        counts = c if counts is None else counts & c
    return max(counts or (), default=0)


def per_conn_bytes(side, detail, at):
    """Memory per idle connection from one idlehold run: (used at `at` connections - used at
    rest) / at, where used is the Go runtime's Sys for the unikernel (all the memory it takes
    beyond its fixed image) and MemTotal - MemAvailable for the Linux guest (kernel and
    process); a string when the run did not get that far."""
    key = "go_sys" if side == "unikernel" else "mem_used"
    if not isinstance(detail, dict):
        return "unavailable: no run"
    step = next((st for st in detail.get("steps", []) if st["conns"] == at), None)
    rest = detail.get("rest", {})
    if step is None or key not in step or key not in rest:
        return f"unavailable: the run did not reach {at} connections ({detail.get('stop')})"
    return (step[key] - rest[key]) / at


def part_atmin(ctx):
    """kvstore's UDP and TCP rates with each side at its own smallest memory (the memory
    part's min_mb, found earlier in the same run), as the throughput rows measure them."""
    mins = ctx.results.get("memory", {}).get("min_mb", {})
    if not all(isinstance(mins.get(s), int) for s in SIDES):
        raise Unavailable(f"needs the memory part's smallest sizes in the same run (have {mins})")
    res = {"memory_mb": {s: mins[s] for s in SIDES}, "kv_udp": {}, "kv_tcp": {}}
    for s in SIDES:
        kv = part_kv(ctx.b, {s: ctx.kv[s]}, ctx.args.seconds, memory=mins[s], fill=False,
                     sides=(s,))
        res["kv_udp"] |= kv["kv_udp"]
        res["kv_tcp"] |= kv["kv_tcp"]
    return res


def part_idle(b, kv, memories=IDLE_MEMORY):
    """Idle TCP connections kvstore holds with memory= mb on each side (b.repeats fresh guests
    each), how many still answer once the client has opened all it could (0: the guest or
    the app died of it), and the memory each one costs (per_conn_bytes, at the larger size)."""
    res = {"memory_mb": list(memories), "most": IDLE_MOST, "step": IDLE_STEP}
    for mb in memories:
        held = res[f"held_{mb}"] = {}
        after = res[f"answered_{mb}"] = {}
        for s in SIDES:
            held[s], held[s + "_detail"] = repeat(
                b, f"idle {s} connections held in {mb} MB", lambda: _idle_run(b, kv[s], s, mb),
                first_fails_all=True)
            vals = [d["answered"] if isinstance(d, dict) else "unavailable: no run"
                    for d in held[s + "_detail"]]
            after[s] = stats.summarize(vals) | {"runs": vals}
    big = max(memories)
    at = common_conns([d for s in SIDES for d in res[f"held_{big}"][s + "_detail"]])
    res["per_conn_at"] = at
    res["per_conn"] = {"memory_mb": big}
    for s in SIDES:
        vals = [per_conn_bytes(s, d, at) if at else "unavailable: a run reached no step"
                for d in res[f"held_{big}"][s + "_detail"]]
        res["per_conn"][s] = stats.summarize(vals) | {"runs": vals}
    return res


#: The loss part's drops: this share of TCP packets between the bed's namespace and the guest,
#: each way (nftables numgen random, RFC-style uniform loss).
LOSS_PERCENT = 5


def loss_rules(guest_ip, percent):
    """The nftables script that drops percent% of TCP packets to and from guest_ip in the
    bed's namespace (input and output hooks: the load generator runs there)."""
    return (f"table inet gxbloss {{\n"
            f"  chain in {{ type filter hook input priority 0; "
            f"ip saddr {guest_ip} meta l4proto tcp numgen random mod 100 < {percent} drop; }}\n"
            f"  chain out {{ type filter hook output priority 0; "
            f"ip daddr {guest_ip} meta l4proto tcp numgen random mod 100 < {percent} drop; }}\n"
            f"}}\n")


def part_tcploss(b, tcpbulk, seconds, percent=LOSS_PERCENT):
    """part_tcp with percent% of TCP packets dropped each way. The bed is booted again with a
    TAP that carries wire frames (Bed.wire_offload False), so that a drop is one MTU frame, not
    a 64 KiB segment on its way to be cut; and once more as it was afterwards."""
    if not shutil.which("nft"):
        debian.apt_install(["nftables"], "the loss part's drops")
    ip = "10.0.0.2"
    log(f"tcploss: booting the bed with wire frames on its TAP; {percent}% of TCP packets dropped each way")
    b.bed.wire_offload = False
    b.bed.restart()
    try:
        r = subprocess.run([*b.bed.netns.exec_prefix(), "nft", "-f", "-"], input=loss_rules(ip, percent),
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError(f"nft: {r.stderr.strip()}")
        res = part_tcp(b, tcpbulk, seconds)
    finally:
        subprocess.run([*b.bed.netns.exec_prefix(), "nft", "delete", "table", "inet", "gxbloss"],
                       capture_output=True, timeout=30)
        b.bed.wire_offload = True
        log("tcploss: booting the bed again as it was")
        b.bed.restart()
    return {"tcp_sink_loss": res["tcp_sink"], "tcp_source_loss": res["tcp_source"]}


def part_fsread(b, fsread, expect_crc, expect_bytes):
    res = {"expected": {"crc32": expect_crc, "bytes": expect_bytes}}
    for s in SIDES:
        dom, _ = b.create(fsread[s], "fsread", timeout=600, memory=same_memory(fsread))
        try:
            dom.wait_for(r"^exit status \d+", timeout=900)
            passes = stats.parse_fsread(line.text for line in dom.lines)
            if not passes:
                res[s] = f"error: no fsread lines: {_last_lines(dom)}"
                continue
            bad = [p for p in passes if p["crc32"] != expect_crc or p["bytes"] != expect_bytes]
            if bad and bad[0] is passes[0]:
                res[s] = (f"error: read {bad[0]['bytes']} bytes crc32 {bad[0]['crc32']}, "
                          f"expected {expect_bytes} bytes crc32 {expect_crc}")
            else:
                # The first pass is the measurement; a later pass that read wrong bytes is
                # reported (it means the guest corrupts data), not hidden.
                res[s] = expect_bytes / passes[0]["seconds"] / 1e6
            if bad:
                res[s + "_bad_passes"] = bad
                log(f"fsread {s}: WRONG DATA in pass(es) {[p['pass'] for p in bad]}")
            res[s + "_passes"] = passes
            log(f"fsread {s}: {passes}")
        finally:
            b.destroy(dom)
    return res


def part_cpusplit(b, cpusplit):
    """apps/cpusplit per side: the speedup of its work split over NumCPU goroutines against
    one goroutine, each of its runs (median, min-max); NumCPU as each side saw it."""
    res = {}
    for s in SIDES:
        dom, _ = b.create(cpusplit[s], "cpusplit", timeout=600)
        try:
            dom.wait_for(r"^exit status \d+", timeout=900)
            text = "\n".join(line.text for line in dom.lines)
            runs = stats.parse_cpusplit(text)
            ncpu = stats.parse_cpusplit_ncpu(text)
            if not runs:
                res[s] = f"error: no cpusplit lines: {_last_lines(dom)}"
                continue
            res[s] = stats.summarize(one / many for one, many in runs)
            res[s + "_detail"] = {"numcpu": ncpu, "runs_ns": runs}
            log(f"cpusplit {s}: NumCPU {ncpu}, speedup {res[s]}")
        finally:
            b.destroy(dom)
    return res


SMP_VCPUS = 2


def part_smp(ctx):
    """Both sides as PV guests with SMP_VCPUS vCPUs, on a bed of its own whose machine has as
    many CPUs (the shared bed has one: testbed.bed.BED_CPUS says why; PV guests are not
    affected): apps/cpusplit's speedup, kvstore's UDP and TCP rates and httpd's, as in the
    kv and http parts."""
    bed = bedmod.Bed(paths.BUILD / "testbed" / image.BED_KERNEL,
                     paths.BUILD / "testbed" / image.BED_INITRAMFS,
                     workdir=paths.BUILD / "testbed" / "run-smp", cpus=SMP_VCPUS)
    log(f"booting a bed with {SMP_VCPUS} CPUs for the parallel part")
    bed.start()
    try:
        b = Bench(bed, ctx.out_dir, ctx.args.seconds, ctx.args.repeats, vcpus=SMP_VCPUS)
        res = {"vcpus": SMP_VCPUS, "speedup": part_cpusplit(b, ctx.sides["cpusplit"])}
        kv = part_kv(b, ctx.kv, ctx.args.seconds, fill=False)
        res["kv_udp"], res["kv_tcp"] = kv["kv_udp"], kv["kv_tcp"]
        res["http"] = part_http(b, ctx.sides["httpd"], ctx.args.seconds)
        return res
    finally:
        bed.close()


# ---------------------------------------------------------------------------------------------

class Context:
    """What the parts measure with: the arguments, the apps and their two sides, the output
    directory and (once the bed is up) the Bench."""

    def __init__(self, args, apps, sides, out_dir, results=None):
        self.args, self.apps, self.sides, self.out_dir = args, apps, sides, out_dir
        self.results = {} if results is None else results   # what earlier parts measured
        self.b = None

    @property
    def kv(self):
        return self.sides.get("kvstore")


def _host_part(ctx):
    from goxen.bench import host
    return host.run(ctx.out_dir, log)


def _fsread_part(ctx):
    t = Path(ctx.apps["fsread"]["romfs"]) / "tree"
    return part_fsread(ctx.b, ctx.sides["fsread"], tree.checksum(t), tree.total_bytes(t))


def _put(key):
    def store(results, r):
        results[key] = r
    return store


def _thr(*keys):
    """Store r's keys (all of r when none are named) in results["throughput"]."""
    def store(results, r):
        thr = results.setdefault("throughput", {})
        thr.update({k: r[k] for k in keys} if keys else r)
    return store


def _store_kv(results, r):
    results.setdefault("memory", {})["resident"] = r["resident"]
    _thr("kv_udp", "kv_tcp")(results, r)


def _store_memory(key=None):
    def store(results, r):
        mem = results.setdefault("memory", {})
        mem.update(r) if key is None else mem.__setitem__(key, r)
    return store


@dataclass(frozen=True)
class Part:
    name: str
    bed: bool              # runs on the tier-3 bed
    steps: tuple           # ((measure(ctx) -> result, store(results, result)), ...)
    after_bed: bool = False  # runs once the bed is closed (needs the machine to itself)


#: Every part of `./scons bench`, in the order they run (--only picks some).
PART_TABLE = (
    Part("image", False, ((lambda c: part_image(c.apps, c.sides, c.out_dir), _put("image")),)),
    Part("boot", True, ((lambda c: part_boot(c.b, c.kv, c.args.runs), _put("boot")),)),
    Part("kv", True, ((lambda c: part_kv(c.b, c.kv, c.args.seconds), _store_kv),)),
    Part("memory", True, (
        (lambda c: part_memory(c.b, c.kv, _kv_smoke, c.args.memory_tries), _store_memory()),
        (lambda c: part_memory(c.b, c.sides["httpd"], _http_smoke, c.args.memory_tries),
         _store_memory("httpd")))),
    Part("echo", True, ((lambda c: part_echo(c.b, c.sides["echo"], c.args.seconds), _thr()),)),
    Part("http", True, ((lambda c: {"http": part_http(c.b, c.sides["httpd"], c.args.seconds)},
                         _thr()),)),
    Part("tcp", True, ((lambda c: part_tcp(c.b, c.sides["tcpbulk"], c.args.seconds), _thr()),)),
    Part("tcploss", True, ((lambda c: part_tcploss(c.b, c.sides["tcpbulk"], c.args.seconds),
                            _thr()),)),
    Part("idle", True, ((lambda c: part_idle(c.b, c.kv), _put("idle")),)),
    Part("atmin", True, ((part_atmin, _put("atmin")),)),
    Part("fsread", True, ((lambda c: {"fsread": _fsread_part(c)}, _thr()),)),
    Part("lifecycle", True, ((lambda c: part_lifecycle(c.b, c.kv, min(c.args.runs, 3)),
                              _put("lifecycle")),)),
    Part("pvh", True, (
        (lambda c: part_boot(c.b, c.kv, c.args.runs, "pvh"), _put("boot_pvh")),
        (lambda c: part_lifecycle(c.b, c.kv, min(c.args.runs, 3), 96, "pvh"),
         _put("lifecycle_pvh")))),
    Part("host", False, ((_host_part, _put("host")),), after_bed=True),
    Part("smp", False, ((part_smp, _put("smp")),), after_bed=True),
)
PARTS = tuple(part.name for part in PART_TABLE)


METHOD = {
    "boot": "host CLOCK_MONOTONIC from sending `xl create -p && xl unpause` to the dom0 (kernel "
            "and ramdisk already copied into the dom0's RAM) to the first ICMP echo reply / "
            "first kvstore UDP `version` reply, probed every 10 ms from the bed's namespace; "
            "median and spread (max-min) over the runs; kvstore with its configured memory=. "
            "Timeline (the guests' own clocks from their first instruction): the median of up "
            "to 3 traced unikernel boots (boottrace=1: goxen-boot stages, pvclock, relative to "
            "the entry's TSC) and of the baseline runs' /init uptime lines (Linux's clock "
            "starts in its early boot, a little after its first instruction).",
    "image": "as built and as shipped. Built: the unikernel's .xen file (and its PT_LOAD "
             "bytes) against Debian's vmlinux (compacted ELF, as the bed boots it) + the gzip "
             "initramfs (busybox, xen-netfront, the Go binary, romfs tree): the forms both "
             "sides boot from in every other part (uncompressed kernels: decompression costs "
             "seconds under TCG, not on hardware). Shipped: the unikernel stripped "
             "(objcopy --strip-all) and gzip -9 (libxenguest loads gzip kernels) against "
             "Debian's bzImage (vmlinuz, as the package ships it) + the same initramfs.",
    "memory": "min_mb: smallest memory= at which kvstore boots and answers UDP set/get "
              "(bisected). resident: kvstore (memory=256 on both sides, KV_MEMORY=16M from "
              "its config) stats at rest and after 100k 100-byte keys: "
              "go_sys = runtime.MemStats.Sys on both sides; used = go_sys + kernel image bytes "
              "for the unikernel (all it has besides what the runtime mapped), MemTotal - "
              "MemAvailable of the whole Linux guest for the baseline; rss (baseline only) is "
              "the process's resident set.",
    "lifecycle": "kvstore with memory=96 on both sides: host CLOCK_MONOTONIC around `xl save "
                 "DOM FILE` and `xl restore FILE` run in the dom0 (FILE in a tmpfs, its RAM), then "
                 "from the restore's end to the first kvstore UDP reply; up to 3 cycles on one "
                 "domain, median; a key set before the first save is read after the last.",
    "pvh": "the boot and lifecycle parts again with both sides as PVH guests (xl type = "
           "\"pvh\": the same unikernel image; the same Linux vmlinux and initramfs), plus "
           "`xl migrate -s \"\" DOM \"xl migrate-receive\"` (live migration to the same host; "
           "PV cannot migrate with Debian's Xen 4.17) up to 3 times per side while a UDP "
           "`version` goes to kvstore every 10 ms: the command's time and the longest time "
           "between two replies (downtime as a client sees it).",
    "tcploss": "the tcp part's two loads (3 runs each) with 5% of TCP packets to and from the "
               "guest dropped in the bed's namespace (nftables numgen random, input and output "
               "hooks), on the bed booted with a TAP that carries wire frames (QEMU vnet_hdr=off: "
               "the dom0 cuts segments itself, so a drop is one frame), for both sides alike.",
    "idle": "kvstore (the app's own connection cap KV_MAX_CONNS raised above the bench's "
            "bound on both sides; the baseline's open-file limit raised by its wrapper) with "
            "memory= 64 and 128 MB, a fresh guest per run (3 runs per side and size): the "
            "bed's namespace opens idle TCP connections 100 at a time (up to 30,000 or the "
            "client's open-file limit) until a "
            "connect fails or times out (10 s), the guest resets or closes one, kvstore does "
            "not count them all as open within 20 s, or it stops answering `stats` over UDP; "
            "after each step kvstore must count them all and 20 random ones answer `version`; "
            "held = the connections open after the last step that passed; then every open "
            "connection is sent `version`: still answering = those that answered (0 when "
            "the client's push killed the guest or the app). Each side's own "
            "limits stay as they are (the unikernel's netconns= default: half the heap at 8 "
            "KiB per connection, and memory pressure; Linux's). Memory per idle connection: "
            "(memory used at N connections - at rest) / N in the 128 MB runs, N the most "
            "connections every run of both sides reached; used = Go runtime Sys on the "
            "unikernel, MemTotal - MemAvailable (kernel and process) on Linux.",
    "atmin": "kvstore UDP and TCP ops/s as in the throughput rows, with each side at its own "
             "smallest memory= (the memory part's min_mb of the same run) instead of the same "
             "memory on both.",
    "smp": "both sides as PV guests with vcpus = 2 on a bed whose machine has 2 CPUs (QEMU "
           "-smp 2; the other parts' bed has one), the same memory= as elsewhere: "
           "apps/cpusplit's CPU-bound work (a 64-bit LCG, 2e8 steps) on one goroutine and "
           "split over NumCPU, 3 runs, speedup = one/many per run (median, min-max); kvstore "
           "UDP and TCP ops/s and httpd requests/s as in the throughput rows. The host has 2 "
           "cores and QEMU's I/O and the load generator share them.",
    "throughput": "closed loop, one request in flight per client, from the bed's namespace "
                  "(the load generator shares the host's 2 cores with QEMU), both sides with the "
                  "same memory= (the larger configured one; kvstore 256 MB): kvstore 9:1 "
                  "get:set over 1000 keys; UDP echo of 64-byte datagrams; ping -i 0.05 x50; "
                  "wrk -t2 -c32 on /; TCP: one connection into apps/tcpbulk's sink (byte count "
                  "checked) and out of its source; fsread: first pass over the 50 MB tree, "
                  "checksum checked against the host's.",
}


def load_manifest(path):
    data = json.loads(Path(path).read_text())
    return {a["name"]: a for a in data["apps"]}


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m goxen.bench.run")
    p.add_argument("--manifest", required=True)
    p.add_argument("--out", default=str(paths.BUILD / "bench"))
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--memory-tries", type=int, default=3,
                   help="boots in a row a memory size must pass in the smallest-memory search")
    p.add_argument("--repeats", type=int, default=3,
                   help="runs of each throughput and latency load per side (median, min-max)")
    p.add_argument("--only", default=",".join(PARTS))
    args = p.parse_args(argv)
    only = set(args.only.split(","))
    unknown = only - set(PARTS)
    if unknown:
        p.error(f"unknown part(s) {', '.join(sorted(unknown))}; parts: {', '.join(PARTS)}")
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    apps = load_manifest(args.manifest)
    started = time.time()
    results = {"meta": {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
                        "machine": _machine(), "runs": args.runs, "seconds": args.seconds,
                        "repeats": args.repeats,
                        "parts": sorted(only)},
               "method": METHOD, "errors": {}}
    log("building the baseline initramfs of each app (app + env wrapper + romfs tree)")
    sides = {}
    for name, app in apps.items():
        ramdisk = baseline_initramfs(app, out_dir)
        sides[name] = {"unikernel": Side(app, "unikernel"),
                       "baseline": Side(app, "baseline", ramdisk)}
    failed = False

    def attempt(part, fn, *a):
        nonlocal failed
        log(f"--- {part.name}")
        if part.bed and bed is not None and bed.needs_restart:
            bedmod.retried("bed booted again",
                           f"the test bed is unusable ({bed.needs_restart}); booting it again")
            bed.restart()
        try:
            return fn(*a)
        except Unavailable as e:
            results["errors"][part.name] = f"unavailable: {e}"
        except Exception as e:      # recorded, reported and the run goes on with other parts
            failed = True
            results["errors"][part.name] = f"error: {type(e).__name__}: {e}"
            traceback.print_exc()
        log(f"{part.name}: {results['errors'][part.name][:300]}")
        return None

    ctx = Context(args, apps, sides, out_dir, results)
    need_bed = [part for part in PART_TABLE if part.name in only and part.bed]
    bed = None
    if need_bed:
        log("booting the tier-3 test bed (Xen + Linux dom0 in QEMU)")
        bed = bedmod.Bed(paths.BUILD / "testbed" / image.BED_KERNEL,
                         paths.BUILD / "testbed" / image.BED_INITRAMFS,
                         workdir=paths.BUILD / "testbed" / "run")
        bed.start()
        log(f"test bed up in {bed.boot_seconds:.1f} s (netns {bed.netns.name})")
        ctx.b = Bench(bed, out_dir, args.seconds, args.repeats)
    try:
        for part in PART_TABLE:
            if part.name not in only or (not part.bed and bed is not None and part.after_bed):
                continue
            for measure, store in part.steps:
                r = attempt(part, measure, ctx)
                if r is not None:
                    store(results, r)
    finally:
        if bed is not None:
            bed.close()
    for part in PART_TABLE:     # parts that want the machine to themselves, once QEMU is gone
        if part.name in only and part.after_bed and bed is not None:
            for measure, store in part.steps:
                r = attempt(part, measure, ctx)
                if r is not None:
                    store(results, r)
    results["meta"]["wall_seconds"] = time.time() - started
    results["meta"]["retries"] = dict(bedmod.RETRIES)
    fs = results.get("throughput", {}).get("fsread")
    results["meta"]["wrong_data"] = {
        s: len(fs.get(s + "_bad_passes", [])) for s in SIDES} if isinstance(fs, dict) else {}
    return finish(results, out_dir) or (1 if failed else 0)


def _machine():
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"host": platform.node(), "cpus": os.cpu_count(), "cpu": cpu,
            "kernel": platform.release(), "xen": f"Xen {debian.XEN_VERSION} in QEMU (TCG)"}


def finish(results, out_dir):
    """Write results.json, table.txt/.md and the plots; print the table."""
    rs = stats.rows(results)
    results["rows"] = rs
    (out_dir / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    text = stats.table(rs)
    (out_dir / "table.txt").write_text(text)
    (out_dir / "table.md").write_text(stats.markdown(rs))
    from goxen.bench import plots
    plots.boot_timeline(results, out_dir / "boot_timeline.png")
    plots.ratios(rs, out_dir / "ratios.png")
    host = results.get("host")
    print()
    print(f"./scons bench, {results['meta']['date']}, {results['meta']['machine']['cpu']} "
          f"x{results['meta']['machine']['cpus']}, {results['meta']['machine']['xen']}, "
          f"wall {results['meta'].get('wall_seconds', 0):.0f} s")
    print(text)
    if isinstance(host, dict) and host.get("table"):
        print("host netstack vs Linux on the TAP:")
        print(host["table"])
    elif host is not None:
        print(f"host netstack vs Linux: {json.dumps(host, default=str)[:500]}")
    for part, err in results.get("errors", {}).items():
        print(f"{part}: {err}")
    # Every defensive retry and every wrong read, so that a flaky bed cannot hide in medians.
    print(bedmod.retry_report(results["meta"].get("retries", {})))
    wrong = results["meta"].get("wrong_data") or {}
    print("wrong data read back: " + (", ".join(f"{s} {n}" for s, n in wrong.items()) or "not measured"))
    print(f"results: {out_dir / 'results.json'}; plots: {out_dir / 'boot_timeline.png'}, "
          f"{out_dir / 'ratios.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
