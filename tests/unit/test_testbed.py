"""Unit tests of the tier-3 test bed's host-side pieces (no QEMU, no root needed)."""

import gzip
import stat
import struct
import time

import pytest

from goxen import xenrun
from goxen.testbed import bed, cpio, image, netns


def _parse_newc(data):
    """[(name, mode, body)] of a newc archive."""
    out = []
    pos = 0
    while True:
        assert data[pos:pos + 6] == b"070701", pos
        fields = [int(data[pos + 6 + 8 * i: pos + 14 + 8 * i], 16) for i in range(13)]
        mode, size, namesize = fields[1], fields[6], fields[11]
        pos += 110
        name = data[pos:pos + namesize - 1].decode()
        pos += namesize
        pos += -pos % 4
        body = data[pos:pos + size]
        pos += size
        pos += -pos % 4
        if name == cpio.TRAILER:
            return out
        out.append((name, mode, body))


def test_cpio_newc_round_trip_and_parents(tmp_path):
    arc = cpio.Archive()
    arc.file("usr/bin/tool", b"x" * 5, 0o755)
    arc.symlink("bin/sh", "/bin/busybox")
    arc.chardev("dev/console", 5, 1)
    out = tmp_path / "a.cpio.gz"
    arc.write_gz(out)
    entries = _parse_newc(gzip.decompress(out.read_bytes()))
    names = [e[0] for e in entries]
    assert names == ["usr", "usr/bin", "usr/bin/tool", "bin", "bin/sh", "dev", "dev/console"]
    tool = dict((e[0], e) for e in entries)["usr/bin/tool"]
    assert stat.S_ISREG(tool[1]) and tool[1] & 0o777 == 0o755 and tool[2] == b"xxxxx"
    link = dict((e[0], e) for e in entries)["bin/sh"]
    assert stat.S_ISLNK(link[1]) and link[2] == b"/bin/busybox"


def test_cpio_is_reproducible_and_refuses_duplicates(tmp_path):
    def make(path):
        arc = cpio.Archive()
        arc.file("a", b"1")
        arc.write_gz(path)
        return path.read_bytes()
    assert make(tmp_path / "1") == make(tmp_path / "2")
    arc = cpio.Archive()
    arc.file("a", b"1")
    with pytest.raises(ValueError, match="twice"):
        arc.symlink("a", "b")


XL_LIST = """\
Name                                        ID   Mem VCPUs\tState\tTime(s)   UUID                            Reason-Code\tSecurity Label
Domain-0                                     0   256     1     r-----      15.0 00000000-0000-0000-0000-000000000000        -                -
hello                                        1    32     1     ---s--       0.1 8597d5fe-4f02-49c3-82ff-b7df06b9ccae        0                -
boom                                         2    32     1     ----c-       0.1 8597d5fe-4f02-49c3-82ff-b7df06b9ccaf        3                -
sleeper                                      3    32     1     -b----       0.1 8597d5fe-4f02-49c3-82ff-b7df06b9ccb0        -                -
"""


def test_parse_xl_list():
    doms = bed.parse_xl_list(XL_LIST)
    assert doms["Domain-0"].domid == 0 and not doms["Domain-0"].shutdown
    assert doms["hello"].reason == "poweroff" and doms["hello"].shutdown
    assert doms["boom"].reason == "crash" and doms["boom"].shutdown
    assert doms["sleeper"].reason is None and not doms["sleeper"].shutdown


def test_rewrite_xl_replaces_appends_and_removes():
    text = 'name = "a"\nkernel = "/x/a.xen"\n# comment\non_poweroff = "destroy"\nextra = ""\n'
    out = bed.rewrite_xl(text, {"kernel": '"/tmp/k"', "on_poweroff": '"preserve"',
                                "extra": None, "vif": "[ 'bridge=xenbr0' ]"})
    assert out.splitlines() == ['name = "a"', 'kernel = "/tmp/k"', "# comment",
                                'on_poweroff = "preserve"', "vif = [ 'bridge=xenbr0' ]"]
    assert bed.xl_value(out, "kernel") == "/tmp/k"
    assert bed.xl_value(out, "memory") is None


@pytest.mark.parametrize("cmdline, ip", [
    ("ip=10.0.0.2/24 gw=10.0.0.1", "10.0.0.2"),
    ("-v ip=10.0.0.7/24", "10.0.0.7"),
    ("ip=dhcp", None),
    ("", None),
])
def test_cmdline_ip(cmdline, ip):
    assert bed.cmdline_ip(cmdline) == ip


