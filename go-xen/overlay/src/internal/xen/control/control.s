// The runtime pushes this package's bodyless functions in with go:linkname
// (runtime/sigqueue_xen.go). This file keeps the go command from passing -complete.
