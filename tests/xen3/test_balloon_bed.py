"""Tier 3: the balloon (issue 15): `xl mem-set` lowers and raises a kvstore domain's memory;
the guest gives pages back to Xen and takes them again (runtime/balloon_xen.go,
internal/xen/control/balloon.go), `xl list` shows it, and kvstore keeps its data and serves
while its heap grows again into pages that were given back; targets that are not sizes are
refused on the console."""

import re
import subprocess
import sys

import pytest

# Runs in the bed's namespace: "fill N SIZE" stores N values of SIZE bytes (keys fN_i),
# "check N SIZE" reads them back; prints "ok" or what went wrong.
CLIENT = r"""
import socket, sys
ip = sys.argv[1]
s = socket.create_connection((ip, 11211), timeout=120)
f = s.makefile("rb")
def val(tag, i, size):
    head = b"%s-%d:" % (tag, i)
    return (head * (size // len(head) + 1))[:size]
for line in sys.stdin:
    op, tag, n, size = line.split()
    n, size, tag = int(n), int(size), tag.encode()
    bad = 0
    for i in range(n):
        if op == "fill":
            v = val(tag, i, size)
            s.sendall(b"set %s%d 0 0 %d\r\n%s\r\n" % (tag, i, len(v), v))
            bad += f.readline() != b"STORED\r\n"
        else:
            s.sendall(b"get %s%d\r\n" % (tag, i))
            want = val(tag, i, size)
            got = f.readline()
            if got.startswith(b"VALUE"):
                got = f.read(int(got.split()[3]) + 2)[:-2]
                f.readline()
            bad += got != want
    print(op, tag.decode(), "ok" if bad == 0 else f"{bad} bad", flush=True)
"""


@pytest.mark.parametrize("kvstore", ["pv", "pvh"], indirect=True)
def test_kvstore_follows_memory_target(testbed, kvstore):
    dom, ip, line = kvstore
    p = subprocess.Popen([*testbed.netns.exec_prefix(), sys.executable, "-c", CLIENT, ip],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def client(cmd):
        p.stdin.write(cmd + "\n")
        p.stdin.flush()
        out = p.stdout.readline().strip()
        print(cmd, "->", out, flush=True)
        return out

    def mem_set(mib):
        mark = len(dom.lines)
        testbed.sh(f"xl mem-set {dom.name} {mib}m", timeout=60, check=True)
        line = dom.wait_for(rf"^xen: memory target {mib * 1024} KiB: the domain has (\d+) KiB",
                            timeout=60, start=mark)
        have = int(re.search(r"has (\d+) KiB", line.text).group(1))
        listed = int(testbed.sh(f"xl list {dom.name}", check=True).output.splitlines()[-1].split()[2])
        print(f"target {mib} MiB: the guest has {have} KiB, xl list {listed} MiB", flush=True)
        return have, listed

    try:
        assert client("fill a 1000 4000") == "fill a ok"      # 4 MB of items
        have, listed = mem_set(40)
        assert have == 40 << 10 and listed <= 40, (have, listed)
        assert client("check a 1000 4000") == "check a ok"
        # Below what the guest uses: it gives back what it can and goes on.
        have, listed = mem_set(16)
        assert have < 40 << 10 and listed < 40, (have, listed)
        assert client("check a 1000 4000") == "check a ok"
        have, listed = mem_set(64)
        assert have == 64 << 10 and listed == 64, (have, listed)
        # The heap grows again, into pages that were out: 12 MB more.
        assert client("fill b 3000 4000") == "fill b ok"
        assert client("check a 1000 4000") == "check a ok"
        assert client("check b 3000 4000") == "check b ok"
        # Whatever the toolstack writes there is read with distrust: not a size, zero or
        # negative is refused on the console; past the domain's memory means all of it.
        domid = dom.info().domid
        for bad in ("lots", "0", "-4096", "12x"):
            mark = len(dom.lines)
            testbed.sh(f"xenstore-write -- /local/domain/{domid}/memory/target {bad}", check=True)
            dom.wait_for(rf'^xen: memory target "{re.escape(bad)}" is not a size in KiB: ignored$',
                         timeout=30, start=mark)
        mark = len(dom.lines)
        testbed.sh(f"xenstore-write /local/domain/{domid}/memory/target 99999999999", check=True)
        dom.wait_for(r"^xen: memory target 99999999999 KiB: the domain has 65536 KiB$",
                     timeout=30, start=mark)
        assert client("check b 3000 4000") == "check b ok"
    finally:
        p.kill()
        p.wait()
    testbed.ping(ip, timeout=30)
    assert "fatal error" not in dom.console and "panic" not in dom.console, dom.console[-3000:]
