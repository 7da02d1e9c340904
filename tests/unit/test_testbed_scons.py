"""The SConstruct wiring of the tier-3 targets (dry runs: nothing is built)."""

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCONS = REPO / ".venv" / "bin" / "scons"

pytestmark = pytest.mark.skipif(not SCONS.exists(), reason=".venv/bin/scons missing (./scons)")


def _scons(*args):
    return subprocess.run([str(SCONS), "-Q", "-n", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300)


def test_baseline_and_run_targets_of_an_app():
    # --tree lists the dependency graph whether or not the targets are up to date.
    proc = _scons("--tree=prune", "baseline", "run", "run-baseline", "app=hello")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    for piece in ("+-baseline", "+-build/hello/baseline/hello.cpio.gz",
                  "+-build/hello/baseline/hello-linux.xl", "+-run", "+-run-baseline",
                  "+-build/hello/hello.xl", "+-build/testbed/vmlinux",
                  "+-build/testbed/dom0.cpio.gz", "+-site_scons/goxen/dom0/init"):
        assert piece in out, out


def test_run_without_app_is_refused():
    proc = _scons("run")
    assert proc.returncode == 2
    assert "need app=NAME" in proc.stdout
