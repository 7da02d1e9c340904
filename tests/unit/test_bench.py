"""goxen.bench's parsing, statistics, targets, table, plots, tree and load-generator framing,
on fixture data (no test bed, no timing)."""

import json
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest

from goxen.bench import loadgen, report, run, stats, tree

PING_IPUTILS = """PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.

--- 10.0.0.2 ping statistics ---
50 packets transmitted, 49 received, 2% packet loss, time 2511ms
rtt min/avg/max/mdev = 0.412/1.873/9.120/1.001 ms
"""
PING_BUSYBOX = """PING 10.0.0.2 (10.0.0.2): 56 data bytes

--- 10.0.0.2 ping statistics ---
3 packets transmitted, 3 packets received, 0% packet loss
round-trip min/avg/max = 0.511/0.702/0.998 ms
"""
WRK = """Running 10s test @ http://10.0.0.3/
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.34ms    3.21ms  50.00ms   80.00%
    Req/Sec     1.30k   100.00     1.50k    70.00%
  25904 requests in 10.01s, 40.12MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:   2587.91
Transfer/sec:      4.01MB
"""


def test_summarize_median_and_spread_count_unavailable_values_as_failed():
    s = stats.summarize([0.9, "unavailable: no reply", 0.5, 0.7, 2.0])
    assert s == {"n": 4, "failed": 1, "median": 0.8, "min": 0.5, "max": 2.0, "spread": 1.5}
    assert stats.summarize(["missing: x"])["median"] is None
    assert stats.summarize([True, False])["n"] == 0        # booleans are not measurements


def test_boottrace_first_line_per_stage_and_missing_stages():
    lines = ["hello", "goxen-boot: entry 1000000", "goxen-boot: runtime 3500000",
             "goxen-boot: runtime 9999999999", "goxen-boot: bogus 5", "goxen-boot: main 4000000 "]
    trace = stats.parse_boottrace(lines)
    assert trace == {"entry": 1000000, "runtime": 3500000, "main": 4000000}
    tl = stats.boot_timeline(trace)
    assert tl["entry"] == 0.0 and tl["runtime"] == 2.5 and tl["main"] == 3.0
    assert tl["net"].startswith("missing: ") and "net" in tl["net"]
    tl = stats.boot_timeline({"main": 5})
    assert all(v.startswith("missing: ") for v in tl.values())


def test_baseline_timeline_from_init_lines():
    tl = stats.parse_baseline_timeline([
        "BASELINE-INIT uptime=1.25", "noise", "BASELINE-NET ip=10.0.0.2/24 gw=10.0.0.1 uptime=2.50",
        "BASELINE-NET ip=x uptime=9.00"])
    assert tl == {"init": 1250.0, "net": 2500.0}


def test_parse_ping_iputils_and_busybox():
    p = stats.parse_ping(PING_IPUTILS)
    assert p == {"sent": 50, "received": 49, "min": 0.412, "avg": 1.873, "max": 9.12}
    b = stats.parse_ping(PING_BUSYBOX)
    assert (b["sent"], b["received"], b["avg"]) == (3, 3, 0.702)
    with pytest.raises(ValueError, match="no ping summary"):
        stats.parse_ping("ping: connect: Network is unreachable\n")


def test_parse_wrk_counts_errors():
    w = stats.parse_wrk(WRK)
    assert w == {"requests_per_s": 2587.91, "latency_ms": 12.34, "requests": 25904, "errors": 9}
    with pytest.raises(ValueError, match="Requests/sec"):
        stats.parse_wrk("unable to connect to 10.0.0.3:80 Connection refused\n")


def test_parse_xl_cpu():
    text = ("Name                                        ID   Mem VCPUs\tState\tTime(s)\n"
            "kv-unik-4                                    7   256     1     -b----       3.5\n")
    assert stats.parse_xl_cpu(text, "kv-unik-4") == 3.5
    assert stats.parse_xl_cpu(text, "kv-unik-44") is None
    assert stats.parse_xl_cpu("Name ID\n", "x") is None


