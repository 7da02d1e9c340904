"""FIPS 140-3 mode is not offered on xen, as on wasm (format: go-xen/apply.py).

Its CPU-jitter entropy source keeps a 32 MiB scratch buffer in .noptrbss
(crypto/internal/fips140/drbg.memory). Linux backs BSS lazily, at first touch; Xen's domain
builder backs the whole image with real pages at load time, so every program that imports
crypto (net/http included) would need 32 MiB more memory for a buffer it never uses. Go
leaves the buffer out on wasm for the same reason and refuses FIPS mode there; xen does the
same: GODEBUG=fips140=on fails at start with "FIPS 140-3 mode is not supported on xen-amd64",
and overlay crypto/internal/fips140/drbg/entropy_xen.go stands in for the entropy source.
"""

EDITS = [
    ("src/crypto/internal/fips140/drbg/entropy_fips140.go",
     "//go:build !wasm\n",
     "//go:build !wasm && !xen\n"),
    ("src/crypto/internal/fips140/fips140.go",
     '\tcase runtime.GOARCH == "wasm",\n',
     '\tcase runtime.GOARCH == "wasm",\n'
     '\t\truntime.GOOS == "xen", // the entropy source\'s 32 MiB BSS buffer (go-xen edits/std_fips.py)\n'),
]
