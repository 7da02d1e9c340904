"""netstack's TCP against Linux's on a TAP in a namespace (issue 6 part 3, tier 1): Python
clients to tapstack's echo, sink and HTTP services; tapstack's client to a Python server;
curl against the HTTP responder; half-close; RST on closed ports both ways; and transfers
checked by hash with faults (loss, duplication, reordering) injected between TAP and stack.
Sizes stay small so ./scons test stays quick."""

import hashlib
import shutil
import subprocess
import sys

import pytest

from nshost import HOST_ADDR, STACK_ADDR, TapStack

CLIENT = r"""
import hashlib, socket, sys
addr, port, mode, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
data = bytes((i * 7 + i // 251) & 0xff for i in range(n))
s = socket.create_connection((addr, port), timeout=120)
if mode == "echo":
    got = bytearray()
    for off in range(0, n, 65536):
        s.sendall(data[off:off + 65536])
    s.shutdown(socket.SHUT_WR)            # half-close: the echo still answers, then closes
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    print("OK" if bytes(got) == data else f"MISMATCH {len(got)}")
elif mode == "sink":
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    reply = b""
    while True:
        b = s.recv(256)
        if not b:
            break
        reply += b
    print("OK" if reply.decode() == hashlib.sha256(data).hexdigest() else f"MISMATCH {reply!r}")
"""

SERVER = r"""
import hashlib, socket, sys
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2])))
l.listen(4)
print("listening", flush=True)
l.settimeout(120)
c, _ = l.accept()
c.settimeout(120)
h, n = hashlib.sha256(), 0
while True:
    b = c.recv(65536)
    if not b:
        break
    h.update(b)
    n += len(b)
c.sendall(h.hexdigest().encode())
c.close()
print("received", n, h.hexdigest(), flush=True)
"""


def client(netns, port, mode, n):
    r = netns.python(CLIENT, STACK_ADDR, str(port), mode, str(n), timeout=300)
    return r.stdout.strip()


@pytest.mark.parametrize("n", [1, 1460, 300_000])
def test_tcp_python_to_echo_half_close(netns, tapstack, n):
    assert client(netns, 7, "echo", n) == "OK"


def test_tcp_python_to_sink(netns, tapstack):
    assert client(netns, 9, "sink", 4_000_000) == "OK"
    st = tapstack.stats()
    assert st["TCP.PassiveOpens"] >= 1, st


def test_tcp_stack_to_python(netns, tapstack):
    srv = subprocess.Popen(netns.cmd(sys.executable, "-c", SERVER, HOST_ADDR, "9100"),
                           stdout=subprocess.PIPE, text=True)
    try:
        assert srv.stdout.readline().strip() == "listening"
        out = tapstack.command(f"tcpsend {HOST_ADDR}:9100 3000000", "TCPSENT", timeout=90)
        sent, reply = out.split()
        assert sent == reply, out
        assert srv.stdout.readline().split() == ["received", "3000000", sent]
        assert srv.wait(timeout=10) == 0
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()


def test_tcp_rst_on_closed_port(netns, tapstack):
    r = netns.python("import socket\ntry:\n socket.create_connection(('%s', 81), timeout=5)\n"
                     "except ConnectionRefusedError:\n print('refused')\n" % STACK_ADDR)
    assert r.stdout.strip() == "refused"
    assert tapstack.stats()["TCP.OutRsts"] >= 1
    # And Linux's RST to netstack's SYN on a closed port.
    assert tapstack.command(f"tcpconnect {HOST_ADDR}:82", "CONNECTED") == "ERROR connection refused"


def test_tcp_curl_http(netns, tapstack):
    if not shutil.which("curl"):
        pytest.skip("curl not installed")
    r = netns.exec("curl", "-sS", "--max-time", "20", f"http://{STACK_ADDR}/")
    assert r.stdout.startswith(f"hello from netstack, {HOST_ADDR}:"), r.stdout
    n = 2_000_000
    body = subprocess.run(netns.cmd("curl", "-sS", "--max-time", "30", f"http://{STACK_ADDR}/bytes/{n}"),
                          capture_output=True, timeout=60, check=True).stdout
    want = netns.exec("curl", "-sS", "--max-time", "20", f"http://{STACK_ADDR}/bytes/{n}/sha256").stdout
    assert len(body) == n and hashlib.sha256(body).hexdigest() == want


def test_tcp_under_faults(netns, tapstack_bin):
    """5% loss plus duplication and reordering in both directions between TAP and stack:
    transfers both ways still arrive byte-exact."""
    ts = TapStack(netns, tapstack_bin, "-addr", f"{STACK_ADDR}/24", "-drop", "0.05", "-dup", "0.02",
                  "-reorder", "0.02", "-seed", "11")
    srv = None
    try:
        assert ts.expect("READY") == f"{STACK_ADDR}/24"
        assert client(netns, 9, "sink", 1_000_000) == "OK"
        srv = subprocess.Popen(netns.cmd(sys.executable, "-c", SERVER, HOST_ADDR, "9101"),
                               stdout=subprocess.PIPE, text=True)
        assert srv.stdout.readline().strip() == "listening"
        sent, reply = ts.command(f"tcpsend {HOST_ADDR}:9101 1000000", "TCPSENT", timeout=90).split()
        assert sent == reply
        st = ts.stats()
        assert st["Fault.Dropped"] > 0 and st["TCP.RetransSegs"] > 0, st
    finally:
        if srv is not None and srv.poll() is None:
            srv.kill()
            srv.wait()
        ts.stop()