def test_parse_cpusplit():
    text = ("cpusplit: NumCPU 2 GOMAXPROCS 2\n"
            "cpusplit: run 1 one 2000 many 1000\n"
            "cpusplit: run 2 one 2100 many 0\n"          # a broken run is left out
            "cpusplit: run 3 one 1800 many 1200\n")
    assert stats.parse_cpusplit(text) == [(2000, 1000), (1800, 1200)]
    assert stats.parse_cpusplit_ncpu(text) == 2
    assert stats.parse_cpusplit_ncpu("nothing") is None


def test_smp_rows_only_when_measured():
    assert not [r for r in stats.rows({}) if r["section"] == "smp"]
    smp = {"vcpus": 2, "speedup": {"unikernel": stats.summarize([1.8, 1.9, 1.7]),
                                   "baseline": stats.summarize([1.9, 1.9, "unavailable: x"])},
           "kv_udp": {"unikernel": 3000.0}, "http": {}}
    by = {r["metric"]: r for r in stats.rows({"smp": smp}) if r["section"] == "smp"}
    speed = by["CPU-bound work split over 2 goroutines: speedup over one (2 vCPUs)"]
    assert speed["unikernel"] == 1.8 and speed["baseline"] == 1.9
    assert speed["baseline_spread"]["failed"] == 1
    assert by["kvstore ops/s over UDP (2 vCPUs)"]["unikernel"] == 3000.0
    assert by["kvstore ops/s over TCP (2 vCPUs)"]["unikernel"].startswith("missing: ")
    assert by["httpd requests/s (wrk) (2 vCPUs)"]["baseline"].startswith("missing: ")


def test_parse_fsread():
    out = stats.parse_fsread(["fsread: pass 1 files 235 bytes 52428800 crc32 8b66221e ns 1500000000",
                              "fsread: pass 2 files 235 bytes 52428800 crc32 8b66221e ns 250000000",
                              "fsread: pass x"])
    assert [p["seconds"] for p in out] == [1.5, 0.25]
    assert out[0]["crc32"] == "8b66221e" and out[1]["files"] == 235


@pytest.mark.parametrize("uni,base,target,met", [
    (0.04, 1.0, ("ratio_max", 1 / 20), True),
    (0.06, 1.0, ("ratio_max", 1 / 20), False),
    (1600, 1000, ("ratio_min", 1.5), True),
    (1400, 1000, ("ratio_min", 1.5), False),
    (16, 128, ("abs_max", 16), True),
    (17, 128, ("abs_max", 16), False),
    ("unavailable: tcp", 1000, ("ratio_min", 1.5), None),
    (1000, "unavailable: x", ("ratio_min", 1.5), None),
    ("unavailable: x", 10, ("abs_max", 16), None),
])
def test_row_targets(uni, base, target, met):
    r = stats.row("s", "m", "u", uni, base, "higher", target)
    assert r["met"] is met
    assert stats.status(r) == {True: "met", False: "MISSED", None: "n/a"}[met]


def test_row_rejects_unknown_target():
    with pytest.raises(ValueError, match="unknown target kind"):
        stats.row("s", "m", "u", 1, 2, "lower", ("about", 3))


def _results():
    return {
        "boot": {"unikernel": {"icmp": {"median": 0.3}, "udp": {"median": 0.35}},
                 "baseline": {"icmp": {"median": 9.0}, "udp": {"median": 5.0}},
                 "timeline": {"unikernel": {"entry": 0.0, "runtime": 2.0, "main": 2.5,
                                            "net": "missing: the guest printed no goxen-boot: net line"},
                              "baseline": {"init": 2000.0, "net": 3100.0}}},
        "image": {"kvstore": {"unikernel": 6 << 20, "baseline_total": 60 << 20}},
        "memory": {"min_mb": {"unikernel": 12, "baseline": 64},
                   "resident": {"unikernel": {"rest": {"go_sys": 8 << 20, "used": 14 << 20},
                                              "loaded": {"go_sys": 40 << 20, "used": 46 << 20}}}},
        "throughput": {"kv_udp": {"unikernel": 3000.0, "baseline": 1500.0},
                       "kv_tcp": {"unikernel": "unavailable: kvstore: tcp: not supported",
                                  "baseline": 2000.0},
                       "ping_rtt": {"unikernel": 0.5, "baseline": 1.0}},
    }


