"""Debian bookworm parts of the test bed, downloaded and unpacked, never installed on the host.

Each package is fetched with `apt-get download` into .cache/debian/debs and unpacked with
`dpkg -x` into one shared tree, .cache/debian/root. A stamp per package
(.cache/debian/stamps/<package>) records that it is unpacked, so a second call does no network
work. A file lock serialises concurrent callers (SCons, pytest, the ./scons wrapper).

API used by the rest of the project:
    fetch(packages) -> Path          extracted root (holds usr/, boot/, ...)
    xen_hypervisor() -> Path         uncompressed Xen ELF, ready for qemu -kernel
    xen_include() -> Path            directory holding xen/xen.h
    readnotes() -> list[str]         argv prefix running Xen's readnotes
    readnotes_env() -> dict          os.environ plus the LD_LIBRARY_PATH readnotes needs

Command line: `python -m goxen.debian` fetches every test-bed package (used by ./scons).
"""

import contextlib
import fcntl
import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

from goxen.paths import CACHE

DEBIAN = CACHE / "debian"
ROOT = DEBIAN / "root"
DEBS = DEBIAN / "debs"
STAMPS = DEBIAN / "stamps"

XEN_VERSION = "4.17"
HYPERVISOR_PACKAGES = [f"xen-hypervisor-{XEN_VERSION}-amd64"]
HEADER_PACKAGES = ["libxen-dev"]
# readnotes links libxenctrl and libxenguest (both in libxenmisc4.17); those pull in the
# remaining libraries below (checked with ldd against the extracted tree).
READNOTES_PACKAGES = [
    f"xen-utils-{XEN_VERSION}",
    f"libxenmisc{XEN_VERSION}",
    "libxencall1",
    "libxendevicemodel1",
    "libxenevtchn1",
    "libxenforeignmemory1",
    "libxengnttab1",
    "libxentoolcore1",
    "libxentoollog1",
]
#: Everything ./scons fetches up front.
TESTBED_PACKAGES = HYPERVISOR_PACKAGES + HEADER_PACKAGES + READNOTES_PACKAGES

_LIBDIR = Path("usr/lib/x86_64-linux-gnu")


class FetchError(RuntimeError):
    """A Debian package could not be downloaded or unpacked."""


def _progress(msg):
    print(f"goxen: {msg}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _locked():
    DEBIAN.mkdir(parents=True, exist_ok=True)
    with open(DEBIAN / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _apt_download(packages):
    """Download .deb files for packages into DEBS; return the new file paths."""
    if shutil.which("apt-get") is None:
        raise FetchError("apt-get not found: the test bed needs a Debian (bookworm) host")
    before = set(DEBS.glob("*.deb"))
    # As root, apt drops privileges to _apt for downloads and warns when _apt cannot write
    # the target directory; downloading as root into our own cache is what we want.
    cmd = ["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", *packages]
    for attempt in (1, 2):
        proc = subprocess.run(cmd, cwd=DEBS, capture_output=True, text=True)
        if proc.returncode == 0:
            break
        missing = "Unable to locate package" in proc.stderr or "has no installation candidate" in proc.stderr
        if attempt == 1 and missing and os.geteuid() == 0:
            _progress("apt package lists are missing or stale; running apt-get update")
            subprocess.run(["apt-get", "update", "-q"], check=True, stdout=subprocess.DEVNULL)
            continue
        hint = ""
        if missing and os.geteuid() != 0:
            hint = " (run `sudo apt-get update` and retry)"
        raise FetchError(f"apt-get download {' '.join(packages)} failed{hint}:\n{proc.stderr.strip()}")
    return sorted(set(DEBS.glob("*.deb")) - before)


def _deb_package(deb):
    out = subprocess.run(["dpkg-deb", "-f", str(deb), "Package"], check=True,
                         capture_output=True, text=True)
    return out.stdout.strip()


def fetch(packages):
    """Download and unpack packages (once); return the extracted root directory."""
    packages = list(dict.fromkeys(packages))
    with _locked():
        todo = [p for p in packages if not (STAMPS / p).exists()]
        if not todo:
            return ROOT
        for d in (DEBS, ROOT, STAMPS):
            d.mkdir(parents=True, exist_ok=True)
        _progress(f"downloading Debian packages: {' '.join(todo)}")
        # Reuse .deb files left by an interrupted earlier run.
        have = {}
        for deb in DEBS.glob("*.deb"):
            have[_deb_package(deb)] = deb
        need = [p for p in todo if p not in have]
        if need:
            for deb in _apt_download(need):
                have[_deb_package(deb)] = deb
        for pkg in todo:
            deb = have.get(pkg)
            if deb is None:
                raise FetchError(f"apt-get download gave no .deb for {pkg}")
            _progress(f"unpacking {deb.name}")
            subprocess.run(["dpkg", "-x", str(deb), str(ROOT)], check=True)
            (STAMPS / pkg).write_text(deb.name + "\n")
    return ROOT


def apt_install(packages, why, timeout=900):
    """Install Debian packages with apt-get (update first) for a test or the bench, saying
    why on stdout; raises FetchError with apt's words when that fails. The caller checks
    for its tools first, so a machine that has them is not touched."""
    print(f"installing {' '.join(packages)} with apt-get ({why})", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-q"],
                ["apt-get", "install", "-q", "-y", "--no-install-recommends", *packages]):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        if r.returncode != 0:
            raise FetchError(f"{' '.join(cmd)} failed: {(r.stdout + r.stderr).strip()[-600:]}")


def xen_hypervisor():
    """Path of the uncompressed Xen hypervisor ELF (QEMU's -kernel wants it unpacked)."""
    root = fetch(HYPERVISOR_PACKAGES)
    src = root / "boot" / f"xen-{XEN_VERSION}-amd64.gz"
    dst = DEBIAN / f"xen-{XEN_VERSION}-amd64"
    with _locked():
        if not dst.exists() or dst.stat().st_mtime < src.stat().st_mtime:
            tmp = dst.with_suffix(".tmp")
            with gzip.open(src, "rb") as fin, open(tmp, "wb") as fout:
                shutil.copyfileobj(fin, fout)
            tmp.replace(dst)
    return dst


def xen_include():
    """Directory containing Xen's public headers as xen/xen.h (from libxen-dev)."""
    inc = fetch(HEADER_PACKAGES) / "usr" / "include"
    if not (inc / "xen" / "xen.h").exists():
        raise FetchError(f"{inc}/xen/xen.h missing after unpacking libxen-dev")
    return inc


def readnotes():
    """argv prefix running Xen's readnotes; run it with env=readnotes_env()."""
    tool = fetch(READNOTES_PACKAGES) / "usr" / "lib" / f"xen-{XEN_VERSION}" / "bin" / "readnotes"
    if not tool.exists():
        raise FetchError(f"{tool} missing after unpacking xen-utils-{XEN_VERSION}")
    return [str(tool)]


def readnotes_env():
    """A copy of os.environ with LD_LIBRARY_PATH pointing at the extracted Xen libraries."""
    libdir = str(fetch(READNOTES_PACKAGES) / _LIBDIR)
    env = dict(os.environ)
    old = env.get("LD_LIBRARY_PATH")
    env["LD_LIBRARY_PATH"] = libdir + (os.pathsep + old if old else "")
    return env


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        root = fetch(argv or TESTBED_PACKAGES)
        if not argv:
            xen_hypervisor()
    except (FetchError, subprocess.CalledProcessError) as e:
        print(f"goxen: error: {e}", file=sys.stderr)
        return 1
    print(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