def test_qemu_command_with_wrapper_and_modules():
    cmd = xenrun.qemu_command("/k/vmlinux", "/x/xen", ["console=hvc0", "a=b,c"], mem=256,
                              modules=["/b/dom0.cpio.gz"], wrapper=["ip", "netns", "exec", "ns"],
                              qemu_mem=768)
    assert cmd[:5] == ["ip", "netns", "exec", "ns", xenrun.QEMU]
    assert cmd[cmd.index("-initrd") + 1] == "/k/vmlinux console=hvc0 a=b,,c,/b/dom0.cpio.gz"
    assert cmd[cmd.index("-m") + 1] == "768"
    with pytest.raises(xenrun.XenRunError, match="whitespace"):
        xenrun.qemu_command("/k", "/x", modules=["/my dir/initrd"])


def test_baseline_xl_has_a_memory_floor_and_the_app_cmdline():
    text = image.baseline_xl("web-linux", "/b/vmlinux", "/b/web.cpio.gz", 32, "ip=10.0.0.2/24")
    assert bed.xl_value(text, "memory") == str(image.BASELINE_MIN_MEMORY_MIB)
    assert bed.xl_value(text, "ramdisk") == "/b/web.cpio.gz"
    assert bed.xl_value(text, "extra") == "console=hvc0 loglevel=4 cryptomgr.notests ip=10.0.0.2/24"
    with pytest.raises(image.ImageError):
        image.baseline_xl("x", "/k", "/r", 32, 'a="b"')


def _elf(segments, note_in=0):
    """A minimal ELF64 with PT_LOAD segments [(vaddr, data, memsz)] and a PT_NOTE inside the
    note_in-th segment (its first 8 bytes)."""
    phnum = len(segments) + 1
    out = bytearray(64 + 56 * phnum)
    out[:16] = b"\x7fELF\x02\x01\x01" + b"\0" * 9
    struct.pack_into("<HHIQQQIHHHHHH", out, 16, 2, 62, 1, 0x1000, 64, 999, 0, 64, 56, phnum,
                     64, 7, 6)
    offs = []
    for i, (vaddr, data, memsz) in enumerate(segments):
        off = len(out) + (-len(out) % 0x1000)
        out += b"\0" * (off - len(out)) + data
        offs.append(off)
        struct.pack_into("<IIQQQQQQ", out, 64 + 56 * i, 1, 5, off, vaddr, vaddr, len(data),
                         memsz, 0x1000)
    struct.pack_into("<IIQQQQQQ", out, 64 + 56 * len(segments), 4, 4, offs[note_in] + 0,
                     segments[note_in][0], segments[note_in][0], 8, 8, 4)
    return bytes(out)


def test_compact_elf_drops_trailing_zeros_and_moves_notes():
    seg0 = b"NOTEDATA" + b"code" + b"\0" * 5000
    seg1 = b"data" + b"\0" * 9000
    elf = _elf([(0xffff0000, seg0, 0x3000), (0xffff8000, seg1, 0x4000)])
    out = image.compact_elf(elf)
    assert len(out) < len(elf)
    phs = [struct.unpack_from("<IIQQQQQQ", out, 64 + 56 * i) for i in range(3)]
    (t0, _, o0, v0, _, f0, m0, _), (t1, _, o1, v1, _, f1, m1, _), note = phs
    assert (t0, f0, m0) == (1, 12, 0x3000) and out[o0:o0 + f0] == b"NOTEDATAcode"
    assert (t1, f1, m1) == (1, 4, 0x4000) and out[o1:o1 + f1] == b"data"
    assert o0 % 0x1000 == v0 % 0x1000 and o1 % 0x1000 == v1 % 0x1000
    assert note[0] == 4 and out[note[2]:note[2] + 8] == b"NOTEDATA"
    assert struct.unpack_from("<QHHHH", out, 0x28)[0] == 0            # no section headers
    assert struct.unpack_from("<H", out, 0x3C)[0] == 0


