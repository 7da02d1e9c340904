"""SCons tool `goxen_bed`: the tier-3 test bed's images, Linux baseline images and `run`.

    bed = env.GoxenBedImages('#build/testbed')      -> [vmlinux, dom0.cpio.gz]
    base = env.GoxenBaseline('hello', bed, toolchain=tc)
        -> [build/hello/baseline/hello (linux/amd64), hello.cpio.gz, hello-linux.xl]
    env.GoxenRun(app_nodes, bed, alias='run')       # app_nodes = env.GoxenApp(...)

The bed images are made from Debian packages by goxen.testbed.image (cached in .cache/debian;
rebuilt when a data file in site_scons/goxen/dom0, the image code or the package list changes).
`run` is always executed: it hands the terminal to `python -m goxen.testbed.run`, which prints
READY ... and stays up until Ctrl-C, SIGTERM or end of stdin.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

_SITE = Path(__file__).resolve().parents[1]
if str(_SITE) not in sys.path:
    sys.path.insert(0, str(_SITE))

import SCons.Action
import SCons.Builder

from goxen import appconfig, gosources, paths
from goxen.testbed import image


def _bed_images(target, source, env):
    # goxen.testbed.image keeps its own content stamp (it also serves pytest, outside SCons):
    # images it already made from the same inputs are kept.
    image.bed_images(Path(target[0].abspath).parent)
    return 0


def _bed_sources(env):
    files = [Path(image.__file__), Path(image.__file__).with_name("cpio.py"), *image.data_files()]
    return [env.File(str(p)) for p in files] + [env.Value(" ".join(image.packages()))]


def GoxenBedImages(env, outdir="#build/testbed"):
    d = env.Dir(outdir)
    return env.GoxenBedImagesBuild([d.File(image.BED_KERNEL), d.File(image.BED_INITRAMFS)],
                                   _bed_sources(env))


def _baseline_initramfs(target, source, env):
    image.baseline_initramfs(target[0].abspath, source[0].abspath)
    return 0


def _baseline_xl(target, source, env):
    f = env["GOXEN_BASELINE_FIELDS"]
    Path(target[0].abspath).write_text(image.baseline_xl(**f))
    return 0


def GoxenBaseline(env, app, bed, toolchain=None):
    """The Linux baseline of app (a name in $GOXEN_CONFIGS or a YAML path)."""
    top = env.Dir("#").abspath
    path = appconfig.find(app, os.path.relpath(env.Dir("$GOXEN_CONFIGS").abspath))
    cfg = appconfig.load(path, top=top)
    outdir = env.Dir("$GOXEN_APPDIR").Dir(cfg.name).Dir("baseline")
    binary = env.GoxenBaselineGo(outdir.File(cfg.name), env.Value(f"{cfg.root}:{cfg.package}"),
                                 GOXEN_PACKAGE=cfg.package, GOXEN_MODROOT=str(cfg.root))
    env.Depends(binary, [env.File(str(p)) for p in gosources.go_sources(cfg.root, cfg.package)])
    if toolchain is not None:
        env.Depends(binary, toolchain)
    ramdisk = env.GoxenBaselineInitramfs(outdir.File(cfg.name + ".cpio.gz"), binary)
    env.Depends(ramdisk, _bed_sources(env))
    fields = dict(name=cfg.name + "-linux", kernel=bed[0].abspath, ramdisk=ramdisk[0].abspath,
                  memory_mib=cfg.memory_mib, cmdline=cfg.cmdline)
    xl = env.GoxenBaselineXl(outdir.File(cfg.name + "-linux.xl"),
                             env.Value(repr(sorted(fields.items()))), GOXEN_BASELINE_FIELDS=fields)
    env.Depends(xl, bed)
    return binary + ramdisk + xl


def _run(target, source, env):
    cmd = [env.subst("$GOXEN_PYTHON"), "-m", "goxen.testbed.run",
           "--xl", env["GOXEN_RUN_XL"], "--dom0-kernel", env["GOXEN_RUN_BED"][0],
           "--dom0-initramfs", env["GOXEN_RUN_BED"][1], *env.get("GOXEN_RUN_FLAGS", [])]
    if env.get("GOXEN_RUN_RAMDISK"):
        cmd += ["--ramdisk", env["GOXEN_RUN_RAMDISK"]]
    child_env = dict(os.environ)
    child_env["PYTHONPATH"] = str(_SITE) + os.pathsep + child_env.get("PYTHONPATH", "")
    # The child owns the terminal's signals: Ctrl-C reaches it directly (same process group);
    # SCons ignores SIGINT meanwhile and forwards SIGTERM/SIGHUP, then waits for the teardown.
    proc = subprocess.Popen(cmd, env=child_env)
    old = {}

    def forward(signum, frame):
        try:
            proc.send_signal(signum)
        except ProcessLookupError:
            pass
    try:
        old[signal.SIGINT] = signal.signal(signal.SIGINT, signal.SIG_IGN)
        for s in (signal.SIGTERM, signal.SIGHUP):
            old[s] = signal.signal(s, forward)
    except ValueError:      # not the main thread (scons -j N): signals stay as they are
        pass
    try:
        rc = proc.wait()
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    return rc


def GoxenRun(env, app_nodes, bed, alias="run", baseline=None):
    """Alias that boots the bed and runs the app (or, given baseline nodes, its Linux baseline)."""
    if baseline is not None:
        xl, ramdisk = baseline[2], baseline[1]
        deps = list(baseline)
    else:
        xl = [n for n in app_nodes if str(n).endswith(".xl")][0]
        ramdisk = None
        deps = list(app_nodes)
    node = env.Alias(alias, deps + list(bed), SCons.Action.Action(_run, "  RUN     $GOXEN_RUN_XL"),
                     GOXEN_RUN_XL=xl.abspath, GOXEN_RUN_BED=[n.abspath for n in bed],
                     GOXEN_RUN_RAMDISK=ramdisk.abspath if ramdisk is not None else "")
    env.AlwaysBuild(node)
    return node


def generate(env, **kw):
    py = paths.VENV / "bin" / "python"
    env.SetDefault(
        GOXEN_PYTHON=str(py) if py.exists() else sys.executable,
        GOXEN_CONFIGS="#configs", GOXEN_APPDIR="#build",
        GOXEN_BASELINE_GOENV="GOOS=linux GOARCH=amd64 GOTOOLCHAIN=local CGO_ENABLED=0 "
                             "GOCACHE=$GOXEN_GOCACHE GOPATH=${GOXEN_TOOLCHAIN_DIR.dir.abspath}/gopath",
        GOXEN_BASELINECOM="cd $GOXEN_MODROOT && env $GOXEN_BASELINE_GOENV $GOXEN_GO build "
                          "-trimpath -o ${TARGET.abspath} $GOXEN_PACKAGE",
    )
    verbose = kw.get("verbose", False)
    env["BUILDERS"]["GoxenBedImagesBuild"] = SCons.Builder.Builder(
        action=SCons.Action.Action(_bed_images, None if verbose else "  BED     $TARGETS"))
    env["BUILDERS"]["GoxenBaselineGo"] = SCons.Builder.Builder(
        action=SCons.Action.Action("$GOXEN_BASELINECOM",
                                   None if verbose else "  GO      $TARGET (linux/amd64 $GOXEN_PACKAGE)"))
    env["BUILDERS"]["GoxenBaselineInitramfs"] = SCons.Builder.Builder(
        action=SCons.Action.Action(_baseline_initramfs, None if verbose else "  INITRD  $TARGET"))
    env["BUILDERS"]["GoxenBaselineXl"] = SCons.Builder.Builder(
        action=SCons.Action.Action(_baseline_xl, None if verbose else "  XL      $TARGET"))
    env.AddMethod(GoxenBedImages, "GoxenBedImages")
    env.AddMethod(GoxenBaseline, "GoxenBaseline")
    env.AddMethod(GoxenRun, "GoxenRun")


def exists(env):
    return True
