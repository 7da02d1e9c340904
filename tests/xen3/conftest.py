"""Tier-3 fixtures: the full test bed (Xen + Linux PV dom0 in QEMU, goxen.testbed), booted once
per session, with domUs created per test.

Needs root (network namespaces, TAP), QEMU, the Debian packages (downloaded on first use) and,
for Go guests, the GOOS=xen toolchain ($GOXEN_TOOLCHAIN, default build/toolchain). A missing
piece skips the tests with the reason, except under CI=true or GOXEN_REQUIRE_XEN=1, where it
fails them.
"""

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from goxen import appconfig, paths, xenrun
from goxen.testbed import bed as bedmod
from goxen.testbed import image

REPO = Path(__file__).resolve().parents[2]
PROGS = Path(__file__).resolve().parent / "progs"
APPS = REPO / "apps"
TIER2_PROGS = REPO / "tests" / "xen" / "progs"


def _must_not_skip():
    return os.environ.get("CI") == "true" or os.environ.get("GOXEN_REQUIRE_XEN") == "1"


def unavailable(reason):
    if _must_not_skip():
        pytest.fail(f"test bed incomplete: {reason}", pytrace=False)
    pytest.skip(reason)


def echo(prefix):
    def show(line):
        print(f"[{line.elapsed:8.3f}] {prefix}{line.text}", flush=True)
    return show


@pytest.fixture(scope="session")
def bed_images():
    """(vmlinux, dom0 initramfs) from build/testbed, built there first when missing or stale."""
    if os.geteuid() != 0:
        unavailable("the tier-3 test bed needs root (network namespace, TAP device)")
    if shutil.which(xenrun.QEMU) is None:
        unavailable(f"{xenrun.QEMU} not installed")
    try:
        return image.bed_images(paths.BUILD / "testbed")
    except Exception as e:   # no network, no apt: name the cause
        unavailable(f"test-bed images unavailable: {e}")


@pytest.fixture(scope="session")
def testbed(bed_images):
    """The booted bed, shared by every tier-3 test of the session."""
    kernel, initramfs = bed_images
    t = time.monotonic()
    print("booting the tier-3 test bed ...", flush=True)
    # GOXEN_BED_WORKDIR: another directory lets a second bed run beside a first one.
    workdir = os.environ.get("GOXEN_BED_WORKDIR") or paths.BUILD / "testbed" / "run"
    bed = bedmod.Bed(kernel, initramfs, workdir=workdir)
    try:
        bed.start()
    except bedmod.BedError as e:
        tail = "".join(f"  | {line.text}\n" for line in (bed.run.lines[-60:] if bed.run else []))
        pytest.fail(f"the test bed did not boot: {e}\n{tail}", pytrace=False)
    print(f"test bed up in {time.monotonic() - t:.1f} s: marks {bed.marks}", flush=True)
    yield bed
    bed.close()


@pytest.fixture(autouse=True)
def _bed_in_working_order(request):
    """Boot the shared bed again before a test when an earlier test left it unusable (QEMU
    ended, the dom0 agent stopped answering, xl hangs every time), so that one broken dom0
    fails one test and not every test after it."""
    if "testbed" in request.fixturenames:
        bed = request.getfixturevalue("testbed")
        why = bed.needs_restart
        if why:
            bedmod.retried("bed booted again", f"restarting the tier-3 test bed: {why}")
            try:
                bed.restart()
            except bedmod.BedError as e:
                pytest.fail(f"the test bed did not boot again: {e}", pytrace=False)
    yield


@pytest.fixture(scope="session")
def toolchain():
    root = Path(os.environ.get("GOXEN_TOOLCHAIN") or paths.TOOLCHAIN)
    if not (root / "bin" / "go").exists():
        unavailable(f"GOOS=xen toolchain not found at {root} (./scons toolchain)")
    return root