MANY = r"""
import resource, selectors, socket, sys
n = int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, n + 100)), hard))
socks = []
for i in range(n):
    s = socket.create_connection((sys.argv[1], 7), timeout=30)
    socks.append(s)
for i, s in enumerate(socks):                     # all n open at once
    s.sendall(b"conn %d\n" % i)
ok = 0
for i, s in enumerate(socks):
    want = b"conn %d\n" % i
    got = b""
    while len(got) < len(want):
        b = s.recv(64)
        if not b:
            break
        got += b
    ok += got == want
for s in socks:
    s.close()
print(ok)
"""


def test_tcp_1000_concurrent_connections(netns, tapstack):
    r = netns.python(MANY, STACK_ADDR, "1000", timeout=120)
    assert r.stdout.strip() == "1000", r.stderr


FLOOD = r"""
import random, socket, struct, sys
dst = socket.inet_aton(sys.argv[1])
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
rng = random.Random(5)
for i in range(int(sys.argv[2])):
    src = socket.inet_aton("10.77.0.%d" % rng.randrange(100, 250))
    sport = rng.randrange(1024, 65535)
    tcp = struct.pack("!HHIIBBHHH", sport, 7, rng.getrandbits(32), 0, 5 << 4, 0x02, 64240, 0, 0)
    c = csum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i & 0xffff, 0, 64, 6, 0, src, dst)
    raw.sendto(ip + tcp, (sys.argv[1], 0))
print("sent")
"""


def test_tcp_syn_flood_still_serves(netns, tapstack):
    """A SYN flood from spoofed sources fills the SYN queue; a normal client still gets
    served (through SYN cookies)."""
    assert netns.python(FLOOD, STACK_ADDR, "3000", timeout=60).stdout.strip() == "sent"
    assert client(netns, 7, "echo", 20_000) == "OK"
    st = tapstack.stats()
    assert st["TCP.SynCookiesSent"] > 0 and st["TCP.SynCookiesRecv"] >= 1, st


MALFORMED = r"""
import socket, struct, sys
dst = socket.inet_aton(sys.argv[1])
src = socket.inet_aton(sys.argv[2])
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
def send(offset_words, opts=b"", flags=0x02, bad_sum=False):
    tcp = struct.pack("!HHIIBBHHH", 40000, 7, 1, 0, offset_words << 4, flags, 64240, 0, 0) + opts
    c = csum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
    if bad_sum:
        c ^= 0x5555
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, src, dst)
    raw.sendto(ip + tcp, (sys.argv[1], 0))
send(5, bad_sum=True)                          # bad checksum
send(15)                                       # data offset past the segment
send(3)                                        # data offset below 20
send(6, opts=bytes([2, 3, 5, 0]))              # MSS option of length 3
send(6, opts=bytes([8, 12, 0, 0]))             # option running past the header
print("sent")
"""


def test_tcp_malformed_segments_dropped_and_counted(netns, tapstack):
    before = tapstack.stats()
    assert netns.python(MALFORMED, STACK_ADDR, HOST_ADDR).stdout.strip() == "sent"
    assert client(netns, 7, "echo", 1000) == "OK"  # and the stack still serves
    after = tapstack.stats()
    assert after["TCP.InCsumErrors"] - before["TCP.InCsumErrors"] == 1, after
    assert after["TCP.InErrs"] - before["TCP.InErrs"] == 5, after
    assert after["TCP.PassiveOpens"] - before["TCP.PassiveOpens"] == 1, after


SHORT_SERVER = SERVER.replace("l.listen(4)", "l.listen(1)")


def pcap_tcp(path):
    """(src, flags, option kinds, payload length) of each TCP segment in a pcap file."""
    import struct
    d = path.read_bytes()
    out, off = [], 24
    while off + 16 <= len(d):
        incl = struct.unpack("<I", d[off + 8:off + 12])[0]
        f = d[off + 16:off + 16 + incl]
        off += 16 + incl
        if f[12:14] != b"\x08\x00" or f[23] != 6:
            continue
        ip = f[14:]
        ihl = (ip[0] & 15) * 4
        tcp = ip[ihl:]
        doff = (tcp[12] >> 4) * 4
        kinds, opts, i = set(), tcp[20:doff], 0
        while i < len(opts) and opts[i] != 0:
            if opts[i] == 1:
                i += 1
                continue
            kinds.add(opts[i])
            i += opts[i + 1]
        out.append((".".join(map(str, ip[12:16])), tcp[13], kinds,
                    struct.unpack("!H", ip[2:4])[0] - ihl - doff))
    return out


