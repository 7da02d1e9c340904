"""SCons tool `goxen`: loads every go-xen tool (appconfig, shim, toolchain, romfs, image, testbed).

From another project:
    env = Environment(tools=[])
    env.Tool('goxen', toolpath=['/path/to/go-xen/site_scons/site_tools'], verbose=False)
    shim = env.GoxenShim()
    toolchain = env.GoxenToolchain(shim=shim)
    env.Default(env.GoxenApp('configs/myapp.yaml', toolchain=toolchain))

Keyword arguments are handed to every sub-tool (`verbose=True` shows full command lines).
"""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_SITE = _HERE.parent

# SCons registers a tool module in sys.modules under the tool's name, so while this tool is
# loaded, sys.modules['goxen'] is this module and not the site_scons/goxen package. Giving it the
# package's __path__ keeps `import goxen.<module>` working for everyone either way.
__path__ = [str(_SITE / "goxen")]
if str(_SITE) not in sys.path:
    sys.path.insert(0, str(_SITE))

TOOLS = ["goxen_appconfig", "goxen_shim", "goxen_toolchain", "goxen_romfs", "goxen_image",
         "goxen_testbed"]


def generate(env, **kw):
    for name in TOOLS:
        env.Tool(name, toolpath=[str(_HERE)], **kw)


def exists(env):
    return True
