"""Tier 3: netfront's queues (netif.h "Multiple transmit and receive queues") with Linux's
netback. The bed boots with two CPUs and a dom0 of two vCPUs, so netback offers
multi-queue-max-queues = 2 (its max_queues parameter defaults to the dom0's vCPUs).

kvstore as a PV guest with two vCPUs takes both queues: the frontend's xenstore directory has
multi-queue-num-queues = 2 and queue-0/, queue-1/ rings and event channels instead of the flat
nodes, netback's vif has two tx and two rx queues, and TCP clients on many connections (one
flow each) and ping work, with frames sent and received on both queues (kvstore's `stats
netstack`). With netfront=noqueues on the guest's command line, or one vCPU, it uses one
queue and the flat nodes. Save and restore into a backend that offers one queue (netback's
max_queues set to 1 in the dom0) renegotiates one, and the next restore two again.
(PV only there: the bed runs PVH guests on one CPU, testbed.bed.BED_CPUS says why. A PVH guest
with two vCPUs takes two queues on the one-CPU bed, whose netback is told to offer two.)"""

import re
import subprocess
import sys
import time

import pytest

from goxen.testbed import bed as bedmod

# Runs in the bed's namespace: n TCP connections at once (each its own flow), each setting
# and getting its own 3,000-byte value 20 times; then kvstore's `stats netstack`.
CLIENTS = r"""
import socket, sys, threading
ip, n = sys.argv[1], int(sys.argv[2])
errors = []
def run(k):
    try:
        s = socket.create_connection((ip, 11211), timeout=60)
        f = s.makefile("rb")
        val = bytes((k + i) & 0xff for i in range(3000))
        for i in range(20):
            s.sendall(b"set q%d 0 0 %d\r\n" % (k, len(val)) + val + b"\r\n")
            assert f.readline() == b"STORED\r\n"
            s.sendall(b"get q%d\r\n" % k)
            assert f.readline() == b"VALUE q%d 0 %d\r\n" % (k, len(val))
            assert f.read(len(val) + 2)[:len(val)] == val
            assert f.readline() == b"END\r\n"
        s.close()
    except Exception as e:
        errors.append("%d: %r" % (k, e))
threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("errors", len(errors), errors[:3], flush=True)
s = socket.create_connection((ip, 11211), timeout=60)
f = s.makefile("rb")
s.sendall(b"stats netstack\r\n")
for line in f:
    if line == b"END\r\n":
        break
    print(line.decode().strip())
print("ok" if not errors else "failed", flush=True)
"""

CONNECTIONS = 16


def test_pvh_two_queues_on_one_cpu(testbed, domu, go_build, kvstore_config):
    """PVH (events through the HVM callback vector on each vCPU): netback's max_queues set to
    2 in the one-vCPU dom0 before the guest is made, two queues, both carrying traffic."""
    if testbed.cpus != 1:
        pytest.skip("PVH guests run on the one-CPU bed only")
    ip = kvstore_config.network[0].ip.split("/")[0]
    testbed.sh("echo 2 > /sys/module/xen_netback/parameters/max_queues", check=True)
    try:
        xl = f'memory = {kvstore_config.memory_mib}\ntype = "pvh"\nvcpus = 2\n'
        dom = domu("kvqpvh", go_build("kvstore"), xl, extra=kvstore_config.cmdline, network=True)
        dom.wait_for(r"^kvstore: listening on tcp", timeout=60)
        testbed.ping(ip, timeout=90)
        assert _layout(testbed, dom, 2) == 2
        st = _traffic(testbed, ip)
    finally:
        testbed.sh("echo 1 > /sys/module/xen_netback/parameters/max_queues")
    _clean(st)
    assert st["eth0.Queues"] == 2, st
    for k in ("TxFrames", "RxFrames", "Events"):
        assert st[f"eth0.Queue1{k}"] > 0, (k, st)
    assert "fatal error" not in dom.console and "panic" not in dom.console, dom.console[-3000:]


