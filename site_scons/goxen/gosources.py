"""The source files of a Go main package, for build dependencies (SCons scanners).

    go_sources(root, package) -> [Path, ...]

root is the module root (the directory `go build` runs in, with go.mod); package is the path
given to `go build` (".", "./", "./cmd/x"). The files are every .go file under the package's
directory, walked as the go command walks a module: directories named testdata or starting
with "." or "_" are skipped, and so is any directory holding its own go.mod (another module);
only regular files count (a directory named x.go is not a file). The module's go.mod and go.sum
come last. A package importing code of its module outside its own directory still rebuilds
through SCons's signature of the go command's output; this list makes the common case exact.
"""

import os
from pathlib import Path


def go_sources(root, package):
    root = Path(root).resolve()
    pkg = (root / package).resolve()
    files = []
    if pkg.is_dir():
        for d, dirs, names in os.walk(pkg):
            here = Path(d)
            dirs[:] = sorted(n for n in dirs
                             if not n.startswith((".", "_")) and n != "testdata"
                             and not (here / n / "go.mod").is_file())
            files += [here / n for n in sorted(names)
                      if n.endswith(".go") and (here / n).is_file()]
    files += [p for p in (root / "go.mod", root / "go.sum") if p.is_file()]
    return files
