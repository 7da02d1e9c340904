"""The runtime's and the drivers' Xen constants and offsets are generated from Xen's own
headers."""

import subprocess
import sys

from goxen import debian


def test_generated_xen_abi_matches_headers(repo):
    include = debian.xen_include()
    r = subprocess.run(
        [sys.executable, str(repo / "go-xen/gen/xenabi.py"), "--include", str(include), "--check"],
        capture_output=True, text=True)
    assert r.returncode == 0, (
        "go-xen/overlay/src/runtime/zxenabi_xen_amd64.go or "
        "go-xen/overlay/src/internal/xen/zabi_xen_amd64.go is stale; run "
        "go-xen/gen/xenabi.py --include " + str(include) + "\n" + r.stdout + r.stderr)
