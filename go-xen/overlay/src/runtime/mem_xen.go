// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Memory on xen: the shim maps every page of the domain at boot, so the heap is the
// range [xen_boot.heap_start, xen_boot.heap_end) and grows over it sbrk-style through
// mem_sbrk.go (as on plan9 and wasm). Running past the end is a clear fatal error.

package runtime

import "unsafe"

var xenHeapEnd uintptr // end of the mapped pages (exclusive)

// xenHeapZeroed is the high-water mark of pages sbrk has cleared: Xen does not
// promise that a new domain's pages are zero, and the heap relies on it.
var xenHeapZeroed uintptr

func memInit() {
	initBloc()
	start := uintptr(xenBootU64(_xen_boot_heap_start))
	xenHeapEnd = uintptr(xenBootU64(_xen_boot_heap_end))
	if start < bloc || xenHeapEnd <= start {
		print("xen: bad heap range ", hex(start), "-", hex(xenHeapEnd), " (image ends at ", hex(bloc), ")\n")
		throw("memInit")
	}
	bloc = start
	blocMax = start
	xenHeapZeroed = start
}

// sbrk grows the break by n bytes and returns the old break, or nil when the domain
// has no more memory.
func sbrk(n uintptr) unsafe.Pointer {
	bl := bloc
	n = memRound(n)
	if bl+n > xenHeapEnd || bl+n < bl {
		print("xen: out of memory: heap needs ", (bl+n-xenBootHeapStart())>>20, " MiB, domain has ",
			(xenHeapEnd-xenBootHeapStart())>>20, " MiB\n")
		return nil
	}
	if bl+n > xenHeapZeroed {
		memclrNoHeapPointers(unsafe.Pointer(xenHeapZeroed), bl+n-xenHeapZeroed)
		xenHeapZeroed = bl + n
	}
	if bl+n > blocMax {
		blocMax = bl + n
	}
	bloc += n
	return unsafe.Pointer(bl)
}

func xenBootHeapStart() uintptr {
	return uintptr(xenBootU64(_xen_boot_heap_start))
}

// osDefaultMemoryLimit is the soft memory limit (runtime/debug.SetMemoryLimit) when
// GOMEMLIMIT is not set: 7/8 of the domain's heap. The heap cannot grow past the pages Xen
// gave the domain, and without a limit the GC's heap goal (twice the live heap at GOGC=100)
// would run into that wall with half of it garbage; the rest leaves room for the limit's
// softness (stacks, metadata, the GC's own CPU cap).
func osDefaultMemoryLimit() int64 {
	size := int64(xenBootU64(_xen_boot_heap_end) - xenBootU64(_xen_boot_heap_start))
	return size - size/8
}