@pytest.fixture(scope="module")
def bed2(testbed):
    """The shared bed booted again with two CPUs and a dom0 of two vCPUs, and booted as it
    was afterwards."""
    testbed.cpus, testbed.dom0_vcpus = 2, 2
    testbed.restart()
    yield testbed
    testbed.cpus, testbed.dom0_vcpus = bedmod.BED_CPUS, 1
    testbed.restart()


def _boot(bed, domu, go_build, kvstore_config, name, vcpus, extra=()):
    ip = kvstore_config.network[0].ip.split("/")[0]
    xl = f'memory = {kvstore_config.memory_mib}\ntype = "pv"\nvcpus = {vcpus}\n'
    cmdline = " ".join(filter(None, (kvstore_config.cmdline, *extra)))
    dom = domu(name, go_build("kvstore"), xl, extra=cmdline, network=True)
    dom.wait_for(r"^kvstore: listening on tcp", timeout=60)
    bed.ping(ip, timeout=90)
    return dom, ip


def _traffic(bed, ip):
    """CONNECTIONS clients in the dom0, one after the other, and CONNECTIONS at once in the
    namespace; then kvstore's netstack counters. Netback picks a frame's rx queue by the flow
    hash of the packets the dom0 itself sends; the namespace's packets reach netback with the
    dom0 NIC's one receive queue recorded, which it keeps (all on queue 0)."""
    out = bed.sh(f"n=0; for i in $(seq {CONNECTIONS}); do printf 'get nothing\\r\\nquit\\r\\n' | "
                 f"nc -w 5 {ip} 11211 | grep -q '^END' && n=$((n+1)); done; echo dom0 clients $n",
                 timeout=120, check=True).output
    print(out)
    assert f"dom0 clients {CONNECTIONS}" in out, out
    r = subprocess.run([*bed.netns.exec_prefix(), sys.executable, "-c", CLIENTS, ip,
                        str(CONNECTIONS)], capture_output=True, text=True, timeout=300)
    print(r.stdout[-4000:], r.stderr[-2000:])
    assert r.returncode == 0 and r.stdout.rstrip().endswith("ok"), r.stdout + r.stderr
    return {m[1]: int(m[2]) for m in re.finditer(r"^STAT (\S+) (\d+)$", r.stdout, re.M)}


def _xenstore(bed, path):
    """path's subtree as {relative path: value} (xenstore-ls -f)."""
    out = bed.sh(f"xenstore-ls -f {path}", check=True).output
    nodes = {}
    for line in out.splitlines():
        m = re.match(r'^(\S+) = "(.*)"$', line.strip())
        if m and m[1].startswith(path + "/"):
            nodes[m[1][len(path) + 1:]] = m[2]
    return nodes


def _layout(bed, dom, queues):
    """The frontend's nodes for `queues` queues, netback's offer and its vif's queues."""
    domid = dom.info().domid
    front = _xenstore(bed, f"/local/domain/{domid}/device/vif/0")
    back = f"/local/domain/0/backend/vif/{domid}/0"
    print("frontend:", {k: v for k, v in front.items() if "ring" in k or "event" in k or "queue" in k})
    offer = bed.sh(f"xenstore-read {back}/multi-queue-max-queues", check=True).output.strip()
    sysq = bed.sh(f"ls /sys/class/net/vif{domid}.0/queues", check=True).output.split()
    print(f"backend multi-queue-max-queues = {offer}; netback's vif{domid}.0 queues: {sysq}")
    flat = ("tx-ring-ref", "rx-ring-ref", "event-channel")
    if queues == 1:
        assert all(k in front for k in flat), front
        assert not any(k.startswith("queue-") or k == "multi-queue-num-queues" for k in front), front
    else:
        assert front.get("multi-queue-num-queues") == str(queues), front
        assert not any(k in front for k in flat), front
        for i in range(queues):
            assert all(front.get(f"queue-{i}/{k}", "").isdigit() for k in flat), front
    assert front["state"] == "4" and front["request-rx-copy"] == "1", front
    assert sorted(sysq) == sorted([f"rx-{i}" for i in range(queues)] +
                                  [f"tx-{i}" for i in range(queues)]), sysq
    return int(offer)


