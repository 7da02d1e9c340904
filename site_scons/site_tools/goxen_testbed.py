"""SCons tool `goxen_testbed`: the `test` target, i.e. every pytest tier.

    env.GoxenTest(toolchain, alias='test')
    env.GoxenSoak(toolchain, alias='soak')

runs $GOXEN_TESTCOM (`$GOXEN_PYTHON -m pytest -v tests/` in $GOXEN_SRC) every time it is asked
for (AlwaysBuild), after the toolchain (and so the shim) is built, with GOXEN_TOOLCHAIN set to
the toolchain's absolute path and the rest of the caller's environment passed through. A pytest
failure fails the build.
"""

import os
import subprocess
import sys
from pathlib import Path

_SITE = Path(__file__).resolve().parents[1]
if str(_SITE) not in sys.path:
    sys.path.insert(0, str(_SITE))

import SCons.Action

from goxen import paths


def _run_tests(target, source, env):
    cmd = env.subst(env.get("GOXEN_PYTEST_COM", "$GOXEN_TESTCOM"), target=target, source=source)
    test_env = dict(os.environ, GOXEN_TOOLCHAIN=env.subst("${GOXEN_TOOLCHAIN_DIR.abspath}"))
    rc = subprocess.call(cmd, shell=True, cwd=env.subst("$GOXEN_SRC"), env=test_env)
    if rc != 0:
        print(f"goxen_testbed: tests failed (pytest exit {rc})", file=sys.stderr)
    return rc


def _test_str(target, source, env):
    if env.get("GOXEN_TESTCOMSTR"):
        return "  " + env.subst("$GOXEN_TESTCOMSTR", target=target, source=source)
    return env.subst("GOXEN_TOOLCHAIN=${GOXEN_TOOLCHAIN_DIR.abspath} " + env.get("GOXEN_PYTEST_COM", "$GOXEN_TESTCOM"))


def GoxenTest(env, toolchain, alias="test"):
    node = env.Alias(alias, toolchain, SCons.Action.Action(_run_tests, strfunction=_test_str,
                                                            varlist=["GOXEN_TESTCOM"]))
    env.AlwaysBuild(node)
    return node


def GoxenSoak(env, toolchain=None, alias="soak"):
    """The long runs (tests marked soak), left out of `test`: 100 MB TCP transfers under
    faults on the host TAP, and with a toolchain kvstore soaked on the tier-3 bed for
    GOXEN_SOAK_MINUTES (30) minutes (build/soak/)."""
    soak = env.Clone(GOXEN_PYTEST_COM="$GOXEN_SOAKCOM")
    if soak.get("GOXEN_TESTCOMSTR"):
        soak["GOXEN_TESTCOMSTR"] = "PYTEST  -m soak $GOXEN_SOAK_TESTS"
    node = soak.Alias(alias, [toolchain] if toolchain is not None else [],
                      SCons.Action.Action(_run_tests, strfunction=_test_str,
                                          varlist=["GOXEN_SOAKCOM"]))
    soak.AlwaysBuild(node)
    return node


def _run_gotest(target, source, env):
    cmd = env.subst("$GOXEN_GOTESTCOM", target=target, source=source)
    test_env = dict(os.environ, GOXEN_TOOLCHAIN=env.subst("${GOXEN_TOOLCHAIN_DIR.abspath}"),
                    PYTHONPATH=str(paths.REPO / "site_scons"))
    return subprocess.call(cmd, shell=True, cwd=env.subst("$GOXEN_SRC"), env=test_env)


def GoxenGotest(env, toolchain, alias="gotest"):
    """The std compatibility suite (goxen.gotest): std packages' own tests inside Xen."""
    node = env.Alias(alias, toolchain, SCons.Action.Action(
        _run_gotest, strfunction=lambda target, source, env: "  GOTEST  std packages on Xen",
        varlist=["GOXEN_GOTESTCOM"]))
    env.AlwaysBuild(node)
    return node


def _run_fuzz(target, source, env):
    cmd = env.subst("$GOXEN_FUZZCOM", target=target, source=source)
    return subprocess.call(cmd, shell=True, cwd=env.subst("$GOXEN_SRC"),
                           env=dict(os.environ, PYTHONPATH=str(paths.REPO / "site_scons")))


def GoxenFuzz(env, alias="fuzz"):
    """The Go fuzz targets (goxen.fuzz), each for $GOXEN_FUZZTIME (60s), corpus in build/fuzz."""
    node = env.Alias(alias, [], SCons.Action.Action(
        _run_fuzz, strfunction=lambda target, source, env: "  FUZZ    the Go fuzz targets",
        varlist=["GOXEN_FUZZCOM"]))
    env.AlwaysBuild(node)
    return node


def generate(env, **kw):
    py = paths.VENV / "bin" / "python"
    env.SetDefault(
        GOXEN_SRC=str(paths.REPO),
        GOXEN_PYTHON=str(py) if py.exists() else sys.executable,
        GOXEN_TESTS=["tests/"],
        GOXEN_PYTEST_FLAGS=["-v"],
        GOXEN_TESTCOM="$GOXEN_PYTHON -m pytest $GOXEN_PYTEST_FLAGS $GOXEN_TESTS",
        GOXEN_GOTESTCOM="$GOXEN_PYTHON -m goxen.gotest",
        GOXEN_FUZZCOM="$GOXEN_PYTHON -m goxen.fuzz",
        GOXEN_SOAK_TESTS=["tests/host/", "tests/xen3/"],
        GOXEN_SOAKCOM="$GOXEN_PYTHON -m pytest $GOXEN_PYTEST_FLAGS -s -m soak $GOXEN_SOAK_TESTS",
    )
    if not kw.get("verbose", False):
        env.SetDefault(GOXEN_TESTCOMSTR="  PYTEST  $GOXEN_TESTS")
    env.AddMethod(GoxenTest, "GoxenTest")
    env.AddMethod(GoxenGotest, "GoxenGotest")
    env.AddMethod(GoxenSoak, "GoxenSoak")
    env.AddMethod(GoxenFuzz, "GoxenFuzz")


def exists(env):
    return True
