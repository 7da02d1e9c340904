"""netstack on a TAP device against Linux's own stack (issue 5 part 5, tier 1): ping of all
sizes, UDP both ways with Python sockets and nc, ARP both ways, ICMP port unreachable,
malformed frames written raw to the TAP (the stack drops and counts them and still answers),
and DHCP against dnsmasq."""

import re
import subprocess
import time
from pathlib import Path

import pytest

from nshost import HOST_ADDR, STACK_ADDR, STACK_MAC, TAP, UDP_ECHO_CLIENT, TapStack

HERE = Path(__file__).resolve().parent


def ping(ns, addr, *args, count=3):
    r = ns.exec("ping", "-n", "-c", str(count), "-i", "0.2", "-W", "2", *args, addr, check=False, timeout=60)
    m = re.search(r"(\d+) received", r.stdout)
    return (int(m.group(1)) if m else 0), r.stdout


@pytest.mark.parametrize("size,extra", [(56, ()), (1472, ("-M", "do")), (8000, ())],
                         ids=["s56", "s1472-df", "s8000-fragmented"])
def test_ping(netns, tapstack, size, extra):
    got, out = ping(netns, STACK_ADDR, "-s", str(size), *extra)
    assert got == 3, out
    st = tapstack.stats()
    assert st["ICMP.OutEchoReps"] >= 3
    if size == 8000:
        assert st["IP.ReasmOKs"] >= 3 and st["IP.FragOKs"] >= 3, st


def test_ping_largest(netns, tapstack):
    got, out = ping(netns, STACK_ADDR, "-s", "65507", count=1)
    assert got == 1, out


def test_arp_both_ways(netns, tapstack):
    tap_mac = netns.tap_mac()
    assert tapstack.arp() == []
    # The stack resolves Linux: its request, Linux's reply.
    # Port 9 is closed on Linux: its ICMP port unreachable fails the stack's connected socket.
    assert tapstack.command(f"udpcall {HOST_ADDR}:9 x", "REPLY") == "ERROR connection refused"
    entries = {e["addr"]: e for e in tapstack.arp()}
    assert entries[HOST_ADDR]["mac"] == tap_mac and entries[HOST_ADDR]["resolved"] == "true", entries
    st = tapstack.stats()
    assert st["ARP.TxRequests"] >= 2 and st["ARP.RxReplies"] >= 1, st  # gratuitous + resolution
    # Linux resolves the stack.
    netns.ip("neigh", "flush", "dev", TAP)
    got, out = ping(netns, STACK_ADDR, count=1)
    assert got == 1, out
    neigh = netns.ip("neigh", "show", STACK_ADDR).stdout
    assert STACK_MAC in neigh, neigh
    st = tapstack.stats()
    assert st["ARP.RxRequests"] >= 1 and st["ARP.TxReplies"] >= 1, st


def test_udp_python_to_stack(netns, tapstack):
    r = netns.python(UDP_ECHO_CLIENT, STACK_ADDR, "1,2,100,1472,1473,3000,8000,20000", "25", timeout=120)
    assert r.stdout.strip() == "ok 200"
    st = tapstack.stats()
    assert st["UDP.InDatagrams"] >= 200 and st["UDP.OutDatagrams"] >= 200, st


def test_udp_nc_to_stack(netns, tapstack):
    r = netns.exec("sh", "-c", f"echo hello-netstack | nc -u -w 1 {STACK_ADDR} 7", timeout=30)
    assert r.stdout.strip() == "hello-netstack"


ECHO_SERVER = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 9000))
s.settimeout(30)
print("listening", flush=True)
for _ in range(int(sys.argv[2])):
    data, peer = s.recvfrom(65536)
    s.sendto(data[::-1], peer)
"""


def test_udp_stack_to_python(netns, tapstack):
    srv = subprocess.Popen(netns.cmd(__import__("sys").executable, "-c", ECHO_SERVER, HOST_ADDR, "2"),
                           stdout=subprocess.PIPE, text=True)
    try:
        assert srv.stdout.readline().strip() == "listening"
        assert tapstack.command(f"udpcall {HOST_ADDR}:9000 olleh", "REPLY") == "hello"
        big = "".join(chr(ord("a") + i % 26) for i in range(3000))  # fragmented by the stack
        assert tapstack.command(f"udpcall {HOST_ADDR}:9000 {big}", "REPLY") == big[::-1]
        assert srv.wait(timeout=10) == 0
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()
    assert tapstack.stats()["IP.FragOKs"] >= 1


def test_udp_stack_to_nc(netns, tapstack):
    srv = subprocess.Popen(netns.cmd("nc", "-u", "-l", "-W", "1", HOST_ADDR, "9001"),
                           stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)
        # nc prints the datagram and sends nothing back: udpcall times out with ERROR.
        tapstack.command(f"udpcall {HOST_ADDR}:9001 from-netstack", "REPLY", timeout=15)
        out, _ = srv.communicate(timeout=10)
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()
    assert "from-netstack" in out


PORT_UNREACHABLE = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect((sys.argv[1], 9))
s.send(b"anyone?")
try:
    s.recv(100)
except ConnectionRefusedError:
    print("refused")
"""


