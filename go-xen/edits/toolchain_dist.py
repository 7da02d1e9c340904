"""xen/amd64 as a valid GOOS/GOARCH pair for cmd/dist and cmd/go; no cgo.

internal/platform/zosarch.go is generated from cmd/dist's tables by
`go generate internal/platform` (which runs `go tool dist list -json -broken`); the two
zosarch edits below write exactly what that generator would add, so the build does not need
a working cmd/dist before it can build cmd/dist.
"""

EDITS = [
    ("src/cmd/dist/build.go",
     '\t"wasip1",\n\t"linux",\n',
     '\t"wasip1",\n\t"xen",\n\t"linux",\n'),
    ("src/cmd/dist/build.go",
     '\t"windows/arm64":   true,\n}',
     '\t"windows/arm64":   true,\n\t"xen/amd64":       false,\n}'),
    ("src/internal/platform/zosarch.go",
     '\t{"windows", "arm64"},\n}',
     '\t{"windows", "arm64"},\n\t{"xen", "amd64"},\n}'),
    ("src/internal/platform/zosarch.go",
     '\t{"windows", "arm64"}:   {CgoSupported: true},\n}',
     '\t{"windows", "arm64"}:   {CgoSupported: true},\n\t{"xen", "amd64"}:       {},\n}'),
    # The toolchain is used as it is built: never switch to a downloaded Go release.
    ("go.env", "GOTOOLCHAIN=auto\n", "GOTOOLCHAIN=local\n"),
]