def test_netns_names_are_per_process_and_stale_ones_are_recognised(monkeypatch):
    name = netns.new_name()
    assert netns._NAME_RE.match(name)
    assert name.startswith(f"{netns.PREFIX}{__import__('os').getpid()}-")
    deleted = []
    monkeypatch.setattr(netns, "list_namespaces",
                        lambda: ["gxbed999999999-1", name, "other", "gxbed1-x"])
    monkeypatch.setattr(netns, "_alive", lambda pid: pid != 999999999)
    monkeypatch.setattr(netns, "_ip", lambda *a, **k: deleted.append(a))
    assert netns.remove_stale() == ["gxbed999999999-1"]
    assert deleted == [("netns", "del", "gxbed999999999-1")]


def test_dom0_data_files_are_executable_scripts():
    for name in ("init", "agent", "vif-goxen", "baseline-init"):
        path = image.DATA / name
        assert path.read_text().startswith("#!/bin/sh\n"), name
        assert path.stat().st_mode & 0o111, f"{name} is not executable"
    assert 'vif.default.script="vif-goxen"' in (image.DATA / "xl.conf").read_text()


def test_vif_script_reports_connected():
    # netback connects only after the hotplug script writes hotplug-status=connected.
    text = (image.DATA / "vif-goxen").read_text()
    assert 'xenstore-write "$XENBUS_PATH/hotplug-status" connected' in text


def _packages_cached():
    try:
        abi = image.kernel_abi()
    except Exception:
        return None
    if all((image.debian.STAMPS / p).exists() for p in image.packages(abi)):
        return abi
    return None


@pytest.mark.skipif(_packages_cached() is None, reason="the test bed's Debian packages are not "
                    "unpacked in .cache/debian (./scons testbed fetches them)")
def test_dom0_archive_contents():
    arc = image.dom0_archive(_packages_cached())
    names = set(arc.names())
    for need in ("init", "etc/goxen/agent", "bin/busybox", "usr/sbin/xl",
                 "usr/lib/xen-4.17/bin/xenstored", "usr/lib/xen-4.17/bin/xenconsoled",
                 "lib/x86_64-linux-gnu/libgcc_s.so.1", "lib64/ld-linux-x86-64.so.2",
                 "etc/xen/scripts/vif-goxen", "lib/modules/xen-netback.ko",
                 "lib/modules/bridge.ko", "lib/modules/9pnet_virtio.ko"):
        assert need in names, need
    modules = [n for n in arc.names() if n.startswith("lib/modules/")]
    order = [m.rsplit("/", 1)[1] for m in modules]
    assert order.index("llc.ko") < order.index("bridge.ko")          # dependencies first
    assert order.index("virtio.ko") < order.index("virtio_net.ko")


def test_stale_workdirs_are_removed(tmp_path):
    import os
    mine = tmp_path / "gxbed-mine"
    dead = tmp_path / "gxbed-dead"
    other = tmp_path / "gxbed-noowner"
    for d in (mine, dead, other):
        d.mkdir()
    (mine / "owner").write_text(f"{os.getpid()}\n")
    (dead / "owner").write_text("999999999\n")
    assert bed.remove_stale_workdirs(tmp_path) == [dead]
    assert mine.exists() and other.exists() and not dead.exists()


class _PtyConn:
    """socket-like recv/sendall/settimeout over a pty master (for _Control)."""

    def __init__(self, fd):
        self.fd, self.timeout = fd, None

    def settimeout(self, t):
        self.timeout = t

    def recv(self, n):
        import os
        import select
        import socket
        if not select.select([self.fd], [], [], self.timeout)[0]:
            raise socket.timeout
        return os.read(self.fd, n)

    def sendall(self, data):
        import os
        os.write(self.fd, data)

    def close(self):
        import os
        os.close(self.fd)


