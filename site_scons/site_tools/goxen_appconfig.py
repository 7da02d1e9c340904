"""SCons tool `goxen_appconfig`: configs/NAME.yaml -> the targets of one application.

    env.GoxenApp('hello', toolchain=tc)        # or a path: env.GoxenApp('x/y/app.yaml', ...)
        -> [build/hello/hello.xen, build/hello/hello.xl]
    env.GoxenApps()                            # names configured in $GOXEN_CONFIGS
    env.GoxenUsage()                           # one paragraph listing the apps

The YAML schema and its validation live in goxen.appconfig; a bad or missing config stops the
build (before anything runs) with the file, the key and the reason.
"""

import os
import sys
from pathlib import Path

_SITE = Path(__file__).resolve().parents[1]
if str(_SITE) not in sys.path:
    sys.path.insert(0, str(_SITE))

import SCons.Script

from goxen import appconfig


def _configs_dir(env):
    return os.path.relpath(env.Dir("$GOXEN_CONFIGS").abspath)


def GoxenApps(env):
    return appconfig.list_apps(_configs_dir(env))


def GoxenUsage(env):
    apps = GoxenApps(env)
    listing = "\n".join(f"    {a}" for a in apps) or "    (none)"
    return (f"Build an application with: ./scons app=NAME   (or app=path/to/config.yaml)\n"
            f"Applications in {_configs_dir(env)}/:\n{listing}\n"
            "Other targets: toolchain, test. Variables: ./scons --help")


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
    kernel = env.GoxenImage(outdir.File(cfg.name + ".xen"), cfg.package, toolchain=toolchain)
    xl = env.GoxenXl(outdir.File(cfg.name + ".xl"), kernel, name=cfg.name,
                     memory_mib=cfg.memory_mib, cmdline=cfg.cmdline, config=str(path))
    return kernel + xl


def generate(env, **kw):
    env.SetDefault(GOXEN_CONFIGS="#configs", GOXEN_APPDIR="#build")
    env.AddMethod(GoxenApp, "GoxenApp")
    env.AddMethod(GoxenApps, "GoxenApps")
    env.AddMethod(GoxenUsage, "GoxenUsage")


def exists(env):
    return True
