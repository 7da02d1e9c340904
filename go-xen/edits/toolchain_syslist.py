"""GOOS=xen in the OS name tables: go/build, cmd/go and internal/goos read KnownOS.

xen is not a Unix: it stays out of UnixOS, so the "unix" build tag does not match it.
build.py regenerates src/internal/goos/zgoos_*.go (go generate) after this edit.
"""

EDITS = [
    ("src/internal/syslist/syslist.go",
     '\t"windows":   true,\n\t"zos":       true,\n}',
     '\t"windows":   true,\n\t"xen":       true,\n\t"zos":       true,\n}'),
]
