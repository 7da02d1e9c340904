"""os/signal on xen (format: go-xen/apply.py).

os/signal's Unix receive side (signal_unix.go: a goroutine looping on the runtime's
signal_recv) serves xen unchanged: the runtime parks that goroutine instead of blocking
the only M (runtime/sigqueue_xen.go). What xen delivers is documented in
overlay os/signal/signal_xen.go.
"""

EDITS = [
    ("src/os/signal/signal_unix.go",
     "//go:build unix || (js && wasm) || wasip1 || windows\n",
     "//go:build unix || (js && wasm) || wasip1 || windows || xen\n"),
]
