"""kvstore on linux/amd64 against clients no one here wrote (pymemcache; Debian's
libmemcached-tools: memccapable, memccp, memccat, memcslap). Every test runs against Debian's
real memcached too, which shows the tests expect what memcached does."""

import os
import socket
import struct
import subprocess
import time

import pytest
from pymemcache.client.base import Client
from pymemcache.exceptions import MemcacheClientError, MemcacheServerError

import goapps
from goapps import REPO

MEMORY_MB = 8


@pytest.fixture(scope="module")
def tools():
    """(root of the unpacked Debian packages, environment to run their binaries)."""
    from goxen import debian
    root = debian.fetch(goapps.MEMCACHED_DEBS)
    env = dict(os.environ, LD_LIBRARY_PATH=str(root / "usr" / "lib" / "x86_64-linux-gnu"))
    return root, env


@pytest.fixture(scope="module")
def kvstore_bin(tmp_path_factory):
    return goapps.build("kvstore", tmp_path_factory.mktemp("kvstore"))


@pytest.fixture(params=["kvstore", "memcached"])
def server(request, tools, kvstore_bin):
    """(kind, port): a fresh server on 127.0.0.1, TCP and UDP on the same port."""
    root, env = tools
    port = goapps.free_port()
    if request.param == "kvstore":
        env = dict(env, KV_ADDR="127.0.0.1", KV_PORT=str(port), KV_MEMORY=f"{MEMORY_MB}M")
        argv = [str(kvstore_bin)]
    else:
        argv = [str(root / "usr" / "bin" / "memcached"), "-l", "127.0.0.1", "-p", str(port),
                "-U", str(port), "-m", str(MEMORY_MB), "-u", "root" if os.getuid() == 0 else "nobody"]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        goapps.wait_tcp(port, proc)
        yield request.param, port
    finally:
        goapps.stop(proc)


def raw(port, data, expect_end=b"VERSION "):
    """Send data over TCP, followed by `version`; return everything up to that answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data + b"version\r\n")
        buf = b""
        while expect_end not in buf or not buf.endswith(b"\r\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    return buf[:buf.rindex(expect_end)]


def test_go_unit_tests(tmp_path):
    r = goapps.go_test("./apps/kvstore", tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_pymemcache_commands(server):
    kind, port = server
    c = Client(("127.0.0.1", port), default_noreply=False, connect_timeout=5, timeout=5)
    assert c.version()
    assert c.set("a", b"1", flags=0) is True
    assert c.get("a") == b"1"
    assert c.add("a", b"2") is False and c.add("b", b"2") is True
    assert c.replace("zz", b"x") is False and c.replace("b", b"3") is True
    assert c.append("a", b"23") is True and c.prepend("a", b"0") is True
    assert c.get_many(["a", "b", "nope"]) == {"a": b"0123", "b": b"3"}
    value, cas = c.gets("a")
    assert value == b"0123"
    assert c.cas("a", b"x", cas) is True
    assert c.cas("a", b"y", cas) is False          # EXISTS
    assert c.cas("missing", b"y", cas) is None     # NOT_FOUND
    assert c.set("n", b"10") and c.incr("n", 5) == 15 and c.decr("n", 20) == 0
    assert c.incr("missing", 1) is None
    with pytest.raises(MemcacheClientError):
        c.incr("a", 1)                              # non-numeric value
    assert c.touch("n", 100) is True and c.touch("missing", 100) is False
    assert c.delete("n") is True and c.delete("n") is False
    stats = c.stats()
    assert stats[b"limit_maxbytes"] == MEMORY_MB << 20
    for name in (b"cmd_get", b"cmd_set", b"get_hits", b"get_misses", b"curr_items", b"evictions"):
        assert name in stats, name
    assert stats[b"get_misses"] >= 1 and stats[b"curr_connections"] >= 1
    assert c.flush_all() is True and c.get("a") is None
    c.set("q", b"v", noreply=True)
    assert c.get("q") == b"v"
    c.close()


def test_pymemcache_large_value_and_too_large(server):
    kind, port = server
    c = Client(("127.0.0.1", port), default_noreply=False, connect_timeout=5, timeout=5)
    big = os.urandom(900 * 1024)
    assert c.set("big", big) is True and c.get("big") == big
    with pytest.raises(MemcacheServerError):
        c.set("huge", b"x" * (2 << 20))
    assert c.get("big") == big                      # the connection goes on
    c.close()


def test_protocol_errors_keep_the_connection(server):
    kind, port = server
    got = raw(port, b"bogus\r\n\r\nset a 0 0 x\r\nget\r\nset a 0 0 1\r\nxyz\r\n"
              b"incr\r\nflush_all x\r\ndelete a 5\r\nset b 0 0 1\r\nv\r\nget b\r\n")
    assert got.split(b"\r\n") == [
        b"ERROR", b"ERROR", b"CLIENT_ERROR bad command line format", b"ERROR",
        b"CLIENT_ERROR bad data chunk", b"ERROR",
        b"ERROR", b"CLIENT_ERROR invalid exptime argument",
        b"CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]",
        b"STORED", b"VALUE b 0 1", b"v", b"END", b""]


def test_key_too_long(server):
    # Sent alone: memcached 1.6.18 drops the answers to earlier pipelined requests when a get
    # has a key over 250 bytes; kvstore answers them all (tested in the Go unit tests).
    kind, port = server
    assert raw(port, b"get " + b"k" * 251 + b"\r\n") == b"CLIENT_ERROR bad command line format\r\n"
    assert raw(port, b"set " + b"k" * 250 + b" 0 0 1\r\nx\r\n") == b"STORED\r\n"


def test_incr_decr_edges(server):
    kind, port = server
    got = raw(port, b"set n 0 0 2\r\n10\r\ndecr n 3\r\nget n\r\nincr n 18446744073709551615\r\n"
              b"incr n x\r\nset m 0 0 20\r\n18446744073709551615\r\nincr m 2\r\n")
    assert got == (b"STORED\r\n7\r\nVALUE n 0 2\r\n7 \r\nEND\r\n6\r\n"
                   b"CLIENT_ERROR invalid numeric delta argument\r\nSTORED\r\n1\r\n")


def test_noreply_and_pipelining(server):
    kind, port = server
    reqs = b"".join(b"set k%d 0 0 2 noreply\r\nv%d\r\n" % (i, i % 10) for i in range(200))
    got = raw(port, reqs + b"get k0 k199\r\ndelete k0 noreply\r\nget k0\r\n")
    assert got == b"VALUE k0 0 2\r\nv0\r\nVALUE k199 0 2\r\nv9\r\nEND\r\nEND\r\n"


def udp_request(port, req_id, payload, timeout=5):
    """One UDP request; returns the reassembled reply and the datagram count."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(struct.pack(">HHHH", req_id, 0, 1, 0) + payload, ("127.0.0.1", port))
        parts, total = {}, None
        while total is None or len(parts) < total:
            d = s.recv(65536)
            rid, seq, n, _ = struct.unpack(">HHHH", d[:8])
            assert rid == req_id
            total = n
            parts[seq] = d[8:]
    return b"".join(parts[i] for i in range(total)), total