def test_rows_cover_every_target_and_mark_them():
    rs = stats.rows(_results())
    by = {r["metric"]: r for r in rs}
    assert by["xl create -> first ping reply"]["met"] is True           # 0.3/9 < 1/20
    assert by["xl create -> first kvstore UDP reply"]["met"] is False   # 0.35/5 > 1/20
    assert by["kvstore image"]["met"] is False                           # 1/10
    guest = by["guest start -> network up (guest clocks)"]
    assert guest["met"] is None and guest["unikernel"].startswith("missing: ")
    assert guest["baseline"] == 3100.0
    assert by["min memory= (kvstore smoke)"]["met"] is True              # 12/64 <= 1/4
    assert by["min memory= (kvstore smoke)"]["ratio"] == pytest.approx(12 / 64)
    assert by["min memory= absolute"]["met"] is True
    assert by["kvstore ops/s over UDP"]["met"] is True                   # 2x
    assert by["kvstore ops/s over TCP"]["met"] is None
    assert by["ping RTT (avg)"]["met"] is True                           # half the baseline's
    assert by["httpd requests/s (wrk)"]["unikernel"].startswith("missing: ")
    assert by["kvstore Go runtime Sys after 100k keys"]["baseline"].startswith("missing: ")


def test_guest_boot_row_with_a_net_stage():
    r = _results()
    r["boot"]["timeline"]["unikernel"]["net"] = 150.0
    row = next(x for x in stats.rows(r) if x["metric"].startswith("guest start"))
    assert row["ratio"] == pytest.approx(150 / 3100) and row["met"] is True


def test_min_memory_ratio_target_direction():
    r = stats.row("memory", "m", "MB", 12, 64, "lower", ("ratio_max", 1 / 4))
    assert r["met"] is True
    r = stats.row("memory", "m", "MB", 20, 64, "lower", ("ratio_max", 1 / 4))
    assert r["met"] is False


def test_table_and_markdown_show_values_ratios_and_status():
    rs = stats.rows(_results())
    text = stats.table(rs)
    lines = text.splitlines()
    assert lines[0].split(" | ")[0].strip() == "section"
    assert len({len(line) for line in lines[:3]}) == 1          # aligned columns
    ping = next(line for line in lines if "first ping reply" in line)
    assert "0.3 s" in ping and "9 s" in ping and "0.0333" in ping and "met" in ping
    tcp = next(line for line in lines if "over TCP" in line)
    assert "unavailable: kvstore: tcp: not supported" in tcp and "n/a" in tcp
    image = next(line for line in lines if "kvstore image" in line)
    assert "6.0 MiB" in image and "60.0 MiB" in image and "MISSED" in image
    md = stats.markdown(rs)
    assert md.startswith("| metric |") and "| MISSED |" in md


def test_bisect_min_finds_the_threshold_with_few_probes():
    calls = []

    def ok(m):
        calls.append(m)
        return m >= 11
    m, probes = stats.bisect_min(4, 64, ok)
    assert m == 11
    assert probes[0] == (64, True) and len(probes) <= 8
    assert [c for c, _ in probes] == calls
    assert stats.bisect_min(4, 64, lambda m: False) == (None, [(64, False)])
    assert stats.bisect_min(4, 64, lambda m: True)[0] == 4


def test_plots_write_pngs(tmp_path):
    from goxen.bench import plots
    rs = stats.rows(_results())
    for p in (plots.boot_timeline(_results(), tmp_path / "boot.png"),
              plots.ratios(rs, tmp_path / "ratios.png"),
              plots.ratios([], tmp_path / "empty.png"),
              plots.boot_timeline({}, tmp_path / "noboot.png")):
        data = Path(p).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000


def test_plot_target_ticks():
    from goxen.bench import plots
    assert plots._target_ratio("<= 1/20 of baseline") == pytest.approx(0.05)
    assert plots._target_ratio(">= 1.5x baseline") == 1.5
    assert plots._target_ratio("<= 16 MB") is None


