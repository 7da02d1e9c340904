"""Tier 3: name resolution in a guest (issue 19) with Go's own resolver against dnsmasq in the
bed's namespace (10.0.0.1): name servers set statically (dns=, search=: the YAML's dns: key)
and learned by DHCP (options 6 and 119); a search domain, a name that does not exist, an
answer too large for UDP (the resolver asks again over TCP), and `http.Get` by name
(tests/xen3/progs/resolve)."""

import re
import subprocess
import sys

import pytest

# 100 addresses for big.example.test: ~1.7 KB of answers, more than the 1232 bytes Go's
# resolver accepts over UDP, so dnsmasq truncates and the resolver asks again over TCP.
BIG = [f"10.1.0.{i}" for i in range(1, 101)]


@pytest.fixture
def name_service(testbed, tmp_path, dnsmasq_server):
    """start(dhcp=False): dnsmasq answering for example.test on 10.0.0.1:53 (and DHCP, when
    asked), and an HTTP server on 10.0.0.1:8080 serving hello.txt."""
    procs = []

    def start(dhcp=False):
        args = ["--no-resolv", "--no-hosts", "--listen-address=10.0.0.1", "--local=/example.test/",
                "--domain=example.test", "--log-queries",
                "--host-record=db.example.test,10.0.0.77", "--host-record=web.example.test,10.0.0.1"]
        args += [f"--host-record=big.example.test,{a}" for a in BIG]
        if dhcp:
            args += ["--dhcp-range=10.0.0.150,10.0.0.199,255.255.255.0,2m", "--dhcp-authoritative",
                     "--no-ping", "--dhcp-option=option:router,10.0.0.1",
                     "--dhcp-option=option:domain-search,lab.example.test,example.test"]
        dnsmasq_server(*args)
        (tmp_path / "www").mkdir(exist_ok=True)
        (tmp_path / "www" / "hello.txt").write_text("hello by name\n")
        procs.append(subprocess.Popen(
            [*testbed.netns.exec_prefix(), sys.executable, "-m", "http.server", "8080", "--bind",
             "10.0.0.1", "--directory", str(tmp_path / "www")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    yield start
    for p in procs:
        p.terminate()
        p.wait(timeout=10)


def _run(domu, go_build, name, cmdline):
    dom = domu(name, go_build("resolve"), "memory = 32\n", extra=cmdline, network=True)
    dom.wait_for(r"^done$", timeout=120)
    return dom.console


def test_resolve_with_static_name_servers(testbed, domu, go_build, name_service):
    name_service()
    out = _run(domu, go_build, "resolve-static",
               "ip=10.0.0.2/24 gw=10.0.0.1 dns=10.0.0.1,bogus search=example.test "
               "env.NAMES=db,db.example.test,web.example.test,big.example.test,nope.example.test "
               "env.URL=http://web.example.test:8080/hello.txt")
    assert "resolv.conf: nameserver 10.0.0.1" in out and "resolv.conf: search example.test" in out, out
    assert "net: dns=10.0.0.1,bogus: bogus is not an IP address: left out" in out, out
    assert "lookup db: 1 10.0.0.77" in out, out                      # through the search domain
    assert "lookup db.example.test: 1 10.0.0.77" in out, out
    assert "lookup web.example.test: 1 10.0.0.1" in out, out
    assert f"lookup big.example.test: 100 {' '.join(sorted(BIG))}" in out, out   # over TCP
    assert re.search(r"^lookup nope\.example\.test: error .*no such host", out, re.M), out
    assert "get http://web.example.test:8080/hello.txt: 200 hello by name" in out, out


def test_resolve_with_name_servers_from_dhcp(testbed, domu, go_build, name_service):
    name_service(dhcp=True)
    out = _run(domu, go_build, "resolve-dhcp",
               "ip=dhcp env.NAMES=db,web.example.test env.URL=http://web:8080/hello.txt")
    assert "resolv.conf: nameserver 10.0.0.1" in out, out
    assert "resolv.conf: search lab.example.test example.test" in out, out   # option 119
    assert "lookup db: 1 10.0.0.77" in out and "lookup web.example.test: 1 10.0.0.1" in out, out
    assert "get http://web:8080/hello.txt: 200 hello by name" in out, out