@pytest.fixture(scope="session")
def go_build(toolchain, tmp_path_factory):
    """go_build(name, goos='xen') -> binary of apps/<name>, tests/xen3/progs/<name> or
    tests/xen/progs/<name>."""
    out_dir = tmp_path_factory.mktemp("bin")
    built = {}

    def build(name, goos="xen"):
        key = (name, goos)
        if key in built:
            return built[key]
        pkg = next((d / name for d in (APPS, PROGS, TIER2_PROGS) if (d / name).is_dir()), None)
        assert pkg is not None, f"no program {name} in {APPS}, {PROGS} or {TIER2_PROGS}"
        out = out_dir / f"{name}.{goos}"
        env = dict(os.environ, GOOS=goos, GOARCH="amd64", GOTOOLCHAIN="local", CGO_ENABLED="0")
        env.pop("GOROOT", None)
        t = time.monotonic()
        proc = subprocess.run([str(toolchain / "bin" / "go"), "build", "-o", str(out), "."],
                              cwd=pkg, env=env, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            pytest.fail(f"GOOS={goos} go build of {pkg} failed:\n{proc.stdout}{proc.stderr}",
                        pytrace=False)
        print(f"built {out} in {time.monotonic() - t:.1f} s", flush=True)
        built[key] = out
        return out
    return build


@pytest.fixture
def domu(testbed):
    """domu(name, kernel, xl_text, **kw) -> Domain, destroyed after the test."""
    made = []

    def create(name, kernel, xl="", **kw):
        kw.setdefault("on_line", echo(f"{name}| "))
        dom = testbed.create(name, kernel, xl, **kw)
        made.append(dom)
        return dom
    yield create
    for dom in made:
        try:
            if testbed.running and dom.info() is not None:
                dom.destroy()
        except bedmod.BedError as e:
            print(f"cleanup of {dom.name} failed: {e}")


@pytest.fixture(scope="session")
def kvstore_config():
    return appconfig.load(REPO / "configs" / "kvstore.yaml", top=REPO)


@pytest.fixture
def kvstore(request, testbed, domu, go_build, kvstore_config):
    """apps/kvstore as configs/kvstore.yaml says, a domU on the bed's bridge: (Domain, its
    address, its "kvstore: listening ..." line), once it answers ping. As a PV guest with one
    vCPU, or as an indirect parametrization says: a mode ("pv", "pvh") or (mode, vcpus)."""
    config = kvstore_config
    param = getattr(request, "param", "pv")
    mode, vcpus = param if isinstance(param, tuple) else (param, 1)
    kernel = go_build("kvstore")
    ip = config.network[0].ip.split("/")[0]
    dom = domu("kvstore", kernel,
               f'memory = {config.memory_mib}\ntype = "{mode}"\nvcpus = {vcpus}\n',
               extra=config.cmdline, network=True)
    dom.wait_for(rf"^net: eth0 \S+ {re.escape(config.network[0].ip)} gw ", timeout=60)
    line = dom.wait_for(r"^kvstore: listening on tcp (\S+) udp (\S+)", timeout=60).text
    testbed.ping(ip, timeout=90)
    return dom, ip, line


@pytest.fixture(scope="session")
def httpd_config():
    return appconfig.load(REPO / "configs" / "httpd.yaml", top=REPO)


@pytest.fixture(scope="session")
def httpd_kernel(toolchain, httpd_config, tmp_path_factory):
    """apps/httpd built as configs/httpd.yaml says, its romfs site linked in (the same
    `go build -overlay` the SCons build uses)."""
    from goxen import romfs
    config = httpd_config
    out = tmp_path_factory.mktemp("httpd")
    img = out / "romfs.img"
    romfs.pack(config.romfs_dir, img)
    overlay = romfs.embed_overlay(img, config.package_dir, out / "overlay")
    env = dict(os.environ, GOOS="xen", GOARCH="amd64", GOTOOLCHAIN="local", CGO_ENABLED="0")
    env.pop("GOROOT", None)
    t = time.monotonic()
    r = subprocess.run([str(toolchain / "bin" / "go"), "build", "-overlay", str(overlay), "-o",
                        str(out / "httpd.xen"), config.package], cwd=config.root, env=env,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    print(f"built httpd.xen with its romfs in {time.monotonic() - t:.1f} s", flush=True)
    return out / "httpd.xen"


@pytest.fixture(scope="session")
def dnsmasq():
    """dnsmasq's path, installed with apt-get when missing (the DHCP and DNS server of the
    tier-3 tests)."""
    from goxen import debian
    if not shutil.which("dnsmasq"):
        try:
            debian.apt_install(["dnsmasq-base"], "DHCP and DNS server of the tier-3 tests")
        except debian.FetchError as e:
            unavailable(str(e))
    return shutil.which("dnsmasq") or unavailable("dnsmasq missing after installing dnsmasq-base")


@pytest.fixture
def dnsmasq_server(testbed, dnsmasq, tmp_path):
    """start(*args): dnsmasq in the bed's namespace on its TAP (10.0.0.1) with args added;
    leases in tmp_path/leases; stopped (its log printed) after the test."""
    procs = []

    def start(*args):
        p = subprocess.Popen(
            [*testbed.netns.exec_prefix(), dnsmasq, "--no-daemon", "--conf-file=/dev/null",
             f"--interface={testbed.netns.tap}", "--bind-interfaces", "--except-interface=lo",
             f"--dhcp-leasefile={tmp_path / 'leases'}", f"--pid-file={tmp_path / 'dnsmasq.pid'}",
             "--user=root", *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        procs.append(p)
        try:
            p.wait(timeout=0.5)
            pytest.fail("dnsmasq exited: " + p.stdout.read())
        except subprocess.TimeoutExpired:
            pass
        return p
    yield start
    for p in procs:
        stop_process(p)


def stop_process(p):
    """Terminate p (killed after 10 s) and print what it wrote."""
    p.terminate()
    try:
        out, _ = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
    if out:
        print(out[-4000:])
