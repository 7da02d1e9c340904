"""The pure part of `./scons bench`: parsing guest and tool output, statistics, ratios, the
targets of issue 9 and the results table. No I/O here (unit-tested with fixture data in
tests/unit/test_bench.py).

A measured value is a number, or a string "unavailable: WHY" / "missing: WHY" / "error: WHY"
when it could not be measured; such a value never counts as a met target.
"""

import re
import statistics

#: The unikernel's boot-timeline stages (goxen-boot: STAGE NS, pvclock system time in ns), in
#: boot order.
BOOT_STAGES = ("entry", "runtime", "main", "net")
_BOOT_LINE = re.compile(r"^goxen-boot: (\w+) (\d+)\s*$")
#: The baseline's /init prints its kernel uptime at these points (goxen/dom0/baseline-init).
_BASELINE_LINE = re.compile(r"^BASELINE-(INIT|NET)\b.*\buptime=([\d.]+)")


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def summarize(values):
    """{n, failed, median, min, max, spread} of values: the statistics of the numbers among
    them (spread = max - min), and how many were not numbers ("unavailable: ...", None: runs
    that failed), so that a failure is counted, never silently left out of a median. A list
    without numbers gives n=0 and None elsewhere."""
    values = list(values)
    nums = sorted(v for v in values if is_number(v))
    failed = len(values) - len(nums)
    if not nums:
        return {"n": 0, "failed": failed, "median": None, "min": None, "max": None,
                "spread": None}
    return {"n": len(nums), "failed": failed, "median": statistics.median(nums),
            "min": nums[0], "max": nums[-1], "spread": nums[-1] - nums[0]}


def _median_of(v):
    """v itself, or the median of a summarize() dict (None median: "unavailable: ...")."""
    if isinstance(v, dict) and "median" in v:
        if v["median"] is None:
            if not v.get("failed"):
                return "missing: not measured"
            why = next((r for r in v.get("runs", ()) if isinstance(r, str)), "")
            why = why.removeprefix("unavailable: ")
            n = v["failed"]
            return f"unavailable: {'all ' + str(n) + ' runs' if n > 1 else 'the run'} " \
                   f"failed" + (f": {why}" if why else "")
        return v["median"]
    return v


def _spread_of(v):
    """{n, failed, min, max} of a summarize() dict with numbers, else None."""
    if isinstance(v, dict) and is_number(v.get("median")):
        return {k: v.get(k) for k in ("n", "failed", "min", "max")}
    return None


def parse_boottrace(lines):
    """{stage: ns} from `goxen-boot: STAGE NS` lines; the first line of each stage counts."""
    out = {}
    for line in lines:
        m = _BOOT_LINE.match(line.strip())
        if m and m.group(1) in BOOT_STAGES and m.group(1) not in out:
            out[m.group(1)] = int(m.group(2))
    return out


def boot_timeline(trace):
    """Milliseconds of each stage after `entry`: {stage: ms or "missing: ..."}.

    Without `entry` there is no origin and every stage is reported missing."""
    out = {}
    if "entry" not in trace:
        for stage in BOOT_STAGES:
            out[stage] = "missing: no goxen-boot: entry line" if stage not in trace else \
                "missing: no entry stage to measure from"
        return out
    origin = trace["entry"]
    for stage in BOOT_STAGES:
        if stage in trace:
            out[stage] = (trace[stage] - origin) / 1e6
        else:
            out[stage] = f"missing: the guest printed no goxen-boot: {stage} line"
    return out


def parse_baseline_timeline(lines):
    """{"init": ms, "net": ms}: the baseline Linux's uptime when its /init started and when
    eth0 had its address (from BASELINE-INIT/BASELINE-NET lines)."""
    out = {}
    for line in lines:
        m = _BASELINE_LINE.match(line.strip())
        if m:
            out.setdefault(m.group(1).lower(), float(m.group(2)) * 1000.0)
    return out


