"""os/signal on xen (format: go-xen/apply.py).

Xen delivers no signals, so os/signal on xen starts no goroutine to receive them
(overlay os/signal/signal_xen.go leaves watchSignalLoop nil). Stop must then not wait
for that goroutine to reach the runtime's receive state: it never will. With no
receive loop no delivery can be under way, so skipping the wait is exact; on every
other port watchSignalLoop is set in init and nothing changes.
"""

EDITS = [
    ("src/os/signal/signal.go",
     "\thandlers.Unlock()\n\n\tsignalWaitUntilIdle()\n\n\thandlers.Lock()\n",
     "\thandlers.Unlock()\n\n"
     "\tif watchSignalLoop != nil { // nil on xen: no receive loop, no delivery in flight\n"
     "\t\tsignalWaitUntilIdle()\n\t}\n\n\thandlers.Lock()\n"),
]
