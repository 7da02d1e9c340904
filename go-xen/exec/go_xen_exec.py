"""go_xen_amd64_exec: run a GOOS=xen program (a `go test` binary, `go run`) on Xen.

cmd/go runs `go_$GOOS_$GOARCH_exec PROGRAM ARGS...` when it finds that program in PATH
while cross-compiling, and `go test -exec go_xen_exec` names it explicitly. The toolchain
build installs this file as build/toolchain/bin/go_xen_amd64_exec (and go_xen_exec) with a
first line that points at the project's venv Python and site_scons.

It boots PROGRAM as the dom0 of Xen in QEMU (goxen.xenrun, tier 2) with ARGS on the kernel
command line and a romfs image of the current directory's testdata/ and *.go files (go test
runs in the package's directory) as the boot module, which the guest's syscall
package mounts at / (so the test's relative paths testdata/... resolve, the guest's working
directory being /), copies the guest's console to stdout (without Xen's own lines, the shim's boot
line and the final "exit status N" line, which becomes this command's exit status), and
exits like a local run would: the guest's status, 2 for a crash (as for a fatal Go panic),
or the runner's code for a timeout (124) or a broken test bed.

Environment: GOXEN_EXEC_MEM (dom0 MiB, default 512), GOXEN_EXEC_TIMEOUT (seconds,
default 900), GOXEN_EXEC_VERBOSE=1 (also show Xen's lines).
"""

import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from goxen import romfs, xenrun

_STATUS = re.compile(r"^exit status -?\d+$")
_SHIM = re.compile(r"^xen: shim: ")


def main(argv):
    if len(argv) < 2:
        print("usage: go_xen_exec PROGRAM [ARGS...]", file=sys.stderr)
        return 2
    program, args = argv[1], argv[2:]
    mem = int(os.environ.get("GOXEN_EXEC_MEM", "512"))
    timeout = float(os.environ.get("GOXEN_EXEC_TIMEOUT", "900"))
    verbose = os.environ.get("GOXEN_EXEC_VERBOSE") == "1"

    def echo(line):
        text = line.text
        if line.from_xen:
            if verbose:
                print(text, file=sys.stderr, flush=True)
            return
        if _SHIM.match(text) or _STATUS.match(text):
            return
        print(text, flush=True)

    with tempfile.TemporaryDirectory(prefix="go_xen_exec-") as tmp:
        modules = []
        sources = sorted(Path(".").glob("*.go"))
        if Path("testdata").is_dir() or sources:
            tree = Path(tmp) / "tree"
            image = Path(tmp) / "testdata.romfs"
            try:
                # A copy (links followed): the image stores no symbolic links. Some tests
                # also read their package's own source files.
                tree.mkdir()
                for src in sources:
                    shutil.copyfile(src, tree / src.name)
                if Path("testdata").is_dir():
                    shutil.copytree("testdata", tree / "testdata", symlinks=False)
                romfs.pack(tree, image)
                modules.append(image)
            except Exception as e:  # an unpackable testdata/ should not stop the tests
                print(f"go_xen_exec: testdata/ not passed to the guest: {e}", file=sys.stderr)
        try:
            result = xenrun.run_kernel(program, args, mem, timeout, on_line=echo, modules=modules)
        except xenrun.XenRunError as e:
            print(f"go_xen_exec: {e}", file=sys.stderr)
            return 126
    if result.outcome is not xenrun.Outcome.EXIT:
        print(f"go_xen_exec: {result.summary()}", file=sys.stderr)
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
