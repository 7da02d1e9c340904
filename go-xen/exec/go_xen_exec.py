"""go_xen_amd64_exec: run a GOOS=xen program (a `go test` binary, `go run`) on Xen.

cmd/go runs `go_$GOOS_$GOARCH_exec PROGRAM ARGS...` when it finds that program in PATH
while cross-compiling, and `go test -exec go_xen_exec` names it explicitly. The toolchain
build installs this file as build/toolchain/bin/go_xen_amd64_exec (and go_xen_exec) with a
first line that points at the project's venv Python and site_scons.

It boots PROGRAM as the dom0 of Xen in QEMU (goxen.xenrun, tier 2) with ARGS on the kernel
command line (after `--`, so no argument is taken for a kernel parameter) and, as the boot
module, a romfs image of what a test may read: the current directory's *.go files,
testdata/ and the names of its other subdirectories (empty) (go test runs in the package's
directory), and the files and directories outside it
that the package's Go files name as "../..." string literals (compress/flate reads
../testdata/e.txt and ../../testdata/Isaac.Newton-Opticks.txt, go/parser ../printer/nodes.go),
each at its absolute host path. The guest's syscall package mounts the image at / and starts in
the same directory (cwd= on the command line), so relative paths resolve as on the host. It
copies the guest's console to stdout (without Xen's own lines, the shim's boot line and the
final "exit status N" line, which becomes this command's exit status), and exits like a local
run would: the guest's status, 2 for a crash (as for a fatal Go panic), or the runner's code
for a timeout (124) or a broken test bed.

Environment: GOXEN_EXEC_MEM (dom0 MiB, default 1024; tests such as archive/zip's need more
than 500), GOXEN_EXEC_CPUS (the machine's CPUs and the dom0's vCPUs, default 1; the test's
runtime.NumCPU), GOXEN_EXEC_TIMEOUT (seconds, default 900), GOXEN_EXEC_VERBOSE=1 (also show
Xen's lines).
"""

import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from goxen import romfs, xenrun

#: dom0 memory (MiB) unless GOXEN_EXEC_MEM says otherwise.
DEFAULT_MEM = 1024
#: The most the "../" references may add to the image (bytes).
MAX_OUTSIDE = 64 << 20
_OUTSIDE = re.compile(r'"(\.\./[^"\\\n]*)"')
_STATUS = re.compile(r"^exit status -?\d+$")
_SHIM = re.compile(r"^xen: shim: ")


def outside_references(here, sources):
    """The existing files and directories outside here that sources name as "../..." string
    literals (resolved against here), within MAX_OUTSIDE bytes in all."""
    found, total = [], 0
    for src in sources:
        for lit in _OUTSIDE.findall(src.read_text(errors="replace")):
            p = (here / lit).resolve()
            if p in found or here in p.parents or p == here or not p.exists():
                continue
            size = sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) if p.is_dir() \
                else p.stat().st_size
            if total + size > MAX_OUTSIDE:
                print(f"go_xen_exec: {lit} left out of the image ({size} bytes; "
                      f"{MAX_OUTSIDE} in all)", file=sys.stderr)
                continue
            found.append(p)
            total += size
    return found


#: The guest's own top-level directories, which hide the image's entries of those names.
GUEST_DIRS = {"dev", "tmp"}


def guest_root(paths):
    """Where host paths go in the image: at their own absolute path, or under /host when one
    of them lies in a directory the guest keeps for itself (/tmp, /dev)."""
    if any(p.parts[1:2] and p.parts[1] in GUEST_DIRS for p in paths):
        return Path("/host")
    return Path("/")


def mirror(tree, root, here, sources, outside):
    """Copy sources, here/testdata and outside into tree, each at root + its absolute path."""
    def at(p):
        return tree / root.relative_to("/") / p.relative_to(p.anchor)
    at(here).mkdir(parents=True)
    for src in sources:
        shutil.copyfile(src, at(here) / src.name)
    # the package's subdirectories (subpackages) as empty directories, so that a listing of
    # the test's directory names them as on the host (os's TestReadDir looks for exec/)
    for sub in sorted(here.iterdir()):
        if sub.is_dir() and sub.name != "testdata" and not sub.name.startswith("."):
            at(sub).mkdir(exist_ok=True)
    for p in ([here / "testdata"] if (here / "testdata").is_dir() else []) + outside:
        if p.is_dir():
            shutil.copytree(p, at(p), symlinks=False, dirs_exist_ok=True)
        else:
            at(p).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, at(p))


def main(argv):
    if len(argv) < 2:
        print("usage: go_xen_exec PROGRAM [ARGS...]", file=sys.stderr)
        return 2
    program, args = argv[1], argv[2:]
    mem = int(os.environ.get("GOXEN_EXEC_MEM", str(DEFAULT_MEM)))
    timeout = float(os.environ.get("GOXEN_EXEC_TIMEOUT", "900"))
    cpus = int(os.environ.get("GOXEN_EXEC_CPUS", "1"))
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
        here, root = Path.cwd().resolve(), Path("/")
        sources = sorted(here.glob("*.go"))
        if (here / "testdata").is_dir() or sources:
            image = Path(tmp) / "testdata.romfs"
            try:
                # A copy (links followed): the image stores no symbolic links.
                tree = Path(tmp) / "tree"
                outside = outside_references(here, sources)
                root = guest_root([here, *outside])
                mirror(tree, root, here, sources, outside)
                romfs.pack(tree, image)
                modules.append(image)
            except Exception as e:  # an unpackable testdata/ should not stop the tests
                print(f"go_xen_exec: testdata/ not passed to the guest: {e}", file=sys.stderr)
        cwd = str(root / here.relative_to(here.anchor))
        if modules and any(c.isspace() for c in cwd):
            # the command line splits at white space: the guest could not be told this cwd
            print(f"go_xen_exec: cannot run in {cwd!r}: a path with white space cannot be the "
                  "guest's cwd= (move the package to a path without spaces)", file=sys.stderr)
            return 2
        words = [f"cwd={cwd}"] if modules else []
        args = [*words, "--", *args]
        try:
            qemu_cpus, xen_cpus = xenrun.cpus_args(cpus)
            result = xenrun.run_kernel(program, args, mem, timeout, on_line=echo, modules=modules,
                                       extra_qemu_args=qemu_cpus, extra_xen_args=xen_cpus)
        except xenrun.XenRunError as e:
            print(f"go_xen_exec: {e}", file=sys.stderr)
            return 126
    if result.outcome is not xenrun.Outcome.EXIT:
        print(f"go_xen_exec: {result.summary()}", file=sys.stderr)
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
