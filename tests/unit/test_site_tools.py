"""The goxen SCons tools, loaded from a foreign project's SConstruct, with a fake go-xen tree.

The fake go-xen/build.py installs a fake `go` that copies a synthetic Xen kernel (xenelf.py) to
its -o argument, so the whole app pipeline (shim -> toolchain -> image -> notes -> xl) runs in
seconds and without the real port.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import xenelf

BUILD_PY = """\
import argparse, os, sys
p = argparse.ArgumentParser()
p.add_argument("--bootstrap", required=True)
p.add_argument("--shim", required=True)
p.add_argument("--out", required=True)
a = p.parse_args()
assert os.path.exists(os.path.join(a.bootstrap, "bin", "go")), a.bootstrap
assert os.path.exists(a.shim), a.shim
with open({log!r}, "a") as f:
    f.write("toolchain\\n")
os.makedirs(os.path.join(a.out, "bin"), exist_ok=True)
go = os.path.join(a.out, "bin", "go")
with open(go, "w") as f:
    f.write({go_script!r})
os.chmod(go, 0o755)
"""

GO_SCRIPT = """\
#!{python}
import os, shutil, sys
args = sys.argv[1:]
with open({log!r}, "a") as f:
    f.write("go %s %s %s %s\\n" % (os.environ.get("GOOS"), os.environ.get("GOARCH"),
                                 os.environ.get("GOTOOLCHAIN"), " ".join(args)))
