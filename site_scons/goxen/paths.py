"""Fixed locations in the repository, shared by the SCons tools, the test bed and the tests.

Everything is derived from this file's own location, so the package works from any current
directory and from another project's SConstruct that loads our tools.
"""

from pathlib import Path

#: Top of the repository (the directory holding SConstruct and the `scons` wrapper).
REPO = Path(__file__).resolve().parents[2]
#: All build outputs (gitignored).
BUILD = REPO / "build"
#: Downloaded parts: Debian packages and their extracted trees (gitignored).
CACHE = REPO / ".cache"
#: The project's Python virtual environment, created by ./scons.
VENV = REPO / ".venv"
#: GOROOT of the GOOS=xen toolchain.
TOOLCHAIN = BUILD / "toolchain"
#: The boot shim object linked into every image.
SHIM_OBJ = BUILD / "shim" / "shim_xen_amd64.o"
#: Per-application YAML files.
CONFIGS = REPO / "configs"
