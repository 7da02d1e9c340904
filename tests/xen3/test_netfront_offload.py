"""Tier 3, issue 17: netfront's offloads with Linux's netback. kvstore sends and takes values
of 900 KB over TCP (from the bed's namespace); its netstack counters (`stats netstack`) say
which offloads the vif negotiated and used; tcpdump on the host's TAP sees every frame of the
transfer with right checksums. With each offload turned off from the guest's side
(netfront= on the command line) or by the backend (its feature nodes set to 0 while the
domain is paused, before netfront connects), the fallback moves the same bytes; without GSO
towards the guest, the stack coalesces what netback sends (GRO)."""

import re
import shutil
import subprocess
import sys

import pytest

from goxen import debian

BIG = r"""
import socket, sys
ip, n = sys.argv[1], int(sys.argv[2])
val = bytes((i * 7 + i // 251) & 0xff for i in range(n))
s = socket.create_connection((ip, 11211), timeout=60)
f = s.makefile("rb")
def cmd(line, data=b""):
    s.sendall(line + data)
for k in range(3):
    cmd(b"set big%d 0 0 %d\r\n" % (k, n), val + b"\r\n")
    assert f.readline() == b"STORED\r\n"
    cmd(b"get big%d\r\n" % k)
    head = f.readline()
    assert head == b"VALUE big%d 0 %d\r\n" % (k, n), head
    got = f.read(n + 2)
    assert got[:n] == val and f.readline() == b"END\r\n", "value changed"
cmd(b"stats netstack\r\n")
for line in f:
    if line == b"END\r\n":
        break
    print(line.decode().strip())
print("ok", flush=True)
"""

SIZE = 900_000


def _transfer(testbed, ip):
    r = subprocess.run([*testbed.netns.exec_prefix(), sys.executable, "-c", BIG, ip, str(SIZE)],
                       capture_output=True, text=True, timeout=300)
    print(r.stdout[-3000:], r.stderr[-2000:])
    assert r.returncode == 0 and "ok" in r.stdout, r.stdout + r.stderr
    return {m[1]: int(m[2]) for m in re.finditer(r"^STAT (\S+) (\d+)$", r.stdout, re.M)}


@pytest.fixture(scope="module")
def tcpdump():
    if not shutil.which("tcpdump"):
        debian.apt_install(["tcpdump"], "checks the frames netback puts on the wire")
    return shutil.which("tcpdump")


def _boot(testbed, domu, go_build, kvstore_config, name, extra=(), backend_off=()):
    """kvstore as a domU; backend_off: netback's feature nodes set to 0 before it runs."""
    ip = kvstore_config.network[0].ip.split("/")[0]
    xl = f'memory = {kvstore_config.memory_mib}\ntype = "pv"\n'
    off = " && ".join(f"xenstore-write /local/domain/0/backend/vif/$DOMID/0/{key} 0"
                      for key in backend_off)
    cmdline = " ".join(filter(None, (kvstore_config.cmdline, *extra)))
    dom = domu(name, go_build("kvstore"), xl, extra=cmdline, network=True, before_unpause=off)
    dom.wait_for(r"^kvstore: listening on tcp", timeout=60)
    testbed.ping(ip, timeout=90)
    return dom, ip


def _wanted(st):
    for key in ("eth0.FeatureSG", "eth0.FeatureTxGSOv4", "eth0.FeatureTxCsumV4", "eth0.FeatureRxGSO",
                "eth0.FeatureRxCsum"):
        assert st.get(key) == 1, (key, st)
    assert st["eth0.RxErrors"] == 0 and st["eth0.BadResponses"] == 0 and st["eth0.Broken"] == 0, st
    assert st.get("TCP.InCsumErrors", 0) == 0, st


def test_offloads_negotiated_and_used(testbed, domu, go_build, kvstore_config):
    """Netback offers sg, GSO and checksum offload; netfront takes all three: kvstore's
    900 KB replies leave the guest as 64 KiB GSO frames with partial checksums (TxGSO), and
    the host's 900 KB values arrive as multi-slot frames, GSO ones among them."""
    dom, ip = _boot(testbed, domu, go_build, kvstore_config, "kvoffload")
    st = _transfer(testbed, ip)
    _wanted(st)
    assert st["eth0.TxGSO"] > 0 and st["eth0.RxMultiSlot"] > 0 and st["eth0.RxGSO"] > 0, st


