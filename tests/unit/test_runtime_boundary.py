"""The runtime <-> std boundary on xen is one documented list that matches the code: every
function the runtime pushes into another package (//go:linkname local pkg.name) is in
runtime/hooks_xen.go, the list at the top of that file names exactly those, and every
function a std overlay package declares without a body is one of them, an assembly function
of its own package, or a documented pull."""

import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "go-xen" / "overlay" / "src"
RUNTIME = SRC / "runtime"
HOOKS = RUNTIME / "hooks_xen.go"
LINKNAME = re.compile(r"^//go:linkname (\w+) ([\w./]+)\.(\w+)$", re.M)


def pushes(path):
    """(package, name) of the runtime's push linknames in path."""
    return {(pkg, name) for _, pkg, name in LINKNAME.findall(path.read_text())
            if pkg != "runtime"}


def documented():
    """(package, name) pairs of the list in hooks_xen.go's doc comment."""
    text = HOOKS.read_text()
    block = text[text.index("//\n//\t") + 3:text.index("//\n// Pulled")]
    entries, pkg = {}, None
    for line in block.splitlines():
        line = line[len("//\t"):] if line.startswith("//\t") else line.lstrip("/ ")
        if line and not line[0].isspace():
            pkg, _, line = line.partition(" ")
        entries[pkg] = entries.get(pkg, "") + " " + line.strip()
    out = set()
    for pkg, desc in entries.items():
        desc = re.sub(r"\([^)]*\)", "", desc)
        for seg in desc.split(";"):
            names = seg.partition(":")[0] if ":" in seg else seg
            for n in names.split(","):
                n = n.strip()
                if n:
                    assert re.fullmatch(r"\w+", n), f"unparsable entry {n!r} under {pkg}"
                    out.add((pkg, n))
    return out


def test_every_push_is_in_hooks_xen():
    elsewhere = {f.name: pushes(f) for f in RUNTIME.glob("*.go") if f != HOOKS}
    assert {f: p for f, p in elsewhere.items() if p} == {}


def test_the_list_matches_the_code():
    assert documented() == pushes(HOOKS)


def bodiless(path):
    """Names of functions declared without a body in a Go file."""
    return re.findall(r"^func (\w+)\([^{}\n]*\)[^{}\n]*$", path.read_text(), re.M)


@pytest.mark.parametrize("pkgdir", sorted({f.parent for f in SRC.rglob("*.go")} - {RUNTIME}),
                         ids=lambda d: str(d.relative_to(SRC)))
def test_bodiless_functions_are_hooks_or_assembly(pkgdir):
    pkg = str(pkgdir.relative_to(SRC))
    asm = {m for s in pkgdir.glob("*.s") for m in re.findall(r"^TEXT\s+·(\w+)", s.read_text(), re.M)}
    pulls = {local for f in pkgdir.glob("*.go") for local, p, _ in LINKNAME.findall(f.read_text())
             if p == "runtime"}
    hooks = {name for p, name in pushes(HOOKS) if p == pkg}
    for f in pkgdir.glob("*.go"):
        if f.name.endswith("_test.go"):
            continue
        for name in bodiless(f):
            assert name in hooks | asm | pulls, f"{f.relative_to(SRC)}: func {name} has no body, " \
                "no assembly and is not in runtime/hooks_xen.go"
