"""Tier-2 fixtures: build Go programs with the GOOS=xen toolchain and boot them as Xen's dom0
inside QEMU (goxen.xenrun).

The toolchain is $GOXEN_TOOLCHAIN (default build/toolchain; `./scons test` sets it). Without
it the Go tests are skipped with the reason, except under CI (CI=true) or with
GOXEN_REQUIRE_XEN=1, where a missing piece of the test bed (toolchain, QEMU, gcc) fails them.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from goxen import xenrun

from xentest import echo, unavailable

REPO = Path(__file__).resolve().parents[2]
PROGS = Path(__file__).resolve().parent / "progs"
MINIPV = Path(__file__).resolve().parent / "minipv" / "minipv.S"
#: Programs that live outside tests/xen/progs.
PACKAGES = {app: REPO / "apps" / app for app in ("hello", "kvstore", "httpd")}


def toolchain_dir():
    return Path(os.environ.get("GOXEN_TOOLCHAIN") or REPO / "build" / "toolchain")


@pytest.fixture(scope="session")
def xen_hypervisor():
    if shutil.which(xenrun.QEMU) is None:
        unavailable(f"{xenrun.QEMU} not installed (./scons installs Debian's qemu-system-x86)")
    try:
        return xenrun.default_xen()
    except Exception as e:  # no network, no apt: name the cause
        unavailable(f"Xen hypervisor unavailable: {e}")


@pytest.fixture(scope="session")
def toolchain():
    root = toolchain_dir()
    go = root / "bin" / "go"
    if not go.exists():
        unavailable(f"GOOS=xen toolchain not found at {root} (run ./scons toolchain, or set "
                    "GOXEN_TOOLCHAIN)")
    return root


@pytest.fixture(scope="session")
def go_build(toolchain, tmp_path_factory):
    """go_build(name) -> kernel path: apps/<name> or tests/xen/progs/<name>, built once per session."""
    out_dir = tmp_path_factory.mktemp("kernels")
    built = {}
    env = dict(os.environ, GOOS="xen", GOARCH="amd64", GOTOOLCHAIN="local", CGO_ENABLED="0")
    env.pop("GOROOT", None)  # the toolchain knows its own

    def build(name):
        if name in built:
            if isinstance(built[name], str):      # failed earlier in this session
                pytest.fail(built[name], pytrace=False)
            return built[name]
        pkg = PACKAGES.get(name, PROGS / name)
        files = sorted(p.name for p in pkg.glob("*.go") if not p.name.endswith("_test.go"))
        assert files, f"no Go files in {pkg}"
        out = out_dir / f"{name}.xen"
        print(f"building {name} with {toolchain}/bin/go ...", flush=True)
        t = time.monotonic()
        proc = subprocess.run([str(toolchain / "bin" / "go"), "build", "-o", str(out), *files],
                              cwd=pkg, env=env, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            built[name] = f"GOOS=xen go build of {pkg} failed:\n{proc.stdout}{proc.stderr}"
            pytest.fail(built[name], pytrace=False)
        print(f"built {out} in {time.monotonic() - t:.1f} s", flush=True)
        built[name] = out
        return out
    return build


@pytest.fixture
def boot(go_build, xen_hypervisor):
    """boot(name, cmdline=(), mem=64, timeout=90, cpus=1) -> xenrun.Result of the program's
    dom0 run (cpus: the machine's CPUs and the dom0's vCPUs)."""
    def run(name, cmdline=(), mem=xenrun.DEFAULT_MEM_MB, timeout=90, cpus=1):
        kernel = go_build(name)
        qemu_cpus, xen_cpus = xenrun.cpus_args(cpus)
        result = xenrun.run_kernel(kernel, cmdline, mem, timeout, xen=xen_hypervisor,
                                   on_line=echo, extra_qemu_args=qemu_cpus,
                                   extra_xen_args=xen_cpus)
        print(f"xenrun: {result.summary()}", flush=True)
        return result
    return run


@pytest.fixture
def dom0(go_build, xen_hypervisor):
    """dom0(name, ...) -> an unstarted xenrun.Dom0Run, for tests that act during the run."""
    def make(name, cmdline=(), mem=xenrun.DEFAULT_MEM_MB, timeout=90, cpus=1):
        qemu_cpus, xen_cpus = xenrun.cpus_args(cpus)
        return xenrun.Dom0Run(go_build(name), cmdline, mem, timeout, xen=xen_hypervisor,
                              on_line=echo, extra_qemu_args=qemu_cpus, extra_xen_args=xen_cpus)
    return make


@pytest.fixture(scope="session")
def minipv(tmp_path_factory):
    """The tiny assembler PV kernel of tests/xen/minipv (no Go), built with gcc."""
    gcc = shutil.which("gcc")
    if gcc is None:
        unavailable("gcc not installed (needed for the minipv test kernel)")
    out = tmp_path_factory.mktemp("minipv") / "minipv"
    proc = subprocess.run([gcc, "-nostdlib", "-static", "-no-pie", "-Wl,--build-id=none",
                           "-Wl,-z,noexecstack", "-o", str(out), str(MINIPV)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"building {MINIPV} failed:\n{proc.stdout}{proc.stderr}", pytrace=False)
    return out


@pytest.fixture
def exec_env(toolchain, xen_hypervisor, repo):
    """Environment for go test on xen with the go_xen_amd64_exec wrapper on PATH."""
    if not (toolchain / "bin" / "go_xen_amd64_exec").exists():
        # A toolchain built outside SCons lacks the wrapper; install it as SCons does.
        sys.path.insert(0, str(repo / "site_scons" / "site_tools"))
        import goxen_toolchain
        goxen_toolchain.install_exec_wrapper(toolchain, repo, sys.executable)
    env = dict(os.environ, GOOS="xen", GOARCH="amd64", GOTOOLCHAIN="local", CGO_ENABLED="0",
               PYTHONPATH=str(repo / "site_scons"),
               PATH=f"{toolchain / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("GOROOT", None)
    return env
