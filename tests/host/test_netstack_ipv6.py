"""netstack's IPv6 on a TAP device against Linux's own stack (issue 19, tier 1): ping6 of all
sizes to the global and the link-local address, neighbour discovery both ways, UDP and TCP
over IPv6 (Python sockets, curl -6) and on dual-stack :: sockets, SLAAC from radvd's router
advertisements, duplicate address detection both ways, and malformed IPv6 frames written
raw to the TAP (dropped and counted; the stack still answers)."""

import hashlib
import json
import re
import subprocess
import textwrap
import time

import pytest

from nshost import HOST_ADDR, STACK_ADDR, STACK_MAC, TAP, UDP_ECHO_CLIENT, TapStack

HOST6 = "fd00:77::1"
STACK6 = "fd00:77::2"
# fe80::/64 with STACK_MAC's modified EUI-64 (02:00:00:6e:73:01: the universal bit flipped).
STACK_LL = "fe80::ff:fe6e:7301"
SLAAC_PREFIX = "fd00:77:1::"
STACK_SLAAC = "fd00:77:1::ff:fe6e:7301"


def wait_for(fn, what, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def addrs(ts):
    return json.loads(ts.command("addrs", "ADDRS"))


def routes(ts):
    return json.loads(ts.command("routes", "ROUTES"))


def host6(netns):
    """Linux's side: HOST6/64 on the TAP without DAD, and its link-local once DAD is done."""
    netns.ip("-6", "addr", "add", f"{HOST6}/64", "dev", TAP, "nodad")


@pytest.fixture
def stack6(netns, tapstack_bin):
    """tapstack with IPv4 as usual and the static IPv6 address STACK6/64, once DAD passed."""
    host6(netns)
    ts = TapStack(netns, tapstack_bin, "-addr", f"{STACK_ADDR}/24", "-gw", HOST_ADDR, "-ip6", f"{STACK6}/64")
    try:
        ts.expect("READY")
        wait_for(lambda: f"{STACK6}/64" in addrs(ts), "DAD of the stack's address")
        yield ts
    finally:
        ts.stop()


def ping6(ns, addr, *args, count=3):
    r = ns.exec("ping", "-6", "-n", "-c", str(count), "-i", "0.2", "-W", "2", *args, addr, check=False, timeout=60)
    m = re.search(r"(\d+) received", r.stdout)
    return (int(m.group(1)) if m else 0), r.stdout


@pytest.mark.parametrize("size", [56, 1452, 8000], ids=["s56", "s1452-mtu", "s8000-fragmented"])
def test_ping6_global_and_link_local(netns, stack6, size):
    got, out = ping6(netns, STACK6, "-s", str(size))
    assert got == 3, out
    got, out = ping6(netns, f"{STACK_LL}%{TAP}", "-s", str(size))
    assert got == 3, out
    st = stack6.stats()
    assert st["ICMPv6.OutEchoReplies"] >= 6, st
    if size == 8000:
        assert st["IPv6.ReasmOKs"] >= 6 and st["IPv6.FragOKs"] >= 6, st


def test_the_stack_pings_linux(netns, stack6):
    """ping6 the other way: the stack's echo requests (Stack.Ping) to Linux's global and
    link-local addresses, one of them fragmented; and over IPv4 too."""
    linux_ll = wait_for(lambda: re.search(r"inet6 (fe80::\S+)/64 scope link\s*$",
                                          netns.ip("-6", "addr", "show", "dev", TAP).stdout, re.M),
                        "Linux's link-local address").group(1)
    for dst, size in ((HOST6, 56), (HOST6, 3000), (linux_ll, 56), (HOST_ADDR, 56)):
        out = stack6.command(f"ping {dst} {size}", "PONG", timeout=10)
        assert not out.startswith("ERROR"), (dst, size, out)
    st = stack6.stats()
    assert st["ICMPv6.InEchoReplies"] == 3 and st["ICMP.InEchoReps"] == 1, st
    # A zone names the NIC for a link-local peer; Linux's refusals (ICMPv6 port unreachable,
    # TCP RST) reach the sockets, so their tuples match the zone-less packets.
    assert stack6.command(f"udpcall [{linux_ll}%{TAP}]:9 x", "REPLY") == "ERROR connection refused"
    assert stack6.command(f"tcpconnect [{linux_ll}%{TAP}]:9", "CONNECTED").startswith("ERROR connection refused")


def test_ping6_all_nodes_is_answered(netns, stack6):
    r = netns.exec("ping", "-6", "-n", "-c", "2", "-i", "0.3", "-W", "2", f"ff02::1%{TAP}", check=False, timeout=30)
    # The reply comes from the stack's address for Linux's source (its link-local or STACK6).
    assert re.search(rf"from ({STACK6}|{STACK_LL}%{TAP}): icmp_seq", r.stdout), r.stdout


def test_neighbour_discovery_both_ways(netns, stack6):
    # The stack resolves Linux (before Linux's own solicitation could teach it Linux's
    # address); port 9 is closed there, and Linux's ICMPv6 port unreachable fails the
    # stack's connected socket.
    assert stack6.command(f"udpcall [{HOST6}]:9 x", "REPLY") == "ERROR connection refused"
    entries = {e["addr"]: e for e in stack6.arp()}
    tap_mac = netns.tap_mac()
    assert entries[HOST6]["mac"] == tap_mac and entries[HOST6]["resolved"] == "true", entries
    # Linux resolves the stack: its solicitation, the stack's advertisement.
    netns.ip("-6", "neigh", "flush", "dev", TAP)
    got, out = ping6(netns, STACK6, count=1)
    assert got == 1, out
    neigh = netns.ip("-6", "neigh", "show", STACK6).stdout
    assert STACK_MAC in neigh, neigh
    st = stack6.stats()
    assert st["ICMPv6.InNeighborSolicits"] >= 1 and st["ICMPv6.OutNeighborAdverts"] >= 1, st
    assert st["ICMPv6.OutNeighborSolicits"] >= 2 and st["ICMPv6.InNeighborAdverts"] >= 1, st  # DAD + resolution
    assert st["ICMPv6.InDestUnreachs"] >= 1, st


def test_udp6_echo_and_dual_stack(netns, stack6):
    # The echo listens on [::]:7: IPv6 and IPv4 clients alike.
    sizes = "1,100,1232,1452,1453,3000,8000,20000"
    r = netns.python(UDP_ECHO_CLIENT, STACK6, sizes, "10", timeout=120)
    assert "ok 80" in r.stdout, r.stdout + r.stderr
    r = netns.python(UDP_ECHO_CLIENT, STACK_ADDR, sizes, "10", timeout=120)
    assert "ok 80" in r.stdout, r.stdout + r.stderr
    st = stack6.stats()
    assert st["IPv6.FragCreates"] > 0 and st["IPv6.ReasmOKs"] > 0, st


def test_udp6_with_nc(netns, stack6):
    r = netns.exec("sh", "-c", f"printf 'hello over six' | nc -6 -u -w 2 {STACK6} 7", check=False, timeout=30)
    assert r.stdout == "hello over six", (r.stdout, r.stderr)


TCP_ECHO6 = textwrap.dedent(r"""
    import hashlib, socket, sys, threading
    data = bytes((i * 7 + 3) & 0xff for i in range(1 << 20))
    s = socket.create_connection((sys.argv[1], 7), timeout=20)
    got = bytearray()
    def rd():
        while len(got) < len(data):
            b = s.recv(65536)
            if not b:
                break
            got.extend(b)
    t = threading.Thread(target=rd)
    t.start()
    s.sendall(data)
    t.join(30)
    assert bytes(got) == data, len(got)
    print("ok", len(got))
""")


def test_tcp6_echo_and_curl(netns, stack6):
    r = netns.python(TCP_ECHO6, STACK6, timeout=120)
    assert "ok 1048576" in r.stdout, r.stdout + r.stderr
    url = f"http://[{STACK6}]/bytes/300000"
    want = netns.exec("curl", "-6", "-sS", "-g", "--max-time", "30", url + "/sha256", timeout=60).stdout.strip()
    raw = subprocess.run(netns.cmd("curl", "-6", "-sS", "-g", "--max-time", "30", url), capture_output=True,
                         timeout=60).stdout
    assert len(raw) == 300000 and hashlib.sha256(raw).hexdigest() == want, (len(raw), want)
    # The stack connects out over IPv6 too: Linux's sink answers with the bytes' hash.
    sink = subprocess.Popen(netns.cmd("python3", "-c", textwrap.dedent(f"""
        import hashlib, socket
        l = socket.socket(socket.AF_INET6); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        l.bind(("{HOST6}", 9099)); l.listen(1); print("listening", flush=True)
        c, _ = l.accept(); h = hashlib.sha256()
        while True:
            b = c.recv(65536)
            if not b: break
            h.update(b)
        c.sendall(h.hexdigest().encode()); c.close()
    """)), stdout=subprocess.PIPE, text=True)
    try:
        assert sink.stdout.readline().strip() == "listening"
        out = stack6.command(f"tcpsend [{HOST6}]:9099 200000", "TCPSENT", timeout=60)
        sent, reply = out.split()
        assert sent == reply, out
    finally:
        sink.kill()
        sink.wait()


RADVD_CONF = """interface gxtap0 {
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 10;
    AdvDefaultLifetime 600;
    AdvLinkMTU 1400;
    prefix fd00:77:1::/64 {
        AdvOnLink on;
        AdvAutonomous on;
        AdvValidLifetime 3600;
        AdvPreferredLifetime 1800;
    };
};
"""


def test_slaac_from_radvd(netns, tapstack_bin, tmp_path):
    """radvd on Linux's side advertises fd00:77:1::/64: the stack forms its SLAAC address,
    learns the default router and the MTU, and is reachable there."""
    netns.exec("sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1")
    netns.ip("-6", "addr", "add", f"{SLAAC_PREFIX}1/64", "dev", TAP, "nodad")
    conf = tmp_path / "radvd.conf"
    conf.write_text(RADVD_CONF)
    ts = TapStack(netns, tapstack_bin, "-addr", "none", "-slaac")
    radvd = None
    try:
        ts.expect("READY")
        # Linux's link-local (radvd's source address) comes once the TAP has a carrier and DAD.
        wait_for(lambda: "fe80::" in netns.ip("-6", "addr", "show", "dev", TAP).stdout and
                 "tentative" not in netns.ip("-6", "addr", "show", "dev", TAP).stdout, "Linux's link-local")
        radvd = subprocess.Popen(netns.cmd("radvd", "-n", "-C", str(conf), "-p", str(tmp_path / "radvd.pid"),
                                           "-m", "stderr"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True)
        got = wait_for(lambda: f"{STACK_SLAAC}/64" in addrs(ts), "the SLAAC address", timeout=40)
        assert got
        rs = routes(ts)
        assert any(r["dest"] == "::/0" and r["gateway"].startswith("fe80::") for r in rs), rs
        assert any(r["dest"] == f"{SLAAC_PREFIX}/64" and r["gateway"] == "" for r in rs), rs
        got, out = ping6(netns, STACK_SLAAC)
        assert got == 3, out
        # 3000 bytes leave the stack in fragments sized for the advertised MTU (1400).
        r = netns.python(UDP_ECHO_CLIENT, STACK_SLAAC, "3000", "3", timeout=60)
        assert "ok 3" in r.stdout, r.stdout + r.stderr
        st = ts.stats()
        assert st["NDP.AddrsAutoconf"] == 1 and st["NDP.RoutersLearned"] == 1, st
        assert st["ICMPv6.OutRouterSolicits"] >= 1 and st["ICMPv6.InRouterAdverts"] >= 1, st
        assert st["NDP.DADDone"] == 2, st  # the link-local and the SLAAC address
    finally:
        ts.stop()
        if radvd:
            radvd.terminate()
            radvd.wait(timeout=10)


def test_duplicate_address_detection_both_ways(netns, tapstack_bin):
    host6(netns)
    ts = TapStack(netns, tapstack_bin, "-addr", "none", "-slaac")
    try:
        ts.expect("READY")
        # Once the stack's link-local address passed DAD, the link is up on both sides.
        wait_for(lambda: f"{STACK_LL}/64" in addrs(ts), "the stack's link-local address")
        # The stack probes an address Linux has: Linux defends it; the stack gives it up.
        assert ts.command(f"addaddr {HOST6}/64", "ADDED") == ""  # not "ERROR ..."
        wait_for(lambda: ts.stats()["NDP.DADConflicts"] == 1, "the stack's DAD conflict")
        assert f"{HOST6}/64" not in addrs(ts)
        # Linux probes an address the stack has (its link-local): the stack defends it.
        netns.ip("-6", "addr", "add", f"{STACK_LL}/64", "dev", TAP)
        wait_for(lambda: "dadfailed" in netns.ip("-6", "addr", "show", "dev", TAP).stdout, "Linux's DAD failure")
    finally:
        ts.stop()


RAW6 = textwrap.dedent(r"""
    import socket, struct, sys
    iface, mac, ip, host = sys.argv[1:5]
    def csum(b):
        if len(b) % 2: b += b"\0"
        s = sum(struct.unpack(f"!{len(b)//2}H", b))
        while s >> 16: s = (s & 0xffff) + (s >> 16)
        return ~s & 0xffff
    src, dst = socket.inet_pton(socket.AF_INET6, host), socket.inet_pton(socket.AF_INET6, ip)
    def ip6(nh, payload, plen=None, hl=64, ver=6, d=dst):
        plen = len(payload) if plen is None else plen
        return struct.pack("!IHBB", ver << 28, plen, nh, hl) + src + d + payload
    def icmp6(t, c, body, d=dst, bad=False):
        m = struct.pack("!BBH", t, c, 0) + body
        k = csum(src + d + struct.pack("!I3xB", len(m), 58) + m)
        if bad: k ^= 0x5555
        return m[:2] + struct.pack("!H", k) + m[4:]
    echo = icmp6(128, 0, struct.pack("!HH", 7, 1) + b"x" * 16)
    ns = icmp6(135, 0, b"\0" * 4 + dst)
    sol = bytes([0xff, 0x02] + [0] * 9 + [1, 0xff]) + dst[13:]
    frames = {
        "short": b"\x60\0",
        "bad-version": ip6(58, echo, ver=4),
        "payload-length-past-frame": ip6(58, echo, plen=len(echo) + 100),
        "icmp6-bad-checksum": ip6(58, icmp6(128, 0, struct.pack("!HH", 7, 1), bad=True)),
        "ns-hop-limit-64": ip6(58, ns, hl=64),
        "ns-bad-option": ip6(58, icmp6(135, 0, b"\0" * 4 + dst + b"\x01\x00" + b"\0" * 6), hl=255),
        "hop-by-hop-not-first": ip6(60, bytes([0, 0, 1, 4, 0, 0, 0, 0]) + bytes([58, 0, 1, 4, 0, 0, 0, 0]) + echo),
        "unknown-option-icmp": ip6(60, bytes([58, 0, 0x80, 4, 0, 0, 0, 0]) + echo),
        "unknown-next-header": ip6(253, b"\0" * 8),
        "routing-segments-left": ip6(43, bytes([58, 0, 4, 1, 0, 0, 0, 0]) + echo),
        "fragment-odd-length": ip6(44, bytes([58, 0, 0, 1, 0, 0, 0, 9]) + echo[:13]),
        "fragment-truncated": ip6(44, bytes([58, 0, 0])),
        "to-another-address": ip6(58, echo, d=socket.inet_pton(socket.AF_INET6, "fd00:77::99")),
    }
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    m = bytes.fromhex(mac.replace(":", ""))
    for name, f in frames.items():
        s.send(m + b"\x02\x00\x00\x00\x00\x01" + b"\x86\xdd" + f)
        print(name)
""")


def test_malformed_ipv6_is_dropped_and_counted(netns, stack6):
    before = stack6.stats()
    r = netns.python(RAW6, TAP, STACK_MAC, STACK6, HOST6)
    assert len(r.stdout.split()) == 13, r.stdout
    got, out = ping6(netns, STACK6, count=2)
    assert got == 2, out
    st = stack6.stats()
    d = {k: st[k] - before.get(k, 0) for k in st}
    assert d["IPv6.InHdrErrors"] >= 6, d          # short, version, length, hbh, routing, fragments
    assert d["IPv6.InAddrErrors"] >= 1, d         # to another address
    assert d["IPv6.InUnknownProtos"] == 1, d
    assert d["IPv6.InDiscards"] == 1, d           # the unknown option that says discard
    assert d["ICMPv6.InCsumErrors"] == 1, d
    assert d["NDP.RxMalformed"] >= 2, d           # hop limit 64, zero-length option
    assert d["ICMPv6.OutParmProblems"] >= 3, d    # option, next header, routing (rate limit permitting)


FUZZ6 = textwrap.dedent(r"""
    import sys
    from scapy.all import (IPv6, ICMPv6EchoRequest, ICMPv6ND_NS, ICMPv6ND_NA, ICMPv6ND_RA, ICMPv6ND_RS,
                           ICMPv6NDOptPrefixInfo, ICMPv6NDOptSrcLLAddr, ICMPv6NDOptMTU, IPv6ExtHdrFragment,
                           IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting, ICMPv6DestUnreach, TCP, UDP,
                           Ether, Raw, conf, fuzz)
    iface, mac, dst, ll = sys.argv[1:5]
    conf.verb = 0
    src = "fe80::99"
    kinds = [
        lambda: Ether(dst=mac) / fuzz(IPv6(dst=dst) / ICMPv6EchoRequest()),
        lambda: Ether(dst=mac) / fuzz(IPv6(dst=dst) / UDP(dport=7) / Raw(b"x" * 20)),
        lambda: Ether(dst=mac) / fuzz(IPv6(dst=dst) / TCP(dport=7)),
        lambda: Ether(dst=mac) / IPv6(dst=dst) / fuzz(IPv6ExtHdrFragment()) / Raw(b"y" * 64),
        lambda: Ether(dst=mac) / IPv6(dst=dst) / fuzz(IPv6ExtHdrHopByHop()) / ICMPv6EchoRequest(),
        lambda: Ether(dst=mac) / IPv6(dst=dst) / fuzz(IPv6ExtHdrDestOpt()) / UDP(dport=7),
        lambda: Ether(dst=mac) / IPv6(dst=dst) / fuzz(IPv6ExtHdrRouting()) / ICMPv6EchoRequest(),
        lambda: Ether(dst=mac) / IPv6(src=src, dst=dst, hlim=255) / fuzz(ICMPv6ND_NS(tgt=dst)),
        lambda: Ether(dst=mac) / IPv6(src=src, dst=dst, hlim=255) / fuzz(ICMPv6ND_NA(tgt=ll)),
        lambda: Ether(dst="33:33:00:00:00:01") / IPv6(src=src, dst="ff02::1", hlim=255) /
                fuzz(ICMPv6ND_RA()) / fuzz(ICMPv6NDOptPrefixInfo()) / fuzz(ICMPv6NDOptMTU()),
        lambda: Ether(dst="33:33:00:00:00:01") / IPv6(src=src, dst="ff02::1", hlim=255) /
                ICMPv6ND_RA(routerlifetime=1800) / ICMPv6NDOptPrefixInfo(prefix=fuzz(IPv6()).dst, prefixlen=64) /
                ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:99"),
        lambda: Ether(dst=mac) / IPv6(src=src, dst=dst, hlim=255) / fuzz(ICMPv6ND_RS()),
        lambda: Ether(dst=mac) / fuzz(IPv6(dst=dst) / ICMPv6DestUnreach() / IPv6(src=dst) / UDP()),
    ]
    frames = []
    for i in range(2600):
        try:
            frames.append(bytes(kinds[i % len(kinds)]()))
        except Exception:   # a value scapy cannot encode: draw again next time
            continue
    import socket
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    for f in frames:
        s.send(f)
    print("sent", len(frames))
""")


def test_scapy_fuzzed_ipv6_frames_are_dropped_and_counted(netns, tapstack_bin):
    """2,600 frames from scapy's fuzz(): IPv6 with each extension header, ICMPv6 errors,
    every neighbour discovery message and router advertisements with random prefixes, to a
    stack with SLAAC on. It keeps answering, and what advertisements make it hold is bounded."""
    host6(netns)
    ts = TapStack(netns, tapstack_bin, "-addr", f"{STACK_ADDR}/24", "-ip6", f"{STACK6}/64", "-slaac")
    try:
        ts.expect("READY")
        wait_for(lambda: f"{STACK6}/64" in addrs(ts), "DAD of the stack's address")
        r = netns.python(FUZZ6, TAP, STACK_MAC, STACK6, STACK_LL, timeout=300)
        assert r.stdout.startswith("sent "), r.stdout + r.stderr
        assert int(r.stdout.split()[1]) > 2000, r.stdout
        got, out = ping6(netns, STACK6, count=2)
        assert got == 2, out
        r = netns.python(UDP_ECHO_CLIENT, STACK6, "5,3000", "2", timeout=60)
        assert "ok 4" in r.stdout, r.stdout + r.stderr
        st = ts.stats()
        dropped = (st["IPv6.InHdrErrors"] + st["IPv6.InAddrErrors"] + st["IPv6.InDiscards"] + st["ICMPv6.InErrors"] +
                   st["NDP.RxMalformed"] + st["UDP.InErrors"])
        assert dropped > 100, st
        assert st["NDP.AddrsAutoconf"] <= 16 and st["NDP.RoutersLearned"] <= 8, st
        assert len(addrs(ts)) <= 2 + 16, addrs(ts)
        assert ts.proc.poll() is None
    finally:
        ts.stop()


def test_mld_reports_reach_a_snooping_bridge(netns, tapstack_bin):
    """The TAP joins a Linux bridge that snoops multicast and queries: the stack's MLDv2
    reports put its solicited-node groups in the bridge's multicast database, so neighbour
    solicitations keep reaching it there, and a ping6 across the bridge works."""
    netns.ip("link", "add", "br6", "type", "bridge", "mcast_snooping", "1", "mcast_querier", "1",
             "mcast_query_interval", "500")
    netns.ip("addr", "flush", "dev", TAP)
    netns.ip("link", "set", TAP, "master", "br6")
    netns.ip("-6", "addr", "add", f"{HOST6}/64", "dev", "br6", "nodad")
    netns.ip("link", "set", "br6", "up")
    ts = TapStack(netns, tapstack_bin, "-addr", "none", "-ip6", f"{STACK6}/64")
    try:
        ts.expect("READY")
        wait_for(lambda: f"{STACK6}/64" in addrs(ts), "DAD of the stack's address")
        # ff02::1:ff00:2 is STACK6's solicited-node group, ff02::1:ff6e:7301 the link-local's.
        mdb = wait_for(lambda: (lambda out: "ff02::1:ff00:2" in out and "ff02::1:ff6e:7301" in out and out)(
            netns.exec("bridge", "mdb", "show", "dev", "br6").stdout), "the bridge's MDB entries", timeout=20)
        assert TAP in mdb, mdb
        got, out = ping6(netns, STACK6, count=2)
        assert got == 2, out
        assert ts.stats()["ICMPv6.OutMLDReports"] >= 2
    finally:
        ts.stop()