def test_udp_frames_and_multi_datagram_reply(server):
    kind, port = server
    c = Client(("127.0.0.1", port), default_noreply=False, connect_timeout=5, timeout=5)
    value = bytes(range(256)) * 40                   # 10 KiB: several datagrams
    assert c.set("u", value, flags=3)
    reply, n = udp_request(port, 4242, b"get u\r\n")
    assert reply == b"VALUE u 3 10240\r\n" + value + b"\r\nEND\r\n" and n >= 8
    reply, n = udp_request(port, 7, b"set v 0 0 2\r\nhi\r\n")
    assert (reply, n) == (b"STORED\r\n", 1) and c.get("v") == b"hi"
    c.close()


def test_eviction_keeps_the_memory_limit(server):
    kind, port = server
    c = Client(("127.0.0.1", port), default_noreply=False, connect_timeout=5, timeout=5)
    value = b"x" * 100_000
    for i in range(3 * MEMORY_MB * 10):              # about three times the limit
        c.set(f"e{i}", value, noreply=True)
    stats = c.stats()
    assert stats[b"evictions"] > 0 and stats[b"bytes"] <= MEMORY_MB << 20
    assert c.get("e0") is None and c.get(f"e{3 * MEMORY_MB * 10 - 1}") == value
    c.close()


def test_memccapable_ascii(server, tools):
    kind, port = server
    root, env = tools
    r = subprocess.run([str(root / "usr" / "bin" / "memccapable"), "-a", "-h", "127.0.0.1",
                        "-p", str(port), "-t", "5"], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and "All tests passed" in r.stdout, r.stdout + r.stderr


def test_memccp_memccat_tcp_and_udp(server, tools, tmp_path):
    kind, port = server
    root, env = tools
    bin_ = root / "usr" / "bin"
    servers = f"--servers=127.0.0.1:{port}"
    f = tmp_path / "greeting.txt"
    f.write_bytes(b"hello from memccp\n" * 100)
    subprocess.run([str(bin_ / "memccp"), servers, str(f)], env=env, check=True, timeout=60)
    r = subprocess.run([str(bin_ / "memccat"), servers, "greeting.txt"], env=env,
                       capture_output=True, check=True, timeout=60)
    assert r.stdout == f.read_bytes() + b"\n"        # memccat ends each value with a newline
    g = tmp_path / "viaudp.txt"
    g.write_bytes(b"sent over UDP\n")
    subprocess.run([str(bin_ / "memccp"), "--udp", servers, str(g)], env=env, check=True,
                   timeout=60)
    c = Client(("127.0.0.1", port), connect_timeout=5, timeout=5)
    for _ in range(50):                              # UDP sets are fire-and-forget
        if c.get("viaudp.txt") is not None:
            break
        time.sleep(0.1)
    assert c.get("viaudp.txt") == g.read_bytes()
    c.close()


def test_memcslap(server, tools):
    kind, port = server
    root, env = tools
    for test in ("set", "get"):
        r = subprocess.run([str(root / "usr" / "bin" / "memcslap"), f"--servers=127.0.0.1:{port}",
                            "--concurrency=4", "--execute-number=500", f"--test={test}"],
                           env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