def test_tree_layout_is_deterministic_and_exactly_50mb():
    a, b = tree.layout(), tree.layout()
    assert a == b and sum(s for _, s in a) == 50 << 20
    assert len({p for p, _ in a}) == len(a) > 100
    assert tree.content("d0/x", 1000) == tree.content("d0/x", 1000)
    assert tree.content("d0/x", 1000) != tree.content("d0/y", 1000)


def test_tree_checksum_matches_fsread_order(tmp_path):
    """Lexical WalkDir order, files and directories interleaved (a.txt < b/ < c.txt)."""
    t = tmp_path / "t"
    for rel, data in (("a.txt", b"1"), ("b/x", b"22"), ("b/y/z", b""), ("c.txt", b"333")):
        (t / rel).parent.mkdir(parents=True, exist_ok=True)
        (t / rel).write_bytes(data)
    crc = 0
    for rel, data in (("a.txt", b"1"), ("b/x", b"22"), ("b/y/z", b""), ("c.txt", b"333")):
        crc = zlib.crc32(rel.encode(), crc)
        crc = zlib.crc32(struct.pack(">I", zlib.crc32(data)), crc)
    assert tree.checksum(t) == f"{crc:08x}"
    assert tree.total_bytes(t) == 6


def test_tree_ensure_small(tmp_path, monkeypatch):
    out = tree.ensure(tmp_path, total=100_000)
    files = [p for p in out.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) == 100_000
    mtime = files[0].stat().st_mtime_ns
    tree.ensure(tmp_path, total=100_000)                    # stamp matches: not rewritten
    assert files[0].stat().st_mtime_ns == mtime


def test_icmp_echo_checksum_verifies():
    pkt = loadgen.icmp_echo(0x1234, 7, b"abc")
    assert pkt[0] == 8 and struct.unpack("!HH", pkt[4:8]) == (0x1234, 7)
    assert loadgen._checksum(pkt) == 0                      # RFC 1071: sums to all ones


def test_udp_frame_header():
    assert loadgen.udp_frame(0x10001, b"x") == b"\x00\x01\x00\x00\x00\x01\x00\x00x"