SACK_PERM, SACK, TS = 4, 5, 8


@pytest.mark.parametrize("flags,want", [((), True), (("-nosack", "-nots"), False)], ids=["on", "off"])
def test_tcp_linux_negotiates_sack_and_timestamps(netns, tapstack_bin, tmp_path, flags, want):
    """Linux agrees SACK-permitted and timestamps (RFC 2018, RFC 7323) with netstack, as
    server and as client (seen in a capture of the handshakes: both SYNs carry both options,
    and Linux's later segments carry timestamps), and not when tapstack turns them off."""
    cap = tmp_path / "tcp.pcap"
    ts = TapStack(netns, tapstack_bin, "-addr", f"{STACK_ADDR}/24", "-pcap", str(cap), *flags)
    srv = None
    try:
        assert ts.expect("READY") == f"{STACK_ADDR}/24"
        assert client(netns, 7, "echo", 5000) == "OK"
        srv = subprocess.Popen(netns.cmd(sys.executable, "-c", SHORT_SERVER, HOST_ADDR, "9102"),
                               stdout=subprocess.PIPE, text=True)
        assert srv.stdout.readline().strip() == "listening"
        sent, reply = ts.command(f"tcpsend {HOST_ADDR}:9102 100000", "TCPSENT", timeout=60).split()
        assert sent == reply
    finally:
        if srv is not None and srv.poll() is None:
            srv.kill()
            srv.wait()
        ts.stop()
    segs = pcap_tcp(cap)
    syns = [(src, fl, kinds) for src, fl, kinds, _ in segs if fl & 0x02]
    # Linux's SYN, our SYN-ACK, our SYN, Linux's SYN-ACK.
    assert [(src, fl) for src, fl, _ in syns] == [(HOST_ADDR, 0x02), (STACK_ADDR, 0x12),
                                                  (STACK_ADDR, 0x02), (HOST_ADDR, 0x12)], syns
    assert {SACK_PERM, TS} <= syns[0][2], syns
    for _, _, kinds in syns[1:]:
        assert ({SACK_PERM, TS} <= kinds) if want else not ({SACK_PERM, TS} & kinds), syns
    linux_data = [kinds for src, fl, kinds, n in segs if src == HOST_ADDR and not fl & 0x02 and n > 0]
    assert linux_data and all((TS in k) == want for k in linux_data)


LINUX_SACK_RECOVERIES = r"""
lines = open("/proc/net/netstat").read().splitlines()
for names, values in zip(lines[::2], lines[1::2]):
    if names.startswith("TcpExt:"):
        print(dict(zip(names.split()[1:], map(int, values.split()[1:])))["TCPSackRecovery"])
"""


@pytest.mark.parametrize("sack", [True, False], ids=["sack", "nosack"])
def test_tcp_sack_recovery_under_loss(netns, tapstack_bin, sack):
    """5% loss both ways between TAP and stack: 3 MB each way arrive byte-exact. With SACK,
    netstack's ACKs carry SACK blocks that Linux recovers with, and netstack recovers from
    Linux's blocks by RFC 6675; without, both fall back to NewReno-style fast recovery."""
    flags = () if sack else ("-nosack",)
    ts = TapStack(netns, tapstack_bin, "-addr", f"{STACK_ADDR}/24", "-drop", "0.05", "-seed", "21", *flags)
    srv = None
    try:
        assert ts.expect("READY") == f"{STACK_ADDR}/24"
        before = int(netns.python(LINUX_SACK_RECOVERIES).stdout)
        assert client(netns, 9, "sink", 3_000_000) == "OK"
        linux_recoveries = int(netns.python(LINUX_SACK_RECOVERIES).stdout) - before
        srv = subprocess.Popen(netns.cmd(sys.executable, "-c", SERVER, HOST_ADDR, "9103"),
                               stdout=subprocess.PIPE, text=True)
        assert srv.stdout.readline().strip() == "listening"
        sent, reply = ts.command(f"tcpsend {HOST_ADDR}:9103 3000000", "TCPSENT", timeout=300).split()
        assert sent == reply
        assert srv.stdout.readline().split() == ["received", "3000000", sent]
        st = ts.stats()
        assert st["Fault.Dropped"] > 0 and st["TCP.FastRetrans"] > 0, st
        if sack:
            assert st["TCP.SACKBlocksSent"] > 0 and linux_recoveries > 0, (st, linux_recoveries)
            assert st["TCP.SACKBlocksRecv"] > 0 and st["TCP.SACKRecoveries"] > 0, st
            assert st["TCP.SACKRetrans"] > 0, st
        else:
            assert st["TCP.SACKBlocksSent"] == 0 and linux_recoveries == 0, (st, linux_recoveries)
            assert st["TCP.SACKRecoveries"] == 0 and st["TCP.SACKBlocksRecv"] == 0, st
    finally:
        if srv is not None and srv.poll() is None:
            srv.kill()
            srv.wait()
        ts.stop()