_PING_RTT = re.compile(r"= ([\d.]+)/([\d.]+)/([\d.]+)(?:/([\d.]+))? ms")
_PING_LOSS = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received")


def parse_ping(text):
    """{sent, received, min, avg, max} (RTTs in ms) from ping's summary (iputils or busybox)."""
    m = _PING_LOSS.search(text)
    if not m:
        raise ValueError(f"no ping summary in: {text[-300:]!r}")
    out = {"sent": int(m.group(1)), "received": int(m.group(2))}
    r = _PING_RTT.search(text)
    if r:
        out.update(min=float(r.group(1)), avg=float(r.group(2)), max=float(r.group(3)))
    return out


_UNITS = {"": 1, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9}
_TIME = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def parse_wrk(text):
    """{requests_per_s, latency_ms, requests, errors} from wrk's report."""
    m = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    if not m:
        raise ValueError(f"no Requests/sec in wrk output: {text[-300:]!r}")
    out = {"requests_per_s": float(m.group(1)), "errors": 0}
    lat = re.search(r"^\s+Latency\s+([\d.]+)(us|ms|s|m)\b", text, re.M)
    if lat:
        out["latency_ms"] = float(lat.group(1)) * _TIME[lat.group(2)]
    n = re.search(r"^\s+(\d+) requests in", text, re.M)
    if n:
        out["requests"] = int(n.group(1))
    err = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if err:
        out["errors"] += sum(int(x) for x in err.groups())
    non2 = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if non2:
        out["errors"] += int(non2.group(1))
    return out


_FSREAD = re.compile(r"^fsread: pass (\d+) files (\d+) bytes (\d+) crc32 ([0-9a-f]{8}) ns (\d+)$")


def parse_fsread(lines):
    """[{pass, files, bytes, crc32, seconds}] from apps/fsread's lines."""
    out = []
    for line in lines:
        m = _FSREAD.match(line.strip())
        if m:
            out.append({"pass": int(m.group(1)), "files": int(m.group(2)),
                        "bytes": int(m.group(3)), "crc32": m.group(4),
                        "seconds": int(m.group(5)) / 1e9})
    return out


_CPUSPLIT = re.compile(r"^cpusplit: run \d+ one (\d+) many (\d+)$", re.M)


def parse_cpusplit(text):
    """[(one_ns, many_ns)] from apps/cpusplit's lines."""
    return [(int(a), int(b)) for a, b in _CPUSPLIT.findall(text) if int(b) > 0]


def parse_cpusplit_ncpu(text):
    m = re.search(r"^cpusplit: NumCPU (\d+) ", text, re.M)
    return int(m[1]) if m else None


def parse_xl_cpu(text, name):
    """The Time(s) column (vCPU seconds) of domain name in `xl list` output, or None."""
    for line in text.splitlines()[1:]:
        w = line.split()
        if len(w) >= 6 and w[0] == name:
            try:
                return float(w[5])
            except ValueError:
                return None
    return None


def ratio(uni, base):
    """uni / base, or None when either is not a positive number."""
    if is_number(uni) and is_number(base) and base > 0:
        return uni / base
    return None


# ---------------------------------------------------------------------------------------------
# Rows, targets and the table

def row(section, metric, unit, uni, base, better, target=None):
    """One comparison: better is "lower" or "higher"; target is None or (kind, number):
    ("ratio_max", r)  met when uni/base <= r        ("ratio_min", r)  met when uni/base >= r
    ("abs_max", x)    met when uni <= x
    uni and base are values, or summarize() dicts (their median counts; their n, failed, min
    and max go into the row as unikernel_spread / baseline_spread).
    Returns a dict with ratio (uni/base) and met (True/False/None when not measurable)."""
    spreads = {"unikernel_spread": _spread_of(uni), "baseline_spread": _spread_of(base)}
    uni, base = _median_of(uni), _median_of(base)
    r = ratio(uni, base)
    met = None
    text = ""
    if target is not None:
        kind, x = target
        if kind == "ratio_max":
            text = f"<= 1/{1 / x:g} of baseline" if x < 1 else f"<= {x:g}x baseline"
            met = None if r is None else r <= x
        elif kind == "ratio_min":
            text = f">= {x:g}x baseline"
            met = None if r is None else r >= x
        elif kind == "abs_max":
            text = f"<= {x:g} {unit}"
            met = None if not is_number(uni) else uni <= x
        else:
            raise ValueError(f"unknown target kind {kind!r}")
    return {"section": section, "metric": metric, "unit": unit, "unikernel": uni,
            "baseline": base, "better": better, "ratio": r, "target": text, "met": met,
            **spreads}


