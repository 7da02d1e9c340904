"""Tier 3: TCP through package net on GOOS=xen, with Linux in the bed's namespace (10.0.0.1)
as the peer. tests/xen3/progs/tcpserve runs as a domU: Python sockets send and receive 1 MB
byte-exact each way (echo, sink with SHA-256, source), curl fetches from its net/http
server, a keep-alive load run (16 threads x 50 requests, one persistent connection each)
all succeeds, the guest's own http.Get fetches a file from a Python http.server in the
namespace, and a guest with two vifs configured from ip=/ip1= answers on both addresses
(and prints its boot-timeline net stage with boottrace=1)."""

import hashlib
import os
import re
import subprocess
import sys
import time

import pytest

import httpload

IP = "10.0.0.5"
IP_B, IP_B1 = "10.0.0.6", "10.0.0.7"      # the two-vif guest
FETCH_PORT = 8089


def pattern(n):
    return (bytes(range(251)) * (n // 251 + 1))[:n]


def _ns_python(testbed, script, *args, timeout=300):
    t = time.monotonic()
    r = subprocess.run([*testbed.netns.exec_prefix(), sys.executable, "-c", script, *args],
                       capture_output=True, text=True, timeout=timeout)
    print(f"({time.monotonic() - t:.1f} s)", r.stdout, r.stderr)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def _mac():
    return "00:16:3e:%02x:%02x:%02x" % tuple(os.urandom(3))


@pytest.fixture(scope="module")
def served_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("served")
    data = os.urandom(300_000)
    (d / "blob.bin").write_bytes(data)
    return d, hashlib.sha256(data).hexdigest(), len(data)


@pytest.fixture
def tcpserve(testbed, domu, go_build, served_file):
    """The tcpserve guest at IP, fetching blob.bin from a Python http.server in the namespace."""
    d, _, _ = served_file
    server = subprocess.Popen([*testbed.netns.exec_prefix(), sys.executable, "-m", "http.server",
                               str(FETCH_PORT), "--bind", "10.0.0.1", "--directory", str(d)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        dom = domu("tcpserve", go_build("tcpserve"), "memory = 64\n",
                   extra=f"ip={IP}/24 gw=10.0.0.1 env.FETCH=http://10.0.0.1:{FETCH_PORT}/blob.bin",
                   network=True)
        dom.wait_for(rf"^net: eth0 \S+ {re.escape(IP)}/24 gw 10\.0\.0\.1", timeout=60)
        dom.wait_for(r"^tcpserve: serving ", timeout=60)
        testbed.ping(IP, timeout=90)
        yield dom
    finally:
        server.terminate()
        server.wait(timeout=10)


# Runs in the namespace: 1 MB to the echo (reading the echo concurrently), 1 MB to the sink,
# 1 MB from the source; every byte compared.
BULK = r"""
import hashlib, socket, sys, threading
ip, n = sys.argv[1], int(sys.argv[2])
data = (bytes(range(251)) * (n // 251 + 1))[:n]
def conn(port):
    return socket.create_connection((ip, port), timeout=60)
def read_all(s):
    parts = []
    while True:
        b = s.recv(65536)
        if not b:
            return b"".join(parts)
        parts.append(b)
s = conn(7)
def send():
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
t = threading.Thread(target=send); t.start()
echo = read_all(s); t.join(); s.close()
print("echo", len(echo), echo == data, flush=True)
s = conn(9); s.sendall(data); s.shutdown(socket.SHUT_WR)
reply = read_all(s).decode().split(); s.close()
print("sink", reply[0] == str(n), reply[1] == hashlib.sha256(data).hexdigest(), flush=True)
s = conn(19); s.sendall(b"%d\n" % n)
src = read_all(s); s.close()
print("source", len(src), src == data, flush=True)
"""


def test_tcp_bulk_both_ways(testbed, tcpserve):
    n = 1 << 20
    out = _ns_python(testbed, BULK, IP, str(n))
    assert f"echo {n} True" in out
    assert "sink True True" in out
    assert f"source {n} True" in out


def test_curl_against_net_http(testbed, tcpserve):
    r = subprocess.run([*testbed.netns.exec_prefix(), "curl", "-sS", "-m", "60", "-o", "-",
                        f"http://{IP}/bytes?n=2000000"], capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout == pattern(2_000_000)
    r = subprocess.run([*testbed.netns.exec_prefix(), "curl", "-sS", "-m", "30", "-i",
                        f"http://{IP}/"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("HTTP/1.1 200 OK"), r.stdout + r.stderr
    assert re.search(r"hello \d+ from tcpserve", r.stdout), r.stdout


def test_keepalive_load(testbed, tcpserve):
    res = httpload.load(testbed.netns, IP, 16, 50, "/bytes?n=3000")
    want = (bytes(range(251)) * 12)[:3000]
    assert (res.ok, res.fail) == (800, 0), res.output
    assert res.digests == [hashlib.sha256(want).hexdigest()], res.output   # every body right
    assert res.conns == 16, res.output          # every thread kept its one connection


def test_guest_as_http_client(testbed, tcpserve, served_file):
    _, digest, size = served_file
    line = tcpserve.wait_for(r"^tcpserve: fetch", timeout=90).text
    assert line == f"tcpserve: fetched http://10.0.0.1:{FETCH_PORT}/blob.bin: {size} bytes sha256 {digest}", line


def test_second_vif_from_ip1(testbed, domu, go_build):
    vifs = f"[ 'mac={_mac()},bridge=xenbr0', 'mac={_mac()},bridge=xenbr0' ]"
    dom = domu("tcpserve2", go_build("tcpserve"), "memory = 64\n",
               extra=f"ip={IP_B}/24 gw=10.0.0.1 ip1={IP_B1}/24 boottrace=1",
               overrides={"vif": vifs})
    dom.wait_for(rf"^net: eth0 \S+ {re.escape(IP_B)}/24 gw 10\.0\.0\.1$", timeout=60)
    dom.wait_for(rf"^net: eth1 \S+ {re.escape(IP_B1)}/24$", timeout=60)
    dom.wait_for(r"^tcpserve: serving ", timeout=60)
    # boottrace=1: the boot-timeline line of the net stage, in Xen system time (issue 9),
    # after the runtime's own stages when it prints them.
    net_ns = int(dom.wait_for(r"^goxen-boot: net \d+$", timeout=90).text.split()[2])
    stages = dict(m.groups() for m in re.finditer(r"^goxen-boot: (\w+) (\d+)$", dom.console, re.M))
    assert net_ns > 0 and all(int(v) <= net_ns for k, v in stages.items() if k != "net"), stages
    for ip in (IP_B, IP_B1):
        testbed.ping(ip, timeout=90)
        r = subprocess.run([*testbed.netns.exec_prefix(), "curl", "-sS", "-m", "30", "-o", "-",
                            f"http://{ip}/bytes?n=100000"], capture_output=True, timeout=60)
        assert r.returncode == 0 and r.stdout == pattern(100_000), (ip, r.stderr)