def _clean(st):
    assert st["eth0.RxErrors"] == 0 and st["eth0.BadResponses"] == 0, st
    assert st["eth0.Broken"] == 0 and st["eth0.RxDropped"] == 0, st


def test_two_vcpus_take_two_queues(bed2, domu, go_build, kvstore_config):
    dom, ip = _boot(bed2, domu, go_build, kvstore_config, "kvqueues", 2)
    assert _layout(bed2, dom, 2) == 2
    st = _traffic(bed2, ip)
    _clean(st)
    assert st["eth0.Queues"] == 2, st
    for i in (0, 1):
        for k in ("TxFrames", "RxFrames", "Events"):
            assert st[f"eth0.Queue{i}{k}"] > 0, (i, k, st)
    assert st["eth0.Queue0TxFrames"] + st["eth0.Queue1TxFrames"] == st["eth0.TxFrames"], st
    assert st["eth0.Queue0RxFrames"] + st["eth0.Queue1RxFrames"] == st["eth0.RxFrames"], st
    bed2.ping(ip, timeout=30)
    assert "fatal error" not in dom.console and "panic" not in dom.console, dom.console[-3000:]


@pytest.mark.parametrize("vcpus,extra", [(2, ("netfront=noqueues",)), (1, ())],
                         ids=["noqueues", "one-vcpu"])
def test_one_queue(bed2, domu, go_build, kvstore_config, vcpus, extra):
    """The boot option, or a single vCPU: one queue and the flat nodes, though netback
    offers two."""
    dom, ip = _boot(bed2, domu, go_build, kvstore_config, "kvonequeue", vcpus, extra)
    assert _layout(bed2, dom, 1) == 2
    st = _traffic(bed2, ip)
    _clean(st)
    assert st["eth0.Queues"] == 1 and st["eth0.Queue0TxFrames"] == st["eth0.TxFrames"], st


def _save_restore(bed, dom, max_queues):
    """xl save, then restore with netback offering max_queues to the new domain."""
    mark = len(dom.lines)
    t = time.monotonic()
    bed.sh(f"xl save {dom.name} /tmp/kvq.save", timeout=180, check=True)
    bed.sh(f"echo {max_queues} > /sys/module/xen_netback/parameters/max_queues", check=True)
    bed.sh("xl restore /tmp/kvq.save; rc=$?; rm -f /tmp/kvq.save; exit $rc", timeout=180,
           check=True)
    dom.wait_for(r"^xen: resumed in a new domain", timeout=60, start=mark)
    print(f"saved and restored (netback max_queues {max_queues}) in {time.monotonic() - t:.1f} s")


def test_restore_renegotiates_queues(bed2, domu, go_build, kvstore_config):
    """Made while netback offers one queue; restored with two offered (a queue made in the
    restored domain), one (queue 1 parks), two (queue 1 in use again)."""
    bed2.sh("echo 1 > /sys/module/xen_netback/parameters/max_queues", check=True)
    try:
        dom, ip = _boot(bed2, domu, go_build, kvstore_config, "kvqrestore", 2)
        assert _layout(bed2, dom, 1) == 1
        before = None
        for n, (offer, queues) in enumerate([(2, 2), (1, 1), (2, 2)], 1):
            _save_restore(bed2, dom, offer)
            assert _layout(bed2, dom, queues) == offer
            st = _traffic(bed2, ip)
            _clean(st)
            assert st["eth0.Queues"] == queues and st["eth0.Restores"] == n, st
            if queues == 2:
                # Queue 1, new or unused while the backend took one queue, carries traffic.
                for k in ("TxFrames", "RxFrames"):
                    assert st[f"eth0.Queue1{k}"] > (before or {}).get(f"eth0.Queue1{k}", 0), (k, st)
                before = st
    finally:
        bed2.sh("echo 2 > /sys/module/xen_netback/parameters/max_queues")
    assert "fatal error" not in dom.console and "panic" not in dom.console, dom.console[-3000:]
