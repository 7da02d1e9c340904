"""GoxenApp from a foreign SConstruct (the fake toolchain of test_site_tools): the xl config
generated from the full schema, romfs embedding through `go build -overlay`, and config errors."""

import json
import struct

import pytest

from goxen import romfs
from test_site_tools import Project

FULL = """\
version: 1
name: demo
package: ./apps/demo
memory: 48M
vcpus: 2
romfs: ./apps/demo/site
network:
  - ip: 10.0.0.2/24
    gateway: 10.0.0.1
    mac: 00:16:3e:00:00:02
env:
  GREETING: hi
cmdline: [quiet]
xl:
  on_crash: preserve
  on_watchdog: restart
"""


@pytest.fixture
def project(tmp_path, repo):
    p = Project(tmp_path, repo)
    site = p.dir / "apps" / "demo" / "site"
    (site / "www").mkdir(parents=True)
    (site / "www" / "index.html").write_text("<h1>hi</h1>\n")
    (p.dir / "configs" / "demo.yaml").write_text(FULL)
    return p


def go_args(project):
    [go] = project.calls("go")
    return go.split()


def test_xl_config_from_full_schema(project):
    project.scons()
    xl = (project.dir / "build" / "demo" / "demo.xl").read_text()
    for line in ["memory = 48", "vcpus = 2", 'on_crash = "preserve"', 'on_poweroff = "destroy"',
                 'on_watchdog = "restart"', "vif = [ 'mac=00:16:3e:00:00:02,bridge=xenbr0' ]",
                 'extra = "ip=10.0.0.2/24 gw=10.0.0.1 env.GREETING=hi quiet"']:
        assert line in xl.splitlines(), (line, xl)


def test_romfs_image_and_overlay_reach_go_build(project):
    project.scons()
    out = project.dir / "build" / "demo"
    img = out / "romfs.img"
    entries = {e.path: e.data for e in romfs.read(img.read_bytes())}
    assert entries["www/index.html"] == b"<h1>hi</h1>\n"
    args = go_args(project)
    overlay = out / "romfs-overlay" / "overlay.json"
    assert args[args.index("-overlay") + 1] == str(overlay)
    replace = json.loads(overlay.read_text())["Replace"]
    pkg = (project.dir / "apps" / "demo").resolve()
    assert replace[str(pkg / romfs.EMBED_IMG)] == str(img.resolve())
    gofile = replace[str(pkg / romfs.EMBED_GO)]
    text = open(gofile).read()
    assert "//go:build xen" in text and f"//go:linkname goxenRomfsImage {romfs.EMBED_SYMBOL}" in text


def test_site_edit_rebuilds_image_and_kernel_only(project):
    project.scons()
    assert "up to date" in project.scons().stdout
    (project.dir / "apps" / "demo" / "site" / "www" / "new.css").write_text("h1 {}\n")
    project.scons()
    assert len(project.calls("go")) == 2 and len(project.calls("toolchain")) == 1
    names = {e.path for e in romfs.read((project.dir / "build" / "demo" / "romfs.img").read_bytes())}
    assert "www/new.css" in names


def test_no_romfs_no_overlay(project):
    (project.dir / "configs" / "demo.yaml").write_text(FULL.replace("romfs: ./apps/demo/site\n", ""))
    project.scons()
    assert "-overlay" not in go_args(project)
    assert not (project.dir / "build" / "demo" / "romfs.img").exists()


@pytest.mark.parametrize("old,new,where", [
    ("memory: 48M", "memory: 48Q", "configs/demo.yaml: memory: bad size"),
    ("    gateway: 10.0.0.1", "    gateway: 10.0.9.1", "configs/demo.yaml: network[0].gateway: 10.0.9.1 is not in"),
    ("  on_crash: preserve", "  on_crash: explode", "configs/demo.yaml: xl: on_crash: bad action"),
    ("vcpus: 2", "vcpus: 2\ncolour: red", "configs/demo.yaml: colour: unknown key"),
])
def test_bad_config_stops_the_build_naming_file_and_key(project, old, new, where):
    (project.dir / "configs" / "demo.yaml").write_text(FULL.replace(old, new))
    r = project.scons(ok=False)
    assert r.returncode == 2 and where in r.stderr, r.stderr
    assert not project.calls("go") and not project.calls("toolchain")