def test_loadgen_unknown_mode_is_an_error():
    r = subprocess.run([sys.executable, str(run.LOADGEN), "nosuch", "127.0.0.1", "1"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and json.loads(r.stdout)["error"] == "unknown mode 'nosuch'"


def test_set_ip_keeps_prefix_and_other_words():
    assert run.set_ip("console=hvc0 ip=10.0.0.2/24 gw=10.0.0.1 env.A=1", "10.0.0.101") == \
        "console=hvc0 ip=10.0.0.101/24 gw=10.0.0.1 env.A=1"


def test_wrapper_exports_env_words(tmp_path):
    """The baseline's /app wrapper turns env.K=V arguments into the environment."""
    app = tmp_path / "app.bin"
    app.write_text("#!/bin/sh\necho \"A=$A B=$B args=$*\"\n")
    app.chmod(0o755)
    w = tmp_path / "app"
    w.write_text(run.WRAPPER.replace("/app.bin", str(app)))
    w.chmod(0o755)
    out = subprocess.run([str(w), "env.A=1", "x", "env.B=two=2", "boottrace=1"],
                         capture_output=True, text=True, timeout=30).stdout
    assert out.strip() == "A=1 B=two=2 args=x boottrace=1"


def test_udpecho_reports_round_trip_percentiles():
    """loadgen's udpecho against a local echo server that holds every 10th datagram for 50 ms:
    the median stays small and the 99th percentile shows the held ones."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", 0))
    srv.settimeout(0.2)
    stop = threading.Event()

    def serve():
        n = 0
        while not stop.is_set():
            try:
                d, peer = srv.recvfrom(2048)
            except socket.timeout:
                continue
            n += 1
            if n % 10 == 0:
                time.sleep(0.05)
            srv.sendto(d, peer)
    th = threading.Thread(target=serve, daemon=True)
    th.start()
    try:
        r = subprocess.run([sys.executable, str(run.LOADGEN), "udpecho", "127.0.0.1",
                            str(srv.getsockname()[1]), "1", "2"],
                           capture_output=True, text=True, timeout=60)
    finally:
        stop.set()
        th.join()
        srv.close()
    out = json.loads(r.stdout)
    assert out["ops"] > 20 and out["errors"] == 0
    assert out["rtt_p50_ms"] < 20 <= out["rtt_p99_ms"] < 1000


def test_spin_latency_row_is_lower_is_better():
    r = _results()
    r["throughput"]["udp_echo_spin_p99"] = {"unikernel": 12.0, "baseline": 30.0}
    row = next(x for x in stats.rows(r) if x["metric"].startswith("UDP echo p99"))
    assert row["met"] is True and row["ratio"] == pytest.approx(0.4)


def test_gap_probe_reports_the_longest_silence():
    """loadgen's gap against a local `version` server that leaves requests 30 to 59
    unanswered ("migrating"): the longest time between two replies is at least those 30
    sends at 10 ms each, whatever the machine's load."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", 0))
    srv.settimeout(0.05)
    stop = threading.Event()

    def serve():
        n = 0
        while not stop.is_set():
            try:
                d, peer = srv.recvfrom(2048)
            except socket.timeout:
                continue
            n += 1
            if 30 <= n < 60:
                continue
            srv.sendto(d[:8] + b"VERSION 1.0\r\n", peer)
    th = threading.Thread(target=serve, daemon=True)
    th.start()
    try:
        r = subprocess.run([sys.executable, str(run.LOADGEN), "gap", "127.0.0.1",
                            str(srv.getsockname()[1]), "4"], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=60)
    finally:
        stop.set()
        th.join()
        srv.close()
    assert r.stdout.startswith("gap started\n"), r.stdout
    out = json.loads(r.stdout.splitlines()[-1])
    assert out["sent"] > 60 and out["answered"] > 30, out     # answers after the silence
    assert 0.29 <= out["max_gap"] <= 5, out


def test_pvh_rows_only_when_measured():
    assert not any(r["section"] == "pvh" for r in stats.rows(_results()))
    r = _results()
    r["boot_pvh"] = {"unikernel": {"icmp": {"median": 0.2}, "udp": {"median": 0.25}},
                     "baseline": {"icmp": {"median": 10.0}, "udp": {"median": 6.0}},
                     "timeline": {"unikernel": {"net": 40.0}, "baseline": {"net": 2000.0}}}
    r["lifecycle_pvh"] = {"memory_mb": 96,
                          "unikernel": {"migrate": {"median": 20.0}, "downtime": {"median": 0.5}},
                          "baseline": {"migrate": {"median": 25.0}, "downtime": {"median": 1.0}}}
    by = {x["metric"]: x for x in stats.rows(r)}
    assert by["PVH: xl create -> first ping reply"]["met"] is True      # 0.2/10 <= 1/20
    assert by["PVH: guest start -> network up (guest clocks)"]["met"] is True
    down = by["PVH: migration downtime (longest silence, 10 ms probe)"]
    assert down["ratio"] == pytest.approx(0.5) and down["better"] == "lower"
    assert by["PVH: xl save (kvstore, 96 MB)"]["unikernel"].startswith("missing: ")


def test_rows_carry_spread_and_failures_into_the_tables():
    r = _results()
    r["boot"]["unikernel"]["icmp"] = stats.summarize([0.3, 0.25, "unavailable: no reply", 0.4])
    r["boot"]["baseline"]["icmp"] = stats.summarize(["unavailable: x", "unavailable: y"])
    rs = stats.rows(r)
    by = {x["metric"]: x for x in rs}
    ping = by["xl create -> first ping reply"]
    assert ping["unikernel"] == 0.3 and ping["unikernel_spread"] == {"n": 3, "failed": 1,
                                                                     "min": 0.25, "max": 0.4}
    assert ping["baseline"].startswith("unavailable: all 2 runs failed") and ping["met"] is None
    md = stats.markdown(rs)
    assert "| 0.3 s [0.25-0.4, n=3] (1 failed) |" in md, md
    assert "unavailable: all 2 runs failed" in stats.table(rs)


def _row(metric, uni, base, umin=None, umax=None, bmin=None, bmax=None, met=None):
    r = stats.row("s", metric, "s", uni, base, "lower")
    if umin is not None:
        r["unikernel_spread"] = {"n": 3, "failed": 0, "min": umin, "max": umax}
    if bmin is not None:
        r["baseline_spread"] = {"n": 3, "failed": 0, "min": bmin, "max": bmax}
    r["met"] = met
    return r


def test_compare_flags_only_ratio_changes_beyond_the_spread():
    from goxen.bench import report
    old = [_row("a", 1.0, 10.0, 0.9, 1.1, 9, 11), _row("b", 1.0, 10.0, 0.9, 1.1, 9, 11),
           _row("gone", 1, 1), _row("c", 2.0, 4.0, met=True)]
    new = [_row("a", 1.05, 10.0, 0.95, 1.2, 9, 11),     # inside the old range: no change
           _row("b", 2.0, 10.0, 1.9, 2.1, 9, 11),       # 0.19-0.23 vs 0.08-0.12: doubled
           _row("c", 5.0, 4.0, met=False), _row("new", 1, 1)]
    got = dict(report.compare(new, old))
    assert set(got) == {"b", "c", "new"}, got     # "gone": not measured now, left out
    assert got["b"].startswith("ratio 0.1 -> 0.2 (+100%") and "now MISSED" in got["c"]


def test_merge_later_runs_replace_their_parts_and_the_readme_block(tmp_path):
    from goxen.bench import report
    full = {"meta": {"date": "d1"}, "boot": {"x": 1}, "throughput": {"kv_udp": 1, "http": 2}}
    kv = {"meta": {"date": "d2"}, "throughput": {"kv_udp": 3}, "boot_pvh": {"y": 2}}
    m = report.merge([full, kv])
    assert m["throughput"] == {"kv_udp": 3, "http": 2} and m["boot"] == {"x": 1}
    assert m["boot_pvh"] == {"y": 2} and m["meta"]["sources"] == ["d1", "d2"]
    smp = {"meta": {"date": "d3"}, "smp": {"speedup": {"unikernel": 1.9}}}
    assert report.merge([full, kv, smp])["smp"] == smp["smp"]   # every part a run stores
    text = f"intro\n{report.BEGIN}\nold table\n{report.END}\nafter\n"
    assert report.replace_block(text, "| new |\n") == \
        f"intro\n{report.BEGIN}\n| new |\n{report.END}\nafter\n"
    with pytest.raises(ValueError):
        report.replace_block("no markers\n", "x")


def test_shipped_image_row_and_stripping(tmp_path):
    r = _results()
    r["image"]["kvstore"].update(unikernel_stripped_gz=1 << 20, baseline_shipped=30 << 20)
    row = next(x for x in stats.rows(r) if "as shipped" in x["metric"])
    assert row["ratio"] == pytest.approx(1 / 30) and row["met"] is True
    src = tmp_path / "k.c"      # an ELF with symbols and debug info, as a kernel has
    src.write_text("int data[4096] = {1};\nvoid _start(void) { for (;;) data[0]++; }\n")
    k = tmp_path / "k.xen"
    subprocess.run(["gcc", "-g", "-O0", "-static", "-nostdlib", "-o", str(k), str(src)],
                   check=True)
    stripped, gz = run.shipped_bytes(k, tmp_path / "out")
    assert 0 < gz < stripped <= k.stat().st_size


def test_part_table_stores_results_where_the_rows_read_them():
    assert len(set(run.PARTS)) == len(run.PARTS) and run.PARTS[0] == "image"
    assert [p.name for p in run.PART_TABLE if p.after_bed] == ["host", "smp"]
    results = {}
    run._store_kv(results, {"resident": {"unikernel": {}}, "kv_udp": {"unikernel": 3.0},
                            "kv_tcp": {"unikernel": 2.0}})
    run._thr()(results, {"udp_echo": {"unikernel": 5.0}})
    run._store_memory()(results, {"min_mb": {"unikernel": 9, "baseline": 80}})
    run._store_memory("httpd")(results, {"min_mb": {"unikernel": 16}})
    run._put("boot_pvh")(results, {"unikernel": {}})
    assert results["throughput"] == {"kv_udp": {"unikernel": 3.0}, "kv_tcp": {"unikernel": 2.0},
                                     "udp_echo": {"unikernel": 5.0}}
    assert results["memory"]["resident"] == {"unikernel": {}}
    assert results["memory"]["min_mb"]["baseline"] == 80 and "httpd" in results["memory"]
    by = {r["metric"]: r for r in stats.rows(results)}
    assert by["kvstore ops/s over UDP"]["unikernel"] == 3.0
    assert by["min memory= (kvstore smoke)"]["ratio"] == pytest.approx(9 / 80)


def test_throughput_parts_give_both_sides_the_same_memory():
    class S:
        def __init__(self, memory):
            self.memory = memory
    assert run.same_memory({"unikernel": S(32), "baseline": S(128)}) == 128
    assert run.same_memory({"unikernel": S(256), "baseline": S(128)}) == 256


def test_loss_part_rules_and_rows():
    rules = run.loss_rules("10.0.0.2", 5)
    assert "hook input" in rules and "hook output" in rules
    assert rules.count("numgen random mod 100 < 5 drop") == 2
    assert "ip saddr 10.0.0.2" in rules and "ip daddr 10.0.0.2" in rules
    assert "tcploss" in run.PARTS and run.PARTS.index("tcploss") == run.PARTS.index("tcp") + 1
    assert "tcploss" in run.METHOD
    r = {"throughput": {"tcp_sink_loss": {"unikernel": 2.0, "baseline": 2.5},
                        "tcp_source_loss": {"unikernel": 3.0, "baseline": 2.0}}}
    rows = {x["metric"]: x for x in stats.rows(r) if "dropped" in x["metric"]}
    into = rows["TCP bulk into the guest, 5% of packets dropped each way"]
    out = rows["TCP bulk out of the guest, 5% of packets dropped each way"]
    assert into["met"] is False and out["met"] is True      # the goal is Linux's own: 1.0


class _FakeKV:
    """A local kvstore stand-in for loadgen's idlehold: TCP connections answer `version`, a
    UDP `stats` reports curr_connections and go_sys (1000 bytes per open connection); past
    `most` connections the listener closes (connects are refused)."""

    def __init__(self, most):
        self.most, self.conns, self.lock = most, [], threading.Lock()
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(1024)
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.udp.settimeout(0.05)
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=f, daemon=True)
                        for f in (self._accept, self._stats, self._answer)]
        for t in self.threads:
            t.start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                c, _ = self.tcp.accept()
            except OSError:
                return
            with self.lock:
                self.conns.append(c)
                if len(self.conns) >= self.most:
                    self.tcp.close()
                    return

    def _stats(self):
        while not self.stop.is_set():
            try:
                d, peer = self.udp.recvfrom(2048)
            except (socket.timeout, OSError):
                continue
            with self.lock:
                n = len(self.conns)
            body = f"STAT curr_connections {n}\r\nSTAT go_sys {1_000_000 + 1000 * n}\r\nEND\r\n"
            self.udp.sendto(d[:8] + body.encode(), peer)

    def _answer(self):
        import selectors
        while not self.stop.is_set():
            with self.lock:
                conns = list(self.conns)
            sel = selectors.DefaultSelector()
            for c in conns:
                sel.register(c, selectors.EVENT_READ)
            for key, _ in sel.select(0.05) if conns else ():
                try:
                    if key.fileobj.recv(100):
                        key.fileobj.sendall(b"VERSION 1.6.0\r\n")
                except OSError:
                    pass
            sel.close()
            if not conns:
                time.sleep(0.05)

    def close(self):
        self.stop.set()
        for t in self.threads:
            t.join(5)
        for s in [self.tcp, self.udp, *self.conns]:
            s.close()


