"""netstack's TCP against Linux's under injected faults (issue 6 part 3, tier 1), on a TAP in a
namespace of the test's own:

- nftables `numgen random` drops on the Linux side: the client runs in a second namespace
  routed through the TAP's, whose forward hook drops 5% of TCP packets each way (so Linux's
  TCP sees real loss, not a local send error), and
- tapstack's fault-injecting link (netstack/link/fault: loss, duplication, reordering and
  delay, seeded) between the TAP and the stack,

with transfers in both directions checked byte for byte by sha256: Linux to netstack's sink
(which answers with the hash of what it read) and netstack's HTTP responder to Linux (the body
against the hash netstack computes of the same pseudo-random stream). Also: segments that are
malformed or outside the window on an established connection are dropped and counted, do not
reach the application, and the connection and the stack keep working (the listener-side
malformed segments are in test_netstack_tcp.py).

The 100 MB runs are marked `soak`: deselected in `./scons test`, run by `./scons soak`
(`pytest -m soak tests/host`). Sizes here keep the rest quick."""

import json
import os
import shutil

import pytest

from goxen import debian
from nshost import HOST_ADDR, STACK_ADDR, TAP, Netns, TapStack, run

# Five percent of TCP packets dropped in each direction, in the forward hook of the namespace
# holding the TAP, which routes between it and the client's namespace: a drop there is loss
# the client's TCP cannot see (a drop in its own output path, even at the device's egress
# hook, is reported back to TCP as a local send failure and retried, not lost).
NFT_RULES = """table inet gxfaults {
  chain drops {
    type filter hook forward priority 0;
    iifname "%(tap)s" meta l4proto tcp numgen random mod 100 < %(pct)d counter drop
    oifname "%(tap)s" meta l4proto tcp numgen random mod 100 < %(pct)d counter drop
  }
}
"""
CLIENT_ADDR, ROUTER_ADDR = "10.78.0.2", "10.78.0.1"

# Faults of the link between the TAP and the stack (tapstack flags), both directions.
FAULT_LINK = ["-drop", "0.05", "-dup", "0.02", "-reorder", "0.03", "-delay", "20ms", "-delayrate", "0.02"]

SMALL = 3_000_000
SOAK = 100_000_000

TRANSFER = r"""
import hashlib, http.client, json, random, socket, sys, time
mode, addr, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
CHUNK = 1 << 20
t0 = time.monotonic()
last = [t0]
def progress(done):
    if time.monotonic() - last[0] >= 10:
        last[0] = time.monotonic()
        print(f"{mode}: {done}/{n} bytes after {last[0] - t0:.0f} s", file=sys.stderr, flush=True)
if mode == "send":                        # Linux -> netstack's sink, which answers with the sha256
    rng, h, done = random.Random(n), hashlib.sha256(), 0
    s = socket.create_connection((addr, 9), timeout=120)
    while done < n:
        b = rng.randbytes(min(CHUNK, n - done))
        s.sendall(b)
        h.update(b)
        done += len(b)
        progress(done)
    s.shutdown(socket.SHUT_WR)
    reply = b""
    while True:
        b = s.recv(256)
        if not b:
            break
        reply += b
    secs = time.monotonic() - t0
    got, want, length = reply.decode(), h.hexdigest(), done
else:                                     # netstack's HTTP /bytes/N -> Linux
    c = http.client.HTTPConnection(addr, 80, timeout=120)
    c.request("GET", f"/bytes/{n}")
    r = c.getresponse()
    h, length = hashlib.sha256(), 0
    while True:
        b = r.read(CHUNK)
        if not b:
            break
        h.update(b)
        length += len(b)
        progress(length)
    secs = time.monotonic() - t0
    c.request("GET", f"/bytes/{n}/sha256")
    got, want = h.hexdigest(), c.getresponse().read().decode()
print(json.dumps({"mode": mode, "bytes": length, "ok": got == want and length == n, "got": got,
                  "want": want, "secs": secs, "MBps": length / secs / 1e6}))
"""


@pytest.fixture(scope="session")
def nft(host_tools):
    """nft, installed from Debian's nftables package when missing."""
    if not shutil.which("nft"):
        debian.apt_install(["nftables"], "numgen drops on the Linux side")
    return shutil.which("nft")