def _get(d, *path):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return "missing: not measured"
        d = d[p]
    return d


def _boot_rows(section, prefix, boot):
    """xl create -> first ping / UDP reply, and the guests' own part: first instruction ->
    eth0 up (unikernel, goxen-boot: lines) vs the Linux kernel's start -> eth0 up (its uptime
    in baseline-init's BASELINE-NET line)."""
    out = [row(section, f"{prefix}{label}", "s", _get(boot, "unikernel", key),
               _get(boot, "baseline", key), "lower", ("ratio_max", 1 / 20))
           for key, label in (("icmp", "xl create -> first ping reply"),
                              ("udp", "xl create -> first kvstore UDP reply"))]
    out.append(row(section, f"{prefix}guest start -> network up (guest clocks)", "ms",
                   _get(boot, "timeline", "unikernel", "net"),
                   _get(boot, "timeline", "baseline", "net"), "lower", ("ratio_max", 1 / 20)))
    return out


def _lifecycle_rows(section, prefix, life, keys):
    mb = life.get("memory_mb", "?")
    labels = {"save": f"xl save (kvstore, {mb} MB)", "restore": f"xl restore (kvstore, {mb} MB)",
              "back": "restore done -> first kvstore UDP reply",
              "migrate": f"xl migrate, same host (kvstore, {mb} MB)",
              "downtime": "migration downtime (longest silence, 10 ms probe)"}
    return [row(section, f"{prefix}{labels[key]}", "s", _get(life, "unikernel", key),
                _get(life, "baseline", key), "lower") for key in keys]