def test_idlehold_counts_held_connections_until_refused():
    """loadgen's idlehold against a fake kvstore that takes 150 connections: held 150 (the
    last step that passed every check), the next step stops it, the 150 answer `version` at
    the end, and the steps carry the memory numbers per_conn_bytes reads."""
    kv = _FakeKV(150)
    try:
        r = subprocess.run([sys.executable, str(run.LOADGEN), "idlehold", "127.0.0.1",
                            str(kv.port), "1000", "50"], capture_output=True, text=True,
                           timeout=120)
    finally:
        kv.close()
    out = json.loads(r.stdout.splitlines()[-1])
    assert out["held"] == 150 and out["answered"] == 150 and out["survived"], out
    assert out["opened"] >= 150 and "after 150 connections" in out["stop"], out
    assert [s["conns"] for s in out["steps"]][:3] == [50, 100, 150], out
    assert run.per_conn_bytes("unikernel", out, at=100) == 1000
    assert run.per_conn_bytes("baseline", out, at=100).startswith("unavailable: ")  # no mem_used
    assert run.per_conn_bytes("unikernel", out, at=1000).startswith(
        "unavailable: the run did not reach 1000")
    assert run.common_conns([out, {"steps": [{"conns": 100}]}, None]) == 0
    assert run.common_conns([out, {"steps": [{"conns": 50}, {"conns": 100}]}]) == 100
    assert run.common_conns([{"steps": [{"conns": 100}, {"conns": 170}]},
                             {"steps": [{"conns": 100}, {"conns": 200}]}]) == 100


