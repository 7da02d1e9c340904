"""SCons tool `goxen_appconfig`: configs/NAME.yaml -> the targets of one application.

    env.GoxenApp('hello', toolchain=tc)        # or a path: env.GoxenApp('x/y/app.yaml', ...)
        -> [build/hello/hello.xen, build/hello/hello.xl]
    env.GoxenApps()                            # names configured in $GOXEN_CONFIGS
    env.GoxenUsage()                           # one paragraph listing the apps

The YAML schema and its validation live in goxen.appconfig (documented in configs/README.md); a
bad or missing config stops the build (before anything runs) with the file, the key and the reason.

With `romfs: DIR` the app also gets build/NAME/romfs.img (env.GoxenRomfs) and
build/NAME/romfs-overlay/overlay.json (goxen.romfs.embed_overlay), which `go build -overlay`
uses to link the image into the kernel; the kernel depends on both.
"""

import os
import sys
from pathlib import Path

_SITE = Path(__file__).resolve().parents[1]
if str(_SITE) not in sys.path:
    sys.path.insert(0, str(_SITE))

import SCons.Action
import SCons.Script

from goxen import appconfig, romfs


def _configs_dir(env):
    return os.path.relpath(env.Dir("$GOXEN_CONFIGS").abspath)


def GoxenApps(env):
    return appconfig.list_apps(_configs_dir(env))


def GoxenUsage(env):
    apps = GoxenApps(env)
    listing = "\n".join(f"    {a}" for a in apps) or "    (none)"
    return (f"Build an application with: ./scons app=NAME   (or app=path/to/config.yaml)\n"
            f"Applications in {_configs_dir(env)}/:\n{listing}\n"
            "Other targets:\n"
            "    test                 every test tier (host, Xen as dom0, the full Xen bed)\n"
            "    toolchain            build/toolchain, the GOOS=xen Go toolchain\n"
            "    run app=NAME         boot the app as a domU on the test bed (Ctrl-C ends)\n"
            "    baseline app=NAME    the app built as a Linux PV domU (initramfs + xl config)\n"
            "    run-baseline app=NAME  boot that Linux baseline on the test bed\n"
            "    bench                unikernels against their Linux baselines (build/bench)\n"
            "    gotest               the std packages' own tests inside Xen (build/gotest)\n"
            "    soak                 long TCP runs under faults, left out of test\n"
            "    fuzz                 every Go fuzz target (GOXEN_FUZZTIME each, default 60s)\n"
            "    testbed, shim        the test bed's dom0 images; the boot shim object\n"
            "Variables: ./scons --help")


def GoxenApp(env, app, toolchain=None):
    """Declare kernel and xl config for app (a name in $GOXEN_CONFIGS or a YAML path)."""
    top = env.Dir("#").abspath
    try:
        path = appconfig.find(app, _configs_dir(env))
        cfg = appconfig.load(path, top=top)
    except appconfig.AppConfigError as e:
        print(f"scons: *** {e}", file=sys.stderr)
        SCons.Script.Exit(2)
    outdir = env.Dir("$GOXEN_APPDIR").Dir(cfg.name)
    overlay = None
    if cfg.romfs:
        img = env.GoxenRomfs(outdir.File("romfs.img"), env.Dir(str(cfg.romfs_dir)))
        overlay = env.Command(outdir.Dir("romfs-overlay").File("overlay.json"),
                              [img, env.Value(str(cfg.package_dir))],
                              SCons.Action.Action(_write_overlay, "$GOXEN_OVERLAYCOMSTR"),
                              GOXEN_OVERLAY_PKG=str(cfg.package_dir))
    kernel = env.GoxenImage(outdir.File(cfg.name + ".xen"), cfg.package, toolchain=toolchain,
                            root=cfg.root, overlay=overlay)
    if cfg.romfs:
        env.Depends(kernel, img)
    xl = env.GoxenXl(outdir.File(cfg.name + ".xl"), kernel, name=cfg.name,
                     memory_mib=cfg.memory_mib, cmdline=cfg.cmdline, config=str(path),
                     vcpus=cfg.vcpus, vif=cfg.vif_line(), xl=cfg.xl, guest_type=cfg.mode)
    return kernel + xl


def _write_overlay(target, source, env):
    out = Path(target[0].abspath)
    written = romfs.embed_overlay(source[0].abspath, env["GOXEN_OVERLAY_PKG"], out.parent)
    if written != out:
        print(f"goxen_appconfig: embed_overlay wrote {written}, expected {out}", file=sys.stderr)
        return 1
    return 0


def generate(env, **kw):
    env.SetDefault(GOXEN_CONFIGS="#configs", GOXEN_APPDIR="#build")
    if not kw.get("verbose", False):
        env.SetDefault(GOXEN_OVERLAYCOMSTR="  OVERLAY $TARGET")
    env.AddMethod(GoxenApp, "GoxenApp")
    env.AddMethod(GoxenApps, "GoxenApps")
    env.AddMethod(GoxenUsage, "GoxenUsage")


def exists(env):
    return True
