"""Tier 3: IPv6 in a guest on the bed's bridge (issue 19), against Linux in the bed's namespace
(fd00:10::1 on its TAP): SLAAC from radvd's router advertisements (the guest's default,
ip6: auto), ping6 to the SLAAC and the link-local address, a static address with a default
router (ip6=, gw6=), apps/kvstore answering over IPv6 and IPv4 on one dual-stack listener
(a value set over one family is read over the other, by TCP and by UDP), apps/httpd serving
its site over both, and names resolved through dnsmasq over IPv6 (AAAA answers) with
`http.Get` by name reaching an IPv6-only server (tests/xen3/progs/resolve)."""

import re
import shutil
import subprocess
import sys
import time

import pytest

HOST6 = "fd00:10::1"
PREFIX = "fd00:10::/64"

RADVD_CONF = """interface {tap} {{
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 10;
    prefix {prefix} {{
        AdvOnLink on;
        AdvAutonomous on;
    }};
}};
"""

# Runs in the namespace: set KEY over TCP to ADDR1, then get it over TCP and UDP from ADDR2.
KV_CLIENT = r"""
import socket, struct, sys
a1, a2, key, val = sys.argv[1:5]
def fam(a):
    return socket.AF_INET6 if ":" in a else socket.AF_INET
s = socket.create_connection((a1, 11211), timeout=20)
s.sendall(f"set {key} 0 0 {len(val)}\r\n{val}\r\n".encode())
print("set", s.recv(100).decode().strip(), flush=True)
s.close()
c = socket.create_connection((a2, 11211), timeout=20)
c.sendall(f"get {key}\r\n".encode())
got = b""
while not got.endswith(b"END\r\n"):
    got += c.recv(4096)
print("tcp get", got.split(b"\r\n")[1].decode(), flush=True)
u = socket.socket(fam(a2), socket.SOCK_DGRAM)
u.settimeout(5)
u.sendto(struct.pack(">HHHH", 7, 0, 1, 0) + f"get {key}\r\n".encode(), (a2, 11211))
d = u.recv(65536)
print("udp get", d[8:].split(b"\r\n")[1].decode(), flush=True)
"""


def link_local(mac):
    b = [int(x, 16) for x in mac.split(":")]
    b[0] ^= 2
    words = [b[0] << 8 | b[1], b[2] << 8 | 0xff, 0xfe << 8 | b[3], b[4] << 8 | b[5]]
    return "fe80::" + ":".join(f"{w:x}" for w in words)


@pytest.fixture(scope="session")
def v6tools():
    """ping (iputils, for ping -6) and radvd, installed with apt-get when missing."""
    from goxen import debian
    need = {"ping": "iputils-ping", "radvd": "radvd"}
    missing = sorted(pkg for tool, pkg in need.items() if not shutil.which(tool))
    if missing:
        debian.apt_install(missing, "IPv6 peers of the tier-3 tests")
    return {tool: shutil.which(tool) for tool in need}