def rows(results):
    """The comparison rows of a results dict (the structure goxen.bench.run writes)."""
    out = _boot_rows("boot", "", results.get("boot", {}))
    for app, sizes in sorted(results.get("image", {}).items()):
        base = sizes.get("baseline_total")
        out.append(row("image", f"{app} image", "bytes", sizes.get("unikernel"), base, "lower",
                       ("ratio_max", 1 / 20)))
        if "unikernel_loadable" in sizes:
            out.append(row("image", f"{app} image, loadable bytes", "bytes",
                           sizes["unikernel_loadable"], base, "lower", ("ratio_max", 1 / 20)))
        if "unikernel_stripped_gz" in sizes and "baseline_shipped" in sizes:
            out.append(row("image", f"{app} image as shipped (stripped+gzip vs bzImage + "
                           "initramfs)", "bytes", sizes["unikernel_stripped_gz"],
                           sizes["baseline_shipped"], "lower", ("ratio_max", 1 / 20)))
    mem = results.get("memory", {})
    uni_min = _get(mem, "min_mb", "unikernel")
    base_min = _get(mem, "min_mb", "baseline")
    out.append(row("memory", "min memory= (kvstore smoke)", "MB", uni_min, base_min, "lower",
                   ("ratio_max", 1 / 4)))
    out.append(row("memory", "min memory= absolute", "MB", uni_min, base_min, "lower",
                   ("abs_max", 16)))
    out.append(row("memory", "min memory= (httpd: net/http + crypto, GET /)", "MB",
                   _get(mem, "httpd", "min_mb", "unikernel"),
                   _get(mem, "httpd", "min_mb", "baseline"), "lower", ("abs_max", 16)))
    for phase in ("rest", "loaded"):
        label = "at rest" if phase == "rest" else "after 100k keys"
        for stat, name in (("go_sys", "Go runtime Sys"), ("used", "guest memory used")):
            out.append(row("memory", f"kvstore {name} {label}", "bytes",
                           _get(mem, "resident", "unikernel", phase, stat),
                           _get(mem, "resident", "baseline", phase, stat), "lower"))
    out += _lifecycle_rows("lifecycle", "", results.get("lifecycle", {}),
                           ("save", "restore", "back"))
    if "boot_pvh" in results or "lifecycle_pvh" in results:
        out += _boot_rows("pvh", "PVH: ", results.get("boot_pvh", {}))
        out += _lifecycle_rows("pvh", "PVH: ", results.get("lifecycle_pvh", {}),
                               ("save", "restore", "back", "migrate", "downtime"))
    smp = results.get("smp")
    if smp:
        n = smp.get("vcpus", "?")
        out.append(row("smp", f"CPU-bound work split over {n} goroutines: speedup over one "
                       f"({n} vCPUs)", "x", _get(smp, "speedup", "unikernel"),
                       _get(smp, "speedup", "baseline"), "higher"))
        for key, label, unit in (("kv_udp", "kvstore ops/s over UDP", "ops/s"),
                                 ("kv_tcp", "kvstore ops/s over TCP", "ops/s"),
                                 ("http", "httpd requests/s (wrk)", "req/s")):
            out.append(row("smp", f"{label} ({n} vCPUs)", unit, _get(smp, key, "unikernel"),
                           _get(smp, key, "baseline"), "higher"))
    out += _idle_rows(results.get("idle"))
    atmin = results.get("atmin")
    if atmin:
        mb = atmin.get("memory_mb", {})
        for key, label, unit in (("kv_udp", "kvstore ops/s over UDP", "ops/s"),
                                 ("kv_tcp", "kvstore ops/s over TCP", "ops/s")):
            out.append(row("memory", f"{label}, each side at its smallest memory "
                           f"({mb.get('unikernel', '?')} vs {mb.get('baseline', '?')} MB)", unit,
                           _get(atmin, key, "unikernel"), _get(atmin, key, "baseline"),
                           "higher"))
    for key, (label, unit, better, *goal) in THROUGHPUT.items():
        t = results.get("throughput", {}).get(key, {})
        target = ("ratio_min", 1.5) if better == "higher" else ("ratio_max", 1 / 1.5)
        if goal:
            target = goal[0]
        out.append(row("throughput", label, unit, t.get("unikernel", "missing: not measured"),
                       t.get("baseline", "missing: not measured"), better, target))
    return out


def _idle_rows(idle):
    """Idle TCP connections held per memory size, and the memory one costs."""
    if not idle:
        return []
    out = []
    for mb in idle.get("memory_mb", ()):
        out.append(row("idle", f"idle TCP connections kvstore holds in {mb} MB", "conns",
                       _get(idle, f"held_{mb}", "unikernel"),
                       _get(idle, f"held_{mb}", "baseline"), "higher"))
        out.append(row("idle", f"... still answering once the client opened all it could "
                       f"({mb} MB)", "conns", _get(idle, f"answered_{mb}", "unikernel"),
                       _get(idle, f"answered_{mb}", "baseline"), "higher"))
    pc = idle.get("per_conn", {})
    out.append(row("idle", f"memory per idle TCP connection (kvstore, "
                   f"{idle.get('per_conn_at', '?')} connections, {pc.get('memory_mb', '?')} MB)",
                   "bytes", _get(pc, "unikernel"), _get(pc, "baseline"), "lower"))
    return out