def test_dom0_agent_protocol_on_the_host(tmp_path):
    """The dom0's agent script, run by the host's sh on a raw pty, answers Control.call."""
    import os
    import pty
    import subprocess
    import tty
    master, slave = pty.openpty()
    tty.setraw(slave)
    port = os.ttyname(slave)
    agent = subprocess.Popen(["sh", str(image.DATA / "agent"), port], stdin=subprocess.DEVNULL)
    try:
        ctl = bed.Control.__new__(bed.Control)
        ctl.conn, ctl.buf, ctl.seq, ctl.server = _PtyConn(master), b"", 0, None
        ctl.lock, ctl.stuck = __import__("threading").Lock(), None
        ctl.wait_line("GOXEN-AGENT up", timeout=10)
        res = ctl.call("echo one; echo 'two  words' >&2; exit 3", timeout=10)
        assert res.rc == 3
        assert res.output == "one\ntwo  words\n"
        assert 0 < res.t0 <= res.t1
        res = ctl.call("printf 'no newline'", timeout=10)
        assert (res.rc, res.output) == (0, "no newline\n")
        with pytest.raises(ValueError):
            ctl.call("a\nb", timeout=1)
        # A hung command, and a child of it, are killed after the timeout; the agent names
        # them and answers the next request.
        marker = tmp_path / "late"
        with pytest.raises(bed.CommandTimeout) as hung:
            ctl.call(f"(sleep 4; touch {marker}) & echo started; sleep 30", timeout=2)
        assert "started" in str(hung.value)
        assert "goxen-agent: TIMEOUT after 2 s" in str(hung.value)
        assert "(sleep) state S" in str(hung.value)      # what the hung process was doing
        res = ctl.call("echo after", timeout=10)
        assert (res.rc, res.output) == (0, "after\n")
        time.sleep(3)
        assert not marker.exists(), "the hung command's background child survived"
    finally:
        agent.kill()
        agent.wait()
        os.close(slave)
        os.close(master)


class _FakeSh:
    """sh(command, timeout) that plays back outcomes: an rc, or "hang" (CommandTimeout)."""

    def __init__(self, *outcomes):
        self.outcomes, self.calls = list(outcomes), []

    def __call__(self, command, timeout):
        self.calls.append(command)
        out = self.outcomes.pop(0)
        if out == "hang":
            raise bed.CommandTimeout(f"{command} hung")
        return bed.CommandResult(command, out, f"rc {out}\n", 1.0, 2.0)


def test_run_xl_repeats_a_dying_or_hung_xl_and_counts_it(monkeypatch):
    import collections
    from goxen.testbed import xl
    monkeypatch.setattr(xl.time, "sleep", lambda s: None)
    counted = collections.Counter()     # not the session's own count of real retries
    monkeypatch.setattr(xl, "RETRIES", counted)
    sh = _FakeSh(134, "hang", 0)
    assert xl.run_xl(sh, "xl list -v", attempts=3, kind="k").rc == 0
    assert len(sh.calls) == 3 and counted == {"k": 2}
    # An answer of xl's own (rc 1: a bad config) is no failure of xl: not repeated.
    sh = _FakeSh(1)
    assert xl.run_xl(sh, "xl create x", attempts=3).rc == 1 and len(sh.calls) == 1
    # Out of attempts: the last death is returned, the last hang raised.
    assert xl.run_xl(_FakeSh(139, 137), "xl list", attempts=2).rc == 137
    with pytest.raises(bed.CommandTimeout):
        xl.run_xl(_FakeSh(134, "hang"), "xl list", attempts=2)


def test_run_xl_settled_and_cleanup(monkeypatch):
    import collections
    from goxen.testbed import xl
    monkeypatch.setattr(xl.time, "sleep", lambda s: None)
    monkeypatch.setattr(xl, "RETRIES", collections.Counter())
    # The shutdown reached the guest although xl hung: success, not another run.
    sh = _FakeSh("hang")
    res = xl.run_xl(sh, "xl shutdown d", settled=lambda: True)
    assert res.rc == 0 and len(sh.calls) == 1
    # A half-created domain is cleaned up before the next attempt.
    cleaned = []
    sh = _FakeSh(139, 0)
    assert xl.run_xl(sh, "xl create d", attempts=2, cleanup=lambda: cleaned.append(1)).rc == 0
    assert cleaned == [1]


def test_create_command_runs_a_command_while_the_domain_is_paused():
    from goxen.testbed import xl
    plain = xl.create_command("kv", "/tmp/goxen/kv")
    assert plain.startswith("xl create -p /host/domains/kv/config.xl && xl unpause kv;")
    cmd = xl.create_command("kv", "/tmp/goxen/kv", prefix="stage && ",
                            before_unpause="xenstore-write /x/$DOMID/y 0")
    # Staged, created paused, the command with the domain's id, then unpaused, and the staged
    # files removed whatever happened.
    assert cmd.index("stage") < cmd.index("xl create -p") < cmd.index("DOMID=$(xl domid kv)") \
        < cmd.index("xenstore-write /x/$DOMID/y 0") < cmd.index("xl unpause kv")
    assert cmd.endswith("rc=$?; rm -rf /tmp/goxen/kv; exit $rc")