@pytest.fixture
def six(testbed, v6tools, tmp_path):
    """HOST6/64 on the namespace's TAP and, with adverts(), radvd advertising PREFIX; both
    undone after the test (the bed's namespace outlives it)."""
    ns, tap = testbed.netns, testbed.netns.tap
    procs = []

    def sh(*argv, check=True):
        return subprocess.run([*ns.exec_prefix(), *argv], capture_output=True, text=True, check=check, timeout=30)

    sh("ip", "-6", "addr", "add", f"{HOST6}/64", "dev", tap, "nodad")

    def adverts():
        sh("sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1")
        conf = tmp_path / "radvd.conf"
        conf.write_text(RADVD_CONF.format(tap=tap, prefix=PREFIX))
        procs.append(subprocess.Popen([*ns.exec_prefix(), v6tools["radvd"], "-n", "-C", str(conf), "-p",
                                       str(tmp_path / "radvd.pid"), "-m", "stderr"],
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))

    def ping6(addr, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            r = sh("ping", "-6", "-n", "-c", "1", "-W", "1", addr, check=False)
            if r.returncode == 0:
                return r.stdout
            if time.monotonic() > deadline:
                raise AssertionError(f"{addr} does not answer ping -6:\n{r.stdout}{r.stderr}")
            time.sleep(0.5)

    yield type("Six", (), {"adverts": staticmethod(adverts), "ping6": staticmethod(ping6), "sh": staticmethod(sh)})
    for p in procs:
        p.terminate()
        out, _ = p.communicate(timeout=10)
        print("radvd:", out)
    sh("sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=0", check=False)
    sh("ip", "-6", "addr", "del", f"{HOST6}/64", "dev", tap, check=False)


def grab(dom, pattern, timeout=60):
    """The match of pattern in the first console line it matches."""
    return re.search(pattern, dom.wait_for(pattern, timeout=timeout).text)


def kv(testbed, *args):
    r = subprocess.run([*testbed.netns.exec_prefix(), sys.executable, "-c", KV_CLIENT, *args],
                       capture_output=True, text=True, timeout=120)
    print(r.stdout, r.stderr)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout.splitlines()


@pytest.mark.parametrize("mode", ["pv", "pvh"])
def test_slaac_ping6_and_a_dual_stack_kvstore(testbed, six, domu, go_build, kvstore_config, mode):
    six.adverts()
    config = kvstore_config
    ip = config.network[0].ip.split("/")[0]
    dom = domu("kv6", go_build("kvstore"), f'memory = {config.memory_mib}\ntype = "{mode}"\n',
               extra=config.cmdline, network=True)
    mac = grab(dom, r"^net: eth0 (\S+) ").group(1)
    dom.wait_for(r"^kvstore: listening on tcp \[::\]:11211 udp \[::\]:11211", timeout=60)
    addr = grab(dom, r"^net: eth0: (fd00:10::\S+)/64 \(SLAAC\)$").group(1)
    want = re.sub(r"^fe80::", "fd00:10::", link_local(mac))
    assert addr == want, (addr, mac)
    six.ping6(addr)
    six.ping6(f"{link_local(mac)}%{testbed.netns.tap}")
    # One listener, both families: set over IPv6, read over IPv4, and the other way round.
    assert kv(testbed, addr, ip, "six", "over-ipv6") == ["set STORED", "tcp get over-ipv6", "udp get over-ipv6"]
    assert kv(testbed, ip, addr, "four", "over-ipv4") == ["set STORED", "tcp get over-ipv4", "udp get over-ipv4"]


def test_static_ipv6_address_and_router(testbed, six, domu, go_build, kvstore_config):
    config = kvstore_config
    dom = domu("kv6s", go_build("kvstore"), f'memory = {config.memory_mib}\ntype = "pvh"\n',
               extra=config.cmdline + f" ip6=fd00:10::5/64 gw6={HOST6} ip61=off", network=True)
    dom.wait_for(rf"^net: eth0 fd00:10::5/64 gw {HOST6}$", timeout=60)
    dom.wait_for(r"^kvstore: listening", timeout=60)
    six.ping6("fd00:10::5")
    assert kv(testbed, "fd00:10::5", "fd00:10::5", "s", "static") == ["set STORED", "tcp get static", "udp get static"]


def test_httpd_serves_over_ipv6_and_ipv4(testbed, six, domu, httpd_kernel, httpd_config):
    config = httpd_config
    ip = config.network[0].ip.split("/")[0]
    dom = domu("httpd6", httpd_kernel, f"memory = {config.memory_mib}\n",
               extra=config.cmdline + " ip6=fd00:10::80/64", network=True)
    dom.wait_for(r"^httpd: serving /www on ", timeout=60)
    six.ping6("fd00:10::80")
    index = (config.romfs_dir / "www" / "index.html").read_bytes()
    for url in ("http://[fd00:10::80]/", f"http://{ip}/"):
        r = subprocess.run([*testbed.netns.exec_prefix(), "curl", "-sS", "-g", "-m", "30", url],
                           capture_output=True, timeout=60)
        assert r.returncode == 0 and r.stdout == index, (url, r.stderr)


def test_names_resolve_over_ipv6(testbed, six, domu, go_build, dnsmasq_server, tmp_path):
    dnsmasq_server("--no-resolv", "--no-hosts", f"--listen-address={HOST6}", "--local=/example.test/",
                   "--host-record=web6.example.test,fd00:10::1", "--host-record=dual.example.test,10.0.0.1,fd00:10::1")
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "hello.txt").write_text("hello over six\n")
    web = subprocess.Popen([*testbed.netns.exec_prefix(), sys.executable, "-m", "http.server", "8080", "--bind",
                            HOST6, "--directory", str(tmp_path / "www")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        dom = domu("resolve6", go_build("resolve"), "memory = 32\n", network=True,
                   extra=f"ip=10.0.0.2/24 gw=10.0.0.1 ip6=fd00:10::7/64 dns={HOST6} "
                         "env.NAMES=web6.example.test,dual.example.test "
                         "env.URL=http://web6.example.test:8080/hello.txt")
        dom.wait_for(r"^done$", timeout=120)
        out = dom.console
        assert f"resolv.conf: nameserver {HOST6}" in out, out
        assert "lookup web6.example.test: 1 fd00:10::1" in out, out
        assert "lookup dual.example.test: 2 10.0.0.1 fd00:10::1" in out, out
        assert "get http://web6.example.test:8080/hello.txt: 200 hello over six" in out, out
    finally:
        web.terminate()
        web.wait(timeout=10)
