"""The Go std compatibility suite: std packages' own tests run inside Xen.

    python -m goxen.gotest [--toolchain DIR] [--quick] [--jobs N] [--out FILE] [PKG...]

Each package's test binary is built for GOOS=xen with the project's toolchain and run by
`go test -exec go_xen_amd64_exec` (go-xen/exec/go_xen_exec.py), which boots it as Xen's dom0
in QEMU with the package's testdata/ as a romfs boot module. Tests that need what a unikernel does not have skip themselves (internal/testenv
reports no exec, no writable files, no signals on xen); a whole package that cannot run is
listed in SKIP with its reason and never counted as a pass. One line per package, then
"N passed, N failed" (and skipped), and the table in build/gotest/results.txt.
"""

import argparse
import concurrent.futures
import os
import subprocess
import sys
import time
from pathlib import Path

from goxen import paths

#: The fixed list (issue 3): std packages whose tests make sense in a unikernel.
PACKAGES = [
    "bufio", "bytes", "compress/flate", "compress/gzip", "container/heap", "container/list",
    "container/ring", "context", "crypto/aes", "crypto/cipher", "crypto/ecdsa",
    "crypto/ed25519", "crypto/hmac", "crypto/sha256", "crypto/sha512", "encoding/base64",
    "encoding/binary", "encoding/hex", "encoding/json", "errors", "fmt", "hash/crc32",
    "html/template", "io", "maps", "math", "math/big", "math/bits", "net/netip", "path",
    "regexp", "slices", "sort", "strconv", "strings", "sync", "sync/atomic",
    "text/template", "time", "unicode/utf8", "unicode/utf16", "hash/fnv", "encoding/csv",
    "math/rand/v2",
    # read files outside their package directory (../testdata, ../printer/nodes.go), need more
    # than 1 GiB of real pages, or take CPU profiles: go_xen_exec and the runtime give them that
    "compress/zlib", "go/parser", "image/png", "runtime/pprof",
    # the file layer (romfs at /, tmpfs at /tmp, the generated /etc) and os/user over /etc
    "os", "os/user",
    # the runtime's own tests in -short mode: the scheduler, preemption (TestPreemption,
    # TestPreemptionGC), GC, maps, channels, stacks; those that build test programs with the
    # go command skip themselves
    "runtime",
    # net over the loopback (-short): netstack's TCP and UDP, deadlines, close semantics,
    # Control hooks, the resolver over /etc/hosts; unix sockets, raw IP, IPv6 and File()
    # skip themselves as unsupported
    "net",
]

#: The fast subset that `./scons test` runs.
QUICK = ["container/list", "unicode/utf8", "errors"]

#: Whole packages that cannot run here, with the reason (none at the moment).
SKIP = {}

#: Per-package `go test -skip` patterns for single tests that need what xen lacks.
SKIP_TESTS = {
    # TestLoadLocationFromTZData reads $GOROOT/lib/time/zoneinfo.zip, a host file the guest
    # does not have; TestLongAdjustTimers gives itself 60 s of wall clock for work that takes
    # longer under QEMU's instruction emulation (TCG).
    "time": "TestLoadLocationFromTZData|TestLongAdjustTimers",
    # A non-blocking pipe with a read deadline needs a poller for descriptors; on xen only
    # sockets have one (netstack's), so SetNonblock on a pipe reports ENOSYS.
    "os": "TestNewFileNonBlock",
    # Allocation counts per Read/Write: netstack's path still allocates per packet; zero
    # allocations on the steady path is issue 17's.
    "net": "TestTCPReadWriteAllocs|TestAllocs",
}


#: Extra `go test` flags per package.
PKG_FLAGS = {
    # The CPU-profile tests (the profiler on the thread layer); the rest of runtime/pprof
    # builds test programs with the go command, which a guest does not have.
    "runtime/pprof": ["-short", "-run", "TestCPUProfile|TestMathBigDivide"],
    "runtime": ["-short"],
    "net": ["-short"],
}