#: Throughput metrics: key -> (label, unit, better).
THROUGHPUT = {
    "kv_udp": ("kvstore ops/s over UDP", "ops/s", "higher"),
    "kv_tcp": ("kvstore ops/s over TCP", "ops/s", "higher"),
    "udp_echo": ("UDP echo round trips/s", "rt/s", "higher"),
    "ping_rtt": ("ping RTT (avg)", "ms", "lower"),
    "udp_echo_spin_p99": ("UDP echo p99 round trip beside a goroutine spinning without calls",
                          "ms", "lower"),
    "http": ("httpd requests/s (wrk)", "req/s", "higher"),
    "tcp_sink": ("TCP bulk into the guest", "MB/s", "higher"),
    "tcp_source": ("TCP bulk out of the guest", "MB/s", "higher"),
    # Under loss the goal is Linux's own (issue 17: "at 5% loss at least Linux's").
    "tcp_sink_loss": ("TCP bulk into the guest, 5% of packets dropped each way", "MB/s", "higher",
                      ("ratio_min", 1.0)),
    "tcp_source_loss": ("TCP bulk out of the guest, 5% of packets dropped each way", "MB/s",
                        "higher", ("ratio_min", 1.0)),
    "fsread": ("read the 50 MB tree (first pass)", "MB/s", "higher"),
}


def fmt(v, unit=""):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v if len(v) <= 60 else v[:57] + "..."
    if unit == "bytes":
        if abs(v) >= 1 << 20:
            return f"{v / (1 << 20):.1f} MiB"
        if abs(v) >= 1 << 10:
            return f"{v / (1 << 10):.1f} KiB"
        return f"{v:.0f} B"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


def status(r):
    if not r["target"]:
        return ""
    if r["met"] is None:
        return "n/a"
    return "met" if r["met"] else "MISSED"


def table(rs):
    """The results table as text (one line per row)."""
    head = ("section", "metric", "unikernel", "baseline", "uni/base", "target", "status")
    lines = []
    for r in rs:
        lines.append((r["section"], r["metric"], cell(r, "unikernel"), cell(r, "baseline"),
                      "-" if r["ratio"] is None else f"{r['ratio']:.3g}", r["target"] or "",
                      status(r)))
    widths = [max(len(head[i]), *(len(l[i]) for l in lines)) if lines else len(head[i])
              for i in range(len(head))]
    sep = "-+-".join("-" * w for w in widths)
    out = [" | ".join(h.ljust(w) for h, w in zip(head, widths)), sep]
    out += [" | ".join(c.ljust(w) for c, w in zip(l, widths)) for l in lines]
    return "\n".join(out) + "\n"


def cell(r, side):
    """A value for the tables: the median with its unit, then [min-max] and the run count
    when there were several runs, and how many runs failed."""
    unit = r["unit"]
    v = r[side]
    text = fmt(v, unit) + ("" if unit == "bytes" or not is_number(v) else f" {unit}")
    sp = r.get(side + "_spread")
    if sp and sp["n"] and (sp["n"] > 1 or sp.get("failed")):
        text += f" [{fmt(sp['min'], unit)}-{fmt(sp['max'], unit)}, n={sp['n']}]" \
            if sp["n"] > 1 else " [n=1]"
        if sp.get("failed"):
            text += f" ({sp['failed']} failed)"
    return text


def markdown(rs):
    """The same table in Markdown (for the README): medians, [min-max, n] when a value had
    several runs, failed runs counted."""
    out = ["| metric | unikernel | baseline | uni/base | target | status |",
           "| --- | --- | --- | --- | --- | --- |"]
    for r in rs:
        out.append(f"| {r['metric']} | {cell(r, 'unikernel')} | {cell(r, 'baseline')} | "
                   f"{'-' if r['ratio'] is None else format(r['ratio'], '.3g')} | "
                   f"{r['target']} | {status(r)} |")
    return "\n".join(out) + "\n"


def bisect_min(lo, hi, ok):
    """The smallest m in [lo, hi] with ok(m) true, assuming ok is monotonic (false below some
    point, true from it on); hi is checked first. Returns (m or None, [(m, ok)] probes)."""
    probes = []

    def check(m):
        r = bool(ok(m))
        probes.append((m, r))
        return r
    if not check(hi):
        return None, probes
    while lo < hi:
        mid = (lo + hi) // 2
        if check(mid):
            hi = mid
        else:
            lo = mid + 1
    return hi, probes