def test_idle_and_atmin_rows():
    idle = {"memory_mb": [64, 128], "per_conn_at": 1000,
            "held_64": {"unikernel": stats.summarize([2800, 2900]) | {"runs": [2800, 2900]},
                        "baseline": stats.summarize(["unavailable: xl create with 64 MB failed"])
                        | {"runs": ["unavailable: xl create with 64 MB failed"]}},
            "answered_64": {"unikernel": 2900, "baseline": "unavailable: no run"},
            "held_128": {"unikernel": 6000, "baseline": 5000},
            "answered_128": {"unikernel": 6000, "baseline": 0},
            "per_conn": {"memory_mb": 128, "unikernel": 9000.0, "baseline": 8500.0}}
    rs = stats.rows({"idle": idle, "atmin": {"memory_mb": {"unikernel": 9, "baseline": 90},
                                             "kv_udp": {"unikernel": 2000, "baseline": 200},
                                             "kv_tcp": {"unikernel": "unavailable: x",
                                                        "baseline": 300}}})
    by = {r["metric"]: r for r in rs}
    held = by["idle TCP connections kvstore holds in 64 MB"]
    assert held["unikernel"] == 2850 and held["unikernel_spread"]["n"] == 2
    assert held["baseline"] == "unavailable: the run failed: xl create with 64 MB failed"
    assert by["... still answering once the client opened all it could (128 MB)"]["ratio"] is None
    pc = by["memory per idle TCP connection (kvstore, 1000 connections, 128 MB)"]
    assert pc["better"] == "lower" and pc["ratio"] == pytest.approx(9000 / 8500)
    udp = by["kvstore ops/s over UDP, each side at its smallest memory (9 vs 90 MB)"]
    assert udp["ratio"] == 10
    assert "idle" in report.PARTS and "atmin" in report.PARTS


def test_repeat_first_failure_can_end_the_runs():
    class B:
        repeats = 3
    calls = []

    def fails():
        calls.append(1)
        raise run.Unavailable("does not boot")
    r, details = run.repeat(B(), "x", fails, first_fails_all=True)
    assert len(calls) == 1 and r["failed"] == 1 and details == [None]
    calls.clear()
    r, _ = run.repeat(B(), "x", lambda: (calls.append(1), 5.0)[1:] + (None,),
                      first_fails_all=True)
    assert len(calls) == 3 and r["median"] == 5.0


def test_bed_error_line_keeps_xl_reason():
    e = RuntimeError("xl create idle-base-2 failed (rc=3):\nParsing config\nxc: error: panic: "
                     "xc_dom_core.c:702: xc_dom_alloc_segment: segment ramdisk too large\n"
                     "libxl: error: libxl_create.c: cannot (re-)build domain: -3\n"
                     "--- console ---\nerror on the console\n--- end ---")
    line = run.bed_error_line(e)
    assert line.startswith("xl create idle-base-2 failed (rc=3): xc: error: panic: ") and \
        line.endswith("segment ramdisk too large") and "console" not in line
    assert run.bed_error_line(RuntimeError("only one line")) == "only one line"