def test_app_outside_the_project_builds_in_its_own_module(project, tmp_path):
    ext = tmp_path / "their"
    (ext / "cmd" / "app").mkdir(parents=True)
    (ext / "deploy").mkdir()
    (ext / "go.mod").write_text("module example.com/their\n\ngo 1.27\n")
    (ext / "cmd" / "app" / "main.go").write_text("package main\n\nfunc main() {}\n")
    cfg = ext / "deploy" / "their.yaml"
    cfg.write_text("version: 1\npackage: ./cmd/app\nmemory: 16M\n")
    sconstruct = (project.dir / "SConstruct").read_text()
    (project.dir / "SConstruct").write_text(sconstruct.replace('"configs/demo.yaml"', repr(str(cfg)))
                                            .replace('"verbose": False', '"verbose": True'))
    r = project.scons("-n")
    [cmd] = [l for l in r.stdout.splitlines() if " build " in l and "their.xen" in l]
    assert cmd.startswith(f"cd {ext.resolve()} && env ") and cmd.endswith(" ./cmd/app"), cmd
    project.scons()
    assert (project.dir / "build" / "their" / "their.xen").exists()
    assert "memory = 16" in (project.dir / "build" / "their" / "their.xl").read_text()
    (ext / "cmd" / "app" / "main.go").write_text("package main\n\nfunc main() { println() }\n")
    project.scons()
    assert len(project.calls("go")) == 2          # their .go files are the kernel's sources


@pytest.mark.parametrize("package", [".", "./"])
def test_app_at_its_module_root_builds_with_dot(project, tmp_path, package):
    """`package: .` (or ./) is the module's root; a directory named x.go is walked as a
    directory, not taken for a file; a nested module and a testdata tree are not sources."""
    ext = tmp_path / "mine"
    ext.mkdir()
    (ext / "go.mod").write_text("module example.com/mine\n\ngo 1.27\n")
    (ext / "main.go").write_text("package main\n\nfunc main() {}\n")
    (ext / "x.go").mkdir()                              # a directory, not a file
    (ext / "x.go" / "inner.go").write_text("package inner\n")
    (ext / "testdata" / "t.go").parent.mkdir()
    (ext / "testdata" / "t.go").write_text("package broken\n")
    (ext / "vendored" / "go.mod").parent.mkdir()
    (ext / "vendored" / "go.mod").write_text("module other\n")
    (ext / "vendored" / "o.go").write_text("package other\n")
    cfg = ext / "mine.yaml"
    cfg.write_text(f"version: 1\npackage: {package}\nmemory: 32M\n")
    sconstruct = (project.dir / "SConstruct").read_text()
    (project.dir / "SConstruct").write_text(sconstruct.replace('"configs/demo.yaml"', repr(str(cfg))))
    project.scons()
    [go] = project.calls("go")
    assert go.endswith(f" {package}"), go
    assert (project.dir / "build" / "mine" / "mine.xen").exists()
    project.scons()
    (ext / "vendored" / "o.go").write_text("package other // changed\n")
    (ext / "testdata" / "t.go").write_text("package broken // changed\n")
    project.scons()
    assert len(project.calls("go")) == 1            # neither is a source of the package
    (ext / "main.go").write_text("package main\n\nfunc main() { println() }\n")
    project.scons()
    assert len(project.calls("go")) == 2


def test_memory_that_cannot_hold_the_image_stops_the_build(project):
    """A kernel of 8 MiB (BSS included) needs 8 MiB + Xen's start-of-day pages + 1.5 MiB of
    heap for the runtime, and as PVH (the default) the 4 MiB below the image and the way to
    the first 4 MiB-aligned arena (16 MiB): 17M is too small, and the error names the file,
    the key and the minimum, 18M."""
    data = bytearray(project.kernel.read_bytes())
    phoff, phentsize, phnum = struct.unpack_from("<Q", data, 32)[0], *struct.unpack_from("<HH", data, 54)
    for i in range(phnum):
        off = phoff + i * phentsize
        if struct.unpack_from("<I", data, off)[0] == 1:           # PT_LOAD: p_memsz = 8 MiB
            struct.pack_into("<Q", data, off + 40, 8 << 20)
    project.kernel.write_bytes(bytes(data))
    (project.dir / "configs" / "demo.yaml").write_text(FULL.replace("memory: 48M", "memory: 17M") + "mode: pvh\n")
    r = project.scons(ok=False)
    assert r.returncode != 0
    assert "configs/demo.yaml: memory: 17M cannot hold" in r.stderr and "at least 18M" in r.stderr, r.stderr
    assert not (project.dir / "build" / "demo" / "demo.xl").exists()
    (project.dir / "configs" / "demo.yaml").write_text(FULL.replace("memory: 48M", "memory: 18M") + "mode: pvh\n")
    r = project.scons()
    assert "memory: 18M leaves" in r.stderr and "little room" in r.stderr, r.stderr
    assert "memory = 18" in (project.dir / "build" / "demo" / "demo.xl").read_text()
    # As PV the p2m and the shim's two maps cost less: 10M will do.
    (project.dir / "configs" / "demo.yaml").write_text(
        FULL.replace("memory: 48M", "memory: 10M") + "mode: pv\n")
    r = project.scons()
    assert "memory = 10" in (project.dir / "build" / "demo" / "demo.xl").read_text()