def test_icmp_port_unreachable(netns, tapstack):
    assert netns.python(PORT_UNREACHABLE, STACK_ADDR).stdout.strip() == "refused"
    st = tapstack.stats()
    assert st["UDP.NoPorts"] == 1 and st["ICMP.OutDestUnreachs"] == 1, st


def test_malformed_frames(netns, tapstack):
    got, out = ping(netns, STACK_ADDR, count=1)  # Linux learns the stack's MAC first
    assert got == 1, out
    before = tapstack.stats()
    r = netns.exec(__import__("sys").executable, str(HERE / "rawframes.py"), TAP, STACK_MAC, STACK_ADDR, HOST_ADDR)
    names = r.stdout.split()
    assert len(names) == 21, names
    time.sleep(0.5)
    after = tapstack.stats()
    d = {k: after[k] - before.get(k, 0) for k in after}
    assert d["IP.InHdrErrors"] >= 9, d        # empty, truncated, lengths, IHL, options, version, checksum, 64k
    assert d["IP.InChecksumErrors"] >= 1 and d["IP.InBadOptions"] >= 1, d
    assert d["ICMP.InCsumErrors"] >= 1 and d["ICMP.InErrors"] >= 2, d
    assert d["UDP.InCsumErrors"] >= 1 and d["UDP.InErrors"] >= 3, d
    assert d["IP.ReasmOverlaps"] >= 1, d
    assert d["ARP.RxMalformed"] >= 1 and d["Link.RxUnknownType"] >= 1 and d["Link.RxNotForUs"] >= 1, d
    assert d["ICMP.OutEchoReps"] == 0, d       # nothing malformed was answered
    # Still alive and answering.
    got, out = ping(netns, STACK_ADDR, "-s", "8000")
    assert got == 3, out
    assert netns.exec("sh", "-c", f"echo still-here | nc -u -w 1 {STACK_ADDR} 7").stdout.strip() == "still-here"


def test_dhcp_dnsmasq(netns, tapstack_bin, tmp_path):
    leases = tmp_path / "leases"
    dns = subprocess.Popen(netns.cmd(
        "dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0", f"--interface={TAP}",
        "--bind-interfaces", "--except-interface=lo", "--dhcp-range=10.77.0.100,10.77.0.150,255.255.255.0,2m",
        f"--dhcp-leasefile={leases}", f"--pid-file={tmp_path / 'pid'}", "--dhcp-authoritative", "--no-ping",
        "--user=root", f"--dhcp-option=option:router,{HOST_ADDR}", "--log-dhcp"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ts = None
    try:
        time.sleep(0.5)
        assert dns.poll() is None, dns.stdout.read()
        ts = TapStack(netns, tapstack_bin, "-dhcp")
        addr = ts.expect("READY", timeout=40)
        m = re.fullmatch(r"10\.77\.0\.(\d+)/24", addr)
        assert m and 100 <= int(m.group(1)) <= 150, addr
        ip = addr.split("/")[0]
        got, out = ping(netns, ip, count=2)
        assert got == 2, out
        assert STACK_MAC in leases.read_text()
        assert ts.command("renew", "RENEWED", timeout=20) == addr
        # The gateway came from the lease: the stack reaches Linux through it.
        assert ts.command(f"udpcall {HOST_ADDR}:9 x", "REPLY", timeout=15) == "ERROR connection refused"
        assert {e["addr"] for e in ts.arp()} >= {HOST_ADDR}
    finally:
        if ts:
            ts.stop()
        dns.kill()
        dns.wait()


def test_fault_injection_between_tap_and_stack(netns, tapstack_bin):
    """The fault-injecting link (link/fault) between the TAP and the stack loses frames in
    both directions; pings get lost accordingly and the stack keeps working."""
    ts = TapStack(netns, tapstack_bin, "-addr", f"{STACK_ADDR}/24", "-drop", "0.2", "-dup", "0.2", "-seed", "7")
    try:
        assert ts.expect("READY") == f"{STACK_ADDR}/24"
        got, out = ping(netns, STACK_ADDR, count=40)
        st = ts.stats()
        assert 0 < got < 40, out
        assert st["Fault.Dropped"] > 0 and st["Fault.Duplicated"] > 0, st
    finally:
        ts.stop()