#: dom0 memory (MiB, GOXEN_EXEC_MEM) for packages whose tests need more than go_xen_exec's
#: default. Linux backs a large allocation lazily and a test may never touch most of it; a
#: Xen domain has real pages for all of its memory (image/png's tests need 1.3 GiB).
PKG_MEM = {"image/png": 3072, "archive/zip": 3072, "encoding/xml": 3072}


def run_package(go, pkg, env, timeout):
    """Run one package's tests; return (pkg, verdict, seconds, detail)."""
    if pkg in SKIP:
        return pkg, "skipped", 0.0, SKIP[pkg]
    cmd = [go, "test", "-count=1", "-exec", "go_xen_amd64_exec", "-timeout", f"{int(timeout)}s"]
    cmd += PKG_FLAGS.get(pkg, [])
    if pkg in SKIP_TESTS:
        cmd += ["-skip", SKIP_TESTS[pkg]]
    cmd.append(pkg)
    if pkg in PKG_MEM:
        env = dict(env, GOXEN_EXEC_MEM=str(PKG_MEM[pkg]))
    t = time.monotonic()
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout + 120)
        out = proc.stdout + proc.stderr
        rc = proc.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        rc = -1
    secs = time.monotonic() - t
    if rc == 0:
        return pkg, "ok", secs, ""
    lines = [l for l in out.splitlines() if l.strip()]
    detail = " | ".join(lines[-6:]) if lines else f"exit {rc}"
    return pkg, "FAIL", secs, detail


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--toolchain", type=Path,
                    default=Path(os.environ.get("GOXEN_TOOLCHAIN") or paths.BUILD / "toolchain"))
    ap.add_argument("--quick", action="store_true", help="only the fast subset")
    ap.add_argument("--jobs", type=int, default=2, help="packages run at once (one QEMU each)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per package")
    ap.add_argument("--out", type=Path, default=paths.BUILD / "gotest" / "results.txt")
    ap.add_argument("packages", nargs="*")
    args = ap.parse_args(argv)

    args.toolchain = args.toolchain.resolve()  # PATH entries must be absolute for cmd/go
    go = args.toolchain / "bin" / "go"
    if not go.exists():
        print(f"gotest: no toolchain at {args.toolchain} (run ./scons toolchain)", file=sys.stderr)
        return 2
    if not (args.toolchain / "bin" / "go_xen_amd64_exec").exists():
        print(f"gotest: {args.toolchain}/bin/go_xen_amd64_exec missing: rebuild the toolchain",
              file=sys.stderr)
        return 2
    pkgs = args.packages or (QUICK if args.quick else PACKAGES)
    env = dict(os.environ, GOOS="xen", GOARCH="amd64", GOTOOLCHAIN="local", CGO_ENABLED="0",
               PATH=f"{args.toolchain / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("GOROOT", None)
    env.pop("GOFLAGS", None)

    print(f"gotest: {len(pkgs)} std packages on Xen, {args.jobs} at a time", flush=True)
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futs = [pool.submit(run_package, str(go), p, env, args.timeout) for p in pkgs]
        for f in concurrent.futures.as_completed(futs):
            pkg, verdict, secs, detail = f.result()
            results[pkg] = (verdict, secs, detail)
            extra = f"  ({detail})" if detail else ""
            print(f"{verdict:7s} {pkg:20s} {secs:6.1f}s{extra}", flush=True)

    rows = [f"{results[p][0]:7s} {p:20s} {results[p][1]:6.1f}s  {results[p][2]}".rstrip()
            for p in pkgs]
    passed = sum(1 for p in pkgs if results[p][0] == "ok")
    failed = sum(1 for p in pkgs if results[p][0] == "FAIL")
    skipped = sum(1 for p in pkgs if results[p][0] == "skipped")
    summary = f"{passed} passed, {failed} failed, {skipped} skipped"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        f"# std packages' tests on GOOS=xen ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n"
        + "\n".join(rows) + "\n" + summary + "\n")
    print(summary)
    print(f"gotest: table in {args.out}")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