shutil.copy({kernel!r}, args[args.index("-o") + 1])
"""

SCONSTRUCT = """\
env = Environment(tools=[("goxen", {{"verbose": False}})], toolpath=[{toolpath!r}])
env["GOXEN_SRC"] = {src!r}
env["GOXEN_SHIM_CPPPATH"] = []
shim = env.GoxenShim("#build/shim/shim.o", sources=["shim/a.c", "shim/b.S"])
toolchain = env.GoxenToolchain("#build/toolchain", shim=shim)
env.Alias("toolchain", toolchain)
env.Default(env.GoxenApp("configs/demo.yaml", toolchain=toolchain))
"""


class Project:
    def __init__(self, tmp, repo):
        self.dir = tmp / "project"
        self.src = tmp / "goxen-src"
        self.log = tmp / "calls.log"
        self.kernel = tmp / "kernel.xen"
        xenelf.write(self.kernel)
        go = GO_SCRIPT.format(python=sys.executable, log=str(self.log), kernel=str(self.kernel))
        (self.src / "go-xen" / "overlay").mkdir(parents=True)
        (self.src / "go-xen" / "build.py").write_text(BUILD_PY.format(log=str(self.log), go_script=go))
        (self.src / "go-xen" / "overlay" / "port.go").write_text("package runtime\n")
        files = {
            "SConstruct": SCONSTRUCT.format(toolpath=str(repo / "site_scons" / "site_tools"),
                                            src=str(self.src)),
            "shim/a.c": "int shim_a(int x) { return x + 1; }\n",
            "shim/b.S": ".globl shim_b\nshim_b: ret\n",
            "apps/demo/main.go": "package main\n\nfunc main() {}\n",
            "configs/demo.yaml": "version: 1\nname: demo\npackage: ./apps/demo\nmemory: 48M\n"
                                 "network: [{ip: 10.0.0.2/24}]\n",
        }
        for name, text in files.items():
            (self.dir / name).parent.mkdir(parents=True, exist_ok=True)
            (self.dir / name).write_text(text)

    def scons(self, *args, ok=True):
        r = subprocess.run([sys.executable, "-m", "SCons", "-Q", *args], cwd=self.dir,
                           capture_output=True, text=True, timeout=120)
        if ok:
            assert r.returncode == 0, r.stdout + r.stderr
        return r

    def calls(self, kind):
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return [l for l in lines if l.split()[0] == kind]


@pytest.fixture
def project(tmp_path, repo):
    return Project(tmp_path, repo)


def test_app_pipeline_from_foreign_sconstruct(project):
    project.scons()
    out = project.dir / "build" / "demo"
    assert (out / "demo.xen").read_bytes() == project.kernel.read_bytes()
    assert (project.dir / "build" / "shim" / "shim.o").exists()
    assert len(project.calls("toolchain")) == 1
    [go] = project.calls("go")
    assert go.startswith("go xen amd64 local build ") and go.endswith("./apps/demo")
    xl = (out / "demo.xl").read_text()
    for line in ['name = "demo"', 'type = "pvh"', f'kernel = "{out / "demo.xen"}"', "memory = 48",
                 "vcpus = 1", 'extra = "ip=10.0.0.2/24"', 'on_crash = "destroy"']:
        assert line in xl
    assert len((project.dir / "build" / "toolchain" / ".goxen-hash").read_text().strip()) == 64


def test_warm_build_does_nothing_and_app_edits_skip_the_toolchain(project):
    project.scons()
    r = project.scons()
    assert "up to date" in r.stdout
    assert len(project.calls("toolchain")) == 1 and len(project.calls("go")) == 1
    (project.dir / "apps" / "demo" / "main.go").write_text("package main\n\nfunc main() { println() }\n")
    project.scons()
    assert len(project.calls("toolchain")) == 1 and len(project.calls("go")) == 2


def test_toolchain_rebuilds_on_input_change_and_hash_survives_lost_sconsign(project):
    project.scons("toolchain")
    (project.dir / ".sconsign.dblite").unlink()
    r = project.scons("toolchain")
    assert "is up to date" in r.stdout and len(project.calls("toolchain")) == 1
    (project.src / "go-xen" / "overlay" / "port.go").write_text("package runtime // changed\n")
    project.scons("toolchain")
    assert len(project.calls("toolchain")) == 2
    (project.src / "go-xen" / "__pycache__").mkdir()
    (project.src / "go-xen" / "__pycache__" / "x.pyc").write_bytes(b"junk")
    project.scons("toolchain")
    assert len(project.calls("toolchain")) == 2


def test_missing_note_fails_the_build_and_removes_the_kernel(project):
    notes = xenelf.good_notes()
    del notes[5]
    xenelf.write(project.kernel, notes)
    r = project.scons(ok=False)
    assert r.returncode != 0 and "XEN_VERSION: missing" in r.stderr
    assert not (project.dir / "build" / "demo" / "demo.xen").exists()


def test_missing_build_py_is_a_clear_error(project):
    (project.src / "go-xen" / "build.py").unlink()
    r = project.scons("toolchain", ok=False)
    assert r.returncode != 0 and "go-xen/build.py not found" in r.stderr


def repo_scons(repo, *args):
    return subprocess.run([sys.executable, "-m", "SCons", "-Q", *args], cwd=repo,
                          capture_output=True, text=True, timeout=120)


def test_repo_sconstruct_help_and_app_listing(repo):
    r = repo_scons(repo, "--help")
    assert r.returncode == 0 and "app:" in r.stdout and "xl_kernel:" in r.stdout
    assert "hello" in r.stdout
    r = repo_scons(repo, "app=nosuch")
    assert r.returncode == 2 and "configs/nosuch.yaml" in r.stderr and "hello" in r.stderr
    r = repo_scons(repo, "colour=blue")
    assert r.returncode == 2 and "unknown variable" in r.stdout and "colour=blue" in r.stdout


def test_tool_loads_with_env_tool_and_is_idempotent(tmp_path, repo):
    toolpath = str(repo / "site_scons" / "site_tools")
    (tmp_path / "a.c").write_text("int a;\n")
    (tmp_path / "SConstruct").write_text(textwrap.dedent(f"""\
        env = Environment(tools=[])
        env.Tool("goxen", toolpath=[{toolpath!r}])
        env.Tool("goxen", toolpath=[{toolpath!r}])
        import goxen.elfnotes, goxen.appconfig       # the package stays importable
        print("notes:", " ".join(goxen.elfnotes.REQUIRED))
        for name in ["GoxenShim", "GoxenToolchain", "GoxenImage", "GoxenXl", "GoxenApp", "GoxenTest"]:
            assert hasattr(env, name), name
        env["GOXEN_SHIM_CPPPATH"] = []
        env.Default(env.GoxenShim("#out/shim.o", sources=["a.c"]))
        """))
    r = subprocess.run([sys.executable, "-m", "SCons", "-Q", "--dry-run"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "notes: GUEST_OS XEN_VERSION" in r.stdout
    assert "CC      a.c" in r.stdout and "OBJCOPY out/shim.o" in r.stdout
    assert not (tmp_path / "out").exists()


def test_shim_object_with_a_bad_relocation_fails(project):
    # -fno-pic code addressing a global emits R_X86_64_32S, which Go's ELF loader rejects.
    (project.dir / "shim" / "b.S").write_text(".globl shim_b\nshim_b: movq $shim_data, %rax\n"
                                               "ret\n.data\nshim_data: .quad 0\n")
    r = project.scons("toolchain", ok=False)
    assert r.returncode != 0 and "relocation type 11" in r.stderr
    assert not (project.dir / "build" / "shim" / "shim.o").exists()


def test_shim_keeps_only_default_visibility_symbols_global(project):
    from elftools.elf.elffile import ELFFile
    project.scons("toolchain")
    with open(project.dir / "build" / "shim" / "shim.o", "rb") as f:
        syms = ELFFile(f).get_section_by_name(".symtab").iter_symbols()
        glob = {s.name for s in syms if s["st_info"]["bind"] == "STB_GLOBAL"}
    assert glob == {"shim_b"}      # shim_a is hidden (-fvisibility=hidden), so localised