class RoutedClient:
    """A client namespace behind the test's namespace: veth 10.78.0.2/24 <-> 10.78.0.1/24,
    forwarded to the TAP (tapstack's gateway is the TAP's address), with the nftables drops
    in the forward hook."""

    def __init__(self, netns, pct):
        self.router, self.ns = netns, Netns()
        run(["ip", "netns", "add", self.ns.name])  # no TAP here: Netns.create would add one
        self.ns.ip("link", "set", "lo", "up")
        veth = f"gxv{os.getpid() % 10000}"
        self.ns.ip("link", "add", "gxv0", "type", "veth", "peer", "name", veth, "netns", netns.name)
        # One MSS per packet (no TSO/GSO super-packets), so each drop is one segment.
        self.ns.ip("link", "set", "gxv0", "gso_max_segs", "1", "gso_max_size", "1500")
        self.ns.ip("addr", "add", f"{CLIENT_ADDR}/24", "dev", "gxv0")
        self.ns.ip("link", "set", "gxv0", "up")
        self.ns.ip("route", "add", "default", "via", ROUTER_ADDR)
        netns.ip("addr", "add", f"{ROUTER_ADDR}/24", "dev", veth)
        netns.ip("link", "set", veth, "up")
        netns.exec("sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
        netns.exec("nft", "-f", "-", input=NFT_RULES % {"tap": TAP, "pct": pct})

    def dropped(self):
        """Packets dropped so far: (towards Linux, towards netstack)."""
        out = json.loads(self.router.exec("nft", "-j", "list", "table", "inet", "gxfaults").stdout)
        counts = [next(e["counter"]["packets"] for e in item["rule"]["expr"] if "counter" in e)
                  for item in out["nftables"] if "rule" in item]
        return tuple(counts)

    def delete(self):
        self.ns.delete()


def transfer(netns, mode, n, timeout):
    r = netns.python(TRANSFER, mode, STACK_ADDR, str(n), timeout=timeout, check=False)
    assert r.returncode == 0, f"{mode} {n}: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    res = json.loads(r.stdout.strip().splitlines()[-1])
    print(f"{mode} {n} bytes: {res['secs']:.1f} s, {res['MBps']:.2f} MB/s")
    assert res["ok"], res
    return res


@pytest.fixture
def faulty_tapstack(netns, tapstack_bin):
    ts = TapStack(netns, tapstack_bin, "-addr", f"{STACK_ADDR}/24", "-seed", "23", *FAULT_LINK)
    try:
        assert ts.expect("READY") == f"{STACK_ADDR}/24"
        yield ts
    finally:
        ts.stop()


def check_nft(netns, tapstack, n, timeout):
    client = RoutedClient(netns, 5)
    try:
        results = [transfer(client.ns, "send", n, timeout), transfer(client.ns, "get", n, timeout)]
        to_linux, to_stack = client.dropped()
    finally:
        client.delete()
    st = tapstack.stats()
    print(f"nft dropped {to_linux} towards Linux, {to_stack} towards netstack; "
          f"netstack RetransSegs {st['TCP.RetransSegs']}, RTOs {st['TCP.RTOs']}, FastRetrans {st['TCP.FastRetrans']}")
    # Both directions lost packets, and netstack recovered its own losses by retransmitting.
    assert to_linux > 0 and to_stack > 0
    assert st["TCP.RetransSegs"] > 0, st
    return results


def check_fault_link(tapstack, netns, n, timeout):
    results = [transfer(netns, "send", n, timeout), transfer(netns, "get", n, timeout)]
    st = tapstack.stats()
    print({k: v for k, v in st.items() if k.startswith("Fault.")},
          f"RetransSegs {st['TCP.RetransSegs']}, RTOs {st['TCP.RTOs']}, FastRetrans {st['TCP.FastRetrans']}")
    for k in ("Fault.Dropped", "Fault.Duplicated", "Fault.Reordered", "Fault.Delayed", "TCP.RetransSegs"):
        assert st[k] > 0, (k, st)
    return results


def test_tcp_nft_random_drops(netns, tapstack, nft):
    check_nft(netns, tapstack, SMALL, timeout=120)


def test_tcp_fault_link_loss_reorder_dup_delay(netns, faulty_tapstack):
    check_fault_link(faulty_tapstack, netns, SMALL, timeout=120)


@pytest.mark.soak
def test_soak_tcp_100mb_nft_random_drops(netns, tapstack, nft):
    check_nft(netns, tapstack, SOAK, timeout=3600)


@pytest.mark.soak
def test_soak_tcp_100mb_fault_link(netns, faulty_tapstack):
    check_fault_link(faulty_tapstack, netns, SOAK, timeout=3600)


# Segments injected into an established connection (Linux's socket to netstack's echo), built
# from the sequence numbers an AF_PACKET sniffer on the TAP saw. Each must be dropped: the
# echo returns only what the real socket sent.
INJECT = r"""
import json, socket, struct, sys, time
tap, stack, host = sys.argv[1:4]
ETH_P_ALL = 3
sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
sniff.bind((tap, 0))
sniff.setblocking(False)
c = socket.create_connection((stack, 7), timeout=10)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
cport = c.getsockname()[1]
def echo(msg):
    c.sendall(msg)
    got = b""
    while len(got) < len(msg):
        b = c.recv(64)
        if not b:
            break
        got += b
    return got
first = echo(b"hello")
time.sleep(0.3)
snd_nxt = rcv_nxt = None            # netstack's, from its last segment to us
ts_opt = b""                        # so segments pass PAWS (RFC 7323 5) when timestamps are on
while True:
    try:
        f = sniff.recv(65536)
    except BlockingIOError:
        break
    if f[12:14] != b"\x08\x00" or f[23] != 6:
        continue
    ip = f[14:]
    ihl = (ip[0] & 15) * 4
    tot = struct.unpack("!H", ip[2:4])[0]
    t = ip[ihl:tot]
    sport, dport, seq, ack = struct.unpack("!HHII", t[:12])
    doff = (t[12] >> 4) * 4
    if socket.inet_ntoa(ip[12:16]) == stack and sport == 7 and dport == cport:
        snd_nxt = (seq + len(t) - doff + (1 if t[13] & 0x03 else 0)) & 0xffffffff
        rcv_nxt = ack
    elif sport == cport and dport == 7:
        o = t[20:doff]              # Linux's latest timestamps option, if it uses them
        i = 0
        while i < len(o) and o[i] != 0:
            if o[i] == 1:
                i += 1
                continue
            if o[i] == 8 and o[i + 1] == 10:
                ts_opt = b"\x01\x01" + o[i:i + 10]
            i += max(o[i + 1], 2)
assert snd_nxt is not None, "no segment from netstack seen"
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
src, dst = socket.inet_aton(host), socket.inet_aton(stack)
def send(seq, ack, data=b"", opts=b"", offset=None, flags=0x18, bad_sum=False):
    words = (20 + len(opts)) // 4 if offset is None else offset
    tcp = struct.pack("!HHIIBBHHH", cport, 7, seq & 0xffffffff, ack & 0xffffffff, words << 4, flags,
                      65535, 0, 0) + opts + data
    s = csum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
    if bad_sum:
        s ^= 0x5555
    tcp = tcp[:16] + struct.pack("!H", s) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, src, dst)
    raw.sendto(ip + tcp, (stack, 0))
W = 1 << 30
# Out of window (RFC 9293 3.10.7.4): far ahead, and old.
send(rcv_nxt + W, snd_nxt, b"EVIL-ahead", opts=ts_opt)
send(rcv_nxt - W, snd_nxt, b"EVIL-old", opts=ts_opt)
# ACKs of data never sent, and far below SND.UNA (RFC 5961 5.2): challenge ACK, data dropped.
send(rcv_nxt, snd_nxt + (1 << 20), b"EVIL-ack-ahead", opts=ts_opt)
send(rcv_nxt, snd_nxt - W, flags=0x10, opts=ts_opt)
# In window and in sequence, but malformed.
send(rcv_nxt, snd_nxt, b"EVIL-csum", bad_sum=True)
send(rcv_nxt, snd_nxt, b"EVIL-offset", offset=15)               # data offset past the segment
send(rcv_nxt, snd_nxt, b"EVIL-offset-low", offset=4)            # data offset below 20 bytes
send(rcv_nxt, snd_nxt, b"EVIL-optlen0", opts=bytes([5, 0, 1, 1]))   # option length 0 (SACK)
send(rcv_nxt, snd_nxt, b"EVIL-optlen", opts=bytes([1, 1, 8, 9]) + bytes(8))  # timestamps of length 9
send(rcv_nxt, snd_nxt, b"EVIL-optrun", opts=bytes([1, 1, 5, 18]) + bytes(8))  # SACK running past the header
time.sleep(0.3)
second = echo(b"world")
c.shutdown(socket.SHUT_WR)
rest = c.recv(4096)
c.close()
print(json.dumps({"first": first.decode(errors="replace"), "second": second.decode(errors="replace"),
                  "rest": rest.decode(errors="replace"), "timestamps": bool(ts_opt)}))
"""


def test_tcp_bad_segments_on_established_connection(netns, tapstack):
    before = tapstack.stats()
    r = netns.python(INJECT, TAP, STACK_ADDR, HOST_ADDR, timeout=60)
    out = json.loads(r.stdout.strip())
    print("timestamps on the connection:", out.pop("timestamps"))
    # The echo returned exactly what the socket sent: no injected byte reached the application.
    assert out == {"first": "hello", "second": "world", "rest": ""}, out
    after = tapstack.stats()
    d = {k: after[k] - before[k] for k in ("TCP.OutOfWindow", "TCP.ChallengeACKs", "TCP.InErrs",
                                           "TCP.InCsumErrors", "TCP.EstabResets", "TCP.PassiveOpens")}
    assert d == {"TCP.OutOfWindow": 2, "TCP.ChallengeACKs": 2, "TCP.InErrs": 6, "TCP.InCsumErrors": 1,
                 "TCP.EstabResets": 0, "TCP.PassiveOpens": 1}, d
    # And the stack still serves a new connection.
    r = netns.python("import socket\nc = socket.create_connection(('%s', 7), timeout=10)\nc.sendall(b'again')\n"
                     "c.shutdown(socket.SHUT_WR)\nprint(c.recv(64).decode())\n" % STACK_ADDR)
    assert r.stdout.strip() == "again"
