"""Tier 2: a romfs image embedded in a GOOS=xen kernel (goxen.romfs.embed_overlay, the same
go:embed + linkname push the image builder uses) is read inside the guest, on real Xen, and
every file's SHA-256, size, mode and mtime match the host's tree.

The guest program is romfs/internal/guesttest; its image lands in romfs/internal/guestimg.
"""

import hashlib
import os
import subprocess
import time
from pathlib import Path

import pytest

from goxen import romfs, xenrun

from xentest import echo, explain

REPO = Path(__file__).resolve().parents[2]
SYMBOL = "goxen/romfs/internal/guestimg.Image"
MTIME = 1700000000


def make_tree(root):
    files = {
        "empty": b"",
        "etc/hosts": b"10.9.8.7\timagehost\n",  # over the guest's generated /etc/hosts
        "static/index.html": b"<h1>romfs on xen</h1>\n",
        "static/héllo wörld.txt": "ünïcödé\n".encode(),
        "static/日本語/ファイル": b"utf-8 names\n",
        "large/big.bin": hashlib.shake_256(b"romfs").digest(17 << 20),   # > 16 MB
    }
    deep = "/".join(f"d{i}" for i in range(40))
    files[f"{deep}/bottom.txt"] = b"deep\n"
    for i in range(300):
        files[f"many/f{i:04d}"] = hashlib.sha256(str(i).encode()).digest() * (i % 7)
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    (root / "emptydir").mkdir()
    os.chmod(root / "static" / "index.html", 0o640)
    return files


def test_guest_reads_embedded_romfs(toolchain, xen_hypervisor, tmp_path):
    src = tmp_path / "tree"
    files = make_tree(src)
    img = tmp_path / "romfs.img"
    size = romfs.pack(src, img, mtime=MTIME)
    overlay = romfs.embed_overlay(img, REPO / "romfs" / "internal" / "guesttest",
                                  tmp_path / "gen", symbol=SYMBOL)
    kernel = tmp_path / "guest.xen"
    env = dict(os.environ, GOOS="xen", GOARCH="amd64", GOTOOLCHAIN="local", CGO_ENABLED="0")
    env.pop("GOROOT", None)
    t = time.monotonic()
    build = subprocess.run([str(toolchain / "bin" / "go"), "build", "-overlay", str(overlay),
                            "-o", str(kernel), "./romfs/internal/guesttest"],
                           cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stdout + build.stderr
    print(f"built {kernel} ({kernel.stat().st_size} bytes, image {size}) in "
          f"{time.monotonic() - t:.1f} s", flush=True)
    assert kernel.stat().st_size > size

    result = xenrun.run_kernel(kernel, mem=160, timeout=300, xen=xen_hypervisor, on_line=echo)
    assert result.ok and result.status == 0, explain(result)
    got = {}
    for line in result.guest_lines:
        if line.startswith("file "):
            _, digest, n, mode, mtime, path = line.split(" ", 5)
            got[path] = (digest, int(n), int(mode, 8), int(mtime))
    want = {}
    for rel, data in files.items():
        st = os.stat(src / rel)
        want[rel] = (hashlib.sha256(data).hexdigest(), len(data), st.st_mode & 0o100777,
                     MTIME * 10**9)
    assert got == want
    assert "romfs: ok" in result.guest_lines


def test_os_apis_read_the_mounted_image(toolchain, xen_hypervisor, tmp_path):
    """The integrated path: the image pushed into syscall.romfsImage and mounted at / by the
    toolchain's syscall (romfs/_std/fs_romfs_xen.go, internal/romfs); read with os, filepath
    and net/http only (romfs/internal/ostest)."""
    if not (toolchain / "src" / "internal" / "romfs").is_dir():
        pytest.skip(f"{toolchain} carries no internal/romfs yet (the toolchain build vendors "
                    "romfs/*.go there and syscall mounts it; see romfs/README.md)")
    src = tmp_path / "tree"
    files = make_tree(src)
    img = tmp_path / "romfs.img"
    romfs.pack(src, img, mtime=MTIME)
    overlay = romfs.embed_overlay(img, REPO / "romfs" / "internal" / "ostest", tmp_path / "gen")
    kernel = tmp_path / "ostest.xen"
    env = dict(os.environ, GOOS="xen", GOARCH="amd64", GOTOOLCHAIN="local", CGO_ENABLED="0")
    env.pop("GOROOT", None)
    build = subprocess.run([str(toolchain / "bin" / "go"), "build", "-overlay", str(overlay),
                            "-o", str(kernel), "./romfs/internal/ostest"],
                           cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stdout + build.stderr
    result = xenrun.run_kernel(kernel, mem=160, timeout=300, xen=xen_hypervisor, on_line=echo)
    assert result.ok and result.status == 0, explain(result)
    got = {}
    for line in result.guest_lines:
        if line.startswith("file "):
            _, digest, n, path = line.split(" ", 3)
            got[path] = (digest, int(n))
    assert got == {rel: (hashlib.sha256(d).hexdigest(), len(d)) for rel, d in files.items()
                   if not rel.startswith("etc/")}  # /etc: the guest's "etc" check
    assert "ostest: ok" in result.guest_lines