@pytest.mark.parametrize("how", [
    pytest.param(("netfront=nosg",), id="guest-nosg"),
    pytest.param(("netfront=nogso",), id="guest-nogso"),
    pytest.param(("netfront=nocsum",), id="guest-nocsum"),
    pytest.param("feature-sg", id="backend-nosg"),
    pytest.param("feature-gso-tcpv4", id="backend-nogso"),
])
def test_fallback_without_an_offload(testbed, domu, go_build, kvstore_config, how):
    """One offload off, from the guest's command line or in netback's xenstore directory
    before the guest connects: the features say so, nothing uses it, the same bytes move."""
    if isinstance(how, tuple):
        dom, ip = _boot(testbed, domu, go_build, kvstore_config, "kvfallback", extra=how)
        off = how[0].split("=")[1]
    else:
        dom, ip = _boot(testbed, domu, go_build, kvstore_config, "kvfallback", backend_off=(how,))
        off = {"feature-sg": "nosg", "feature-gso-tcpv4": "nogso"}[how]
    st = _transfer(testbed, ip)
    assert st["eth0.RxErrors"] == 0 and st["eth0.BadResponses"] == 0 and st["eth0.Broken"] == 0, st
    assert st["eth0.FeatureTxGSOv4"] == 0 and st["eth0.TxGSO"] == 0, st
    if off == "nosg":  # we send single slots; we take multi-slot frames unless we said no
        assert st["eth0.FeatureSG"] == 0, st
        if how == ("netfront=nosg",):
            assert st["eth0.RxMultiSlot"] == 0 and st["eth0.RxGSO"] == 0, st
    if off == "nocsum":
        assert st["eth0.FeatureTxCsumV4"] == 0 and st["eth0.FeatureRxCsum"] == 0, st
    if off == "nogso" and how != "feature-gso-tcpv4":
        assert st["eth0.FeatureRxGSO"] == 0 and st["eth0.RxGSO"] == 0, st
        # Netback sends MTU frames: the stack joins each drain's in-order segments (GRO).
        assert st["Link.GROMerged"] > 0 and st.get("TCP.InCsumErrors", 0) == 0, st


@pytest.fixture
def wire_frames(testbed):
    """The bed booted again with a TAP that carries wire frames (Bed.wire_offload False),
    and booted once more as it was afterwards."""
    testbed.wire_offload = False
    testbed.restart()
    yield testbed
    testbed.wire_offload = True
    testbed.restart()


def test_segments_leave_as_valid_mtu_frames(wire_frames, domu, go_build, kvstore_config, tcpdump,
                                            tmp_path):
    """The guest's 64 KiB segments, cut by the dom0 (netback's packet is forwarded to a NIC
    without TSO), reach the host's TAP as frames of at most the MTU, and tcpdump finds every
    TCP checksum of the guest's frames right."""
    testbed = wire_frames
    dom, ip = _boot(testbed, domu, go_build, kvstore_config, "kvwire")
    pcap = tmp_path / "wire.pcap"
    cap = subprocess.Popen([*testbed.netns.exec_prefix(), tcpdump, "-i", testbed.netns.tap, "-n",
                            "-s", "0", "-U", "-w", str(pcap), f"tcp and src host {ip}"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        testbed.ping(ip, timeout=30)
        st = _transfer(testbed, ip)
    finally:
        cap.terminate()
        _, err = cap.communicate(timeout=30)
    print(err)
    _wanted(st)
    assert st["eth0.TxGSO"] > 0, st
    r = subprocess.run([tcpdump, "-r", str(pcap), "-n", "-vv"], capture_output=True, text=True,
                       timeout=120)
    correct, wrong = r.stdout.count("(correct)"), r.stdout.count("(incorrect")
    lengths = [int(m) for m in re.findall(r"proto TCP \(6\), length (\d+)\)", r.stdout)]
    print(f"tcpdump: {len(lengths)} TCP/IP packets from the guest, biggest {max(lengths, default=0)}; "
          f"checksums: {correct} correct, {wrong} incorrect")
    # 3 x 900 KB out of the guest: over 1,800 full frames.
    assert len(lengths) > 3 * SIZE // 1448 and max(lengths) <= 1500, r.stdout[-2000:]
    assert wrong == 0 and correct == len(lengths), r.stdout[-2000:]
