// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Memory on xen: the runtime's OS memory layer (mem.go's sys*OS functions) over the pages the
// shim mapped at boot, [xen_boot.heap_start, xen_boot.heap_end): the domain's free pages,
// mapped a second time in a window that starts at a 4 MiB boundary (mini-os-shim/mm.c), pfn
// xen_boot.heap_pfn first. Nothing is mapped or freed at run time; what matters is that no
// page is stranded.
//
// Go's heap grows in 4 MiB arenas aligned to 4 MiB (heapArenaBytes, the page allocator's
// chunk), while everything else the runtime asks the OS for (the arena index, page-allocator
// summaries, the scavenge index, persistentalloc chunks, heapArena records) comes in small
// pieces. A single break (plan9's and wasm's mem_sbrk.go) lets each small piece push the next
// arena a whole 4 MiB further: a 16 MB domain with 8.6 MiB of heap pages ran out of memory
// with 3.5 MiB in use. So the range is split from both ends:
//
//	heap_start                                                            heap_end
//	| arena | arena | last arena, partly backed ...|<- metadata, grows down |
//	  ^ arenas grow up: sysReserveAlignedSbrk          ^ xenMem.metaLow
//
// The last arena may reach past the metadata or past heap_end: Go only touches an arena's
// pages after sysUsed (new heap memory starts out "scavenged", mpagealloc.go) and hands out
// the lowest free pages first, so the arenas' high-water mark (xenMem.arenaUsed) and the
// metadata's low end (xenMem.metaLow) move towards each other and memory is used up only when
// they meet: sysUsed then stops the program with a clear "out of memory". Freed metadata (and
// a gap below the first arena, were heap_start not aligned) goes to a free list the metadata
// takes first.
//
// Xen does not promise that a new domain's pages are zero and the runtime relies on fresh
// memory being zero: metadata is cleared when handed out, arena pages when first used.

package runtime

import "unsafe"

const isSbrkPlatform = true

var xenMem struct {
	lock       mutex
	start, end uintptr // the heap's pages
	arenaFirst uintptr // the first arena's base (heap_start rounded up to heapArenaBytes)
	arenaNext  uintptr // where the next arena goes
	arenaUsed  uintptr // arena pages below this were used (and cleared once)
	metaLow    uintptr // metadata holds [metaLow, end)
	free       uintptr // free metadata blocks (xenFreeBlock), address order
	heapPfn    uintptr // the pfn at start
}

// xenFreeBlock heads a free metadata block.
type xenFreeBlock struct {
	next uintptr
	size uintptr
}

func memInit() {
	start := uintptr(xenBootU64(_xen_boot_heap_start))
	end := uintptr(xenBootU64(_xen_boot_heap_end))
	imageEnd := alignUp(firstmoduledata.end, physPageSize)
	if start < imageEnd || end <= start || start%physPageSize != 0 || end%physPageSize != 0 {
		print("xen: bad heap range ", hex(start), "-", hex(end), " (image ends at ", hex(imageEnd), ")\n")
		throw("memInit")
	}
	xenMem.start, xenMem.end = start, end
	xenDirectMap = uintptr(xenBootU64(_xen_boot_direct_map))
	xenMem.heapPfn = uintptr(xenBootU64(_xen_boot_heap_pfn))
	xenMem.arenaFirst = alignUp(start, heapArenaBytes)
	xenMem.arenaNext = xenMem.arenaFirst
	xenMem.arenaUsed = xenMem.arenaFirst
	xenMem.metaLow = end
	if gap := min(xenMem.arenaFirst, end) - start; gap > 0 {
		xenMemFree(start, gap)
	}
}

// xenDirectMap is where the direct map of every pfn starts: pfn N is at xenDirectMap +
// N*4096 (xen_boot.direct_map: XEN_BOOT_VIRT_BASE for PV, 0 for PVH, where va = pa).
var xenDirectMap uintptr

// xenVirtToPfn returns the pfn behind va: in the heap window, or in the direct map of all
// pfns (va = xenDirectMap + pfn*4096, where the image and the start-of-day pages are).
func xenVirtToPfn(va uintptr) uintptr {
	if va >= xenMem.start && va < xenMem.end {
		return xenMem.heapPfn + (va-xenMem.start)/physPageSize
	}
	return (va - xenDirectMap) / physPageSize
}

func xenOutOfMemory(what string, need uintptr) {
	print("xen: out of memory: ", what, " needs ", need>>10, " KiB more; the domain's heap is ",
		(xenMem.end-xenMem.start)>>20, " MiB: arenas use ", (xenMem.arenaUsed-xenMem.arenaFirst)>>10,
		" KiB, runtime metadata ", (xenMem.end-xenMem.metaLow)>>10, " KiB\n")
}

// xenMemAlloc hands out n zeroed bytes (a page multiple) of metadata, or 0. Lock held.
func xenMemAlloc(n uintptr) uintptr {
	prev := &xenMem.free
	for b := xenMem.free; b != 0; b = (*xenFreeBlock)(unsafe.Pointer(b)).next {
		fb := (*xenFreeBlock)(unsafe.Pointer(b))
		if fb.size >= n {
			var p uintptr
			if fb.size == n {
				*prev = fb.next
				p = b
			} else {
				fb.size -= n
				p = b + fb.size // the block's tail: its head stays in place
			}
			memclrNoHeapPointers(unsafe.Pointer(p), n)
			return p
		}
		prev = &fb.next
	}
	if xenMem.metaLow-xenMem.start < n || xenMem.metaLow-n < xenMem.arenaUsed {
		xenOutOfMemory("runtime metadata", n)
		return 0
	}
	xenMem.metaLow -= n
	memclrNoHeapPointers(unsafe.Pointer(xenMem.metaLow), n)
	return xenMem.metaLow
}

// xenMemFree returns [p, p+n) to the metadata: the low end moves up when p is at it, the free
// list (address order, neighbours merged) takes it otherwise. Lock held.
func xenMemFree(p, n uintptr) {
	if p == xenMem.metaLow {
		xenMem.metaLow += n
		return
	}
	prev := &xenMem.free
	for *prev != 0 && *prev < p {
		prev = &(*xenFreeBlock)(unsafe.Pointer(*prev)).next
	}
	next := *prev
	fb := (*xenFreeBlock)(unsafe.Pointer(p))
	fb.next, fb.size = next, n
	if next != 0 && p+n == next {
		nb := (*xenFreeBlock)(unsafe.Pointer(next))
		fb.next, fb.size = nb.next, n+nb.size
	}
	*prev = p
	// Merge with the block before, when it ends at p (prev points into it).
	if prev != &xenMem.free {
		before := uintptr(unsafe.Pointer(prev)) - unsafe.Offsetof(fb.next)
		bb := (*xenFreeBlock)(unsafe.Pointer(before))
		if before+bb.size == p {
			bb.next, bb.size = fb.next, bb.size+fb.size
		}
	}
}

func sysAllocOS(n uintptr, _ string) unsafe.Pointer {
	var p uintptr
	systemstack(func() {
		lock(&xenMem.lock)
		p = xenMemAlloc(alignUp(n, physPageSize))
		unlock(&xenMem.lock)
	})
	return unsafe.Pointer(p)
}

func sysFreeOS(v unsafe.Pointer, n uintptr) {
	if v == nil || n == 0 {
		return
	}
	systemstack(func() {
		lock(&xenMem.lock)
		xenMemFree(uintptr(v), alignUp(n, physPageSize))
		unlock(&xenMem.lock)
	})
}

// sysReserveOS reserves address space for the runtime's sparse tables (page-allocator
// summaries, scavenge index): there is no address space without pages here, so it is metadata
// like any other. A fixed address cannot be honoured.
func sysReserveOS(v unsafe.Pointer, n uintptr, vmaName string) unsafe.Pointer {
	if v != nil {
		return nil
	}
	return sysAllocOS(n, vmaName)
}

// sysReserveAlignedSbrk places the next heap arena above the last one (mem.go's
// sysReserveAligned on sbrk platforms; size and align are heapArenaBytes multiples).
func sysReserveAlignedSbrk(size, align uintptr) (unsafe.Pointer, uintptr) {
	var p uintptr
	systemstack(func() {
		lock(&xenMem.lock)
		next := alignUp(xenMem.arenaNext, align)
		if next < xenMem.metaLow && next+size > next {
			p = next
			xenMem.arenaNext = next + size
		} else {
			xenOutOfMemory("a heap arena", next+physPageSize-xenMem.metaLow)
		}
		unlock(&xenMem.lock)
	})
	if p == 0 {
		return nil, 0
	}
	return unsafe.Pointer(p), size
}

// sysUsedOS is where arena pages come into use: they must lie below the metadata, and are
// cleared the first time.
func sysUsedOS(v unsafe.Pointer, n uintptr) {
	p := uintptr(v)
	if p < xenMem.arenaFirst || p >= xenMem.arenaNext {
		return // metadata (sysReserveOS) in the free list: cleared when allocated
	}
	systemstack(func() {
		lock(&xenMem.lock)
		if p >= xenMem.metaLow {
			// Metadata (sysReserveOS: page-allocator summaries, the scavenge index) above
			// the arenas' high-water mark, in the last arena's range: cleared when allocated.
			unlock(&xenMem.lock)
			return
		}
		end := p + n
		if end > xenMem.metaLow || end > xenMem.end {
			xenOutOfMemory("the heap", end-min(xenMem.metaLow, xenMem.end))
			unlock(&xenMem.lock)
			throw("out of memory")
		}
		if end > xenMem.arenaUsed {
			memclrNoHeapPointers(unsafe.Pointer(xenMem.arenaUsed), end-xenMem.arenaUsed)
			xenMem.arenaUsed = end
		}
		unlock(&xenMem.lock)
	})
}

// The pages stay where they are: Xen gave them to the domain for its lifetime.
func sysUnusedOS(v unsafe.Pointer, n uintptr)           {}
func sysHugePageOS(v unsafe.Pointer, n uintptr)         {}
func sysNoHugePageOS(v unsafe.Pointer, n uintptr)       {}
func sysHugePageCollapseOS(v unsafe.Pointer, n uintptr) {}
func sysMapOS(v unsafe.Pointer, n uintptr, _ string)    {}
func sysFaultOS(v unsafe.Pointer, n uintptr)            {}
func needZeroAfterSysUnusedOS() bool                    { return true }

// osDefaultMemoryLimit is the soft memory limit (runtime/debug.SetMemoryLimit) when
// GOMEMLIMIT is not set: 7/8 of the domain's heap. The heap cannot grow past the pages Xen
// gave the domain, and without a limit the GC's heap goal (twice the live heap at GOGC=100)
// would run into that wall with half of it garbage; the rest leaves room for the limit's
// softness (stacks, metadata, the GC's own CPU cap).
func osDefaultMemoryLimit() int64 {
	size := int64(xenBootU64(_xen_boot_heap_end) - xenBootU64(_xen_boot_heap_start))
	return size - size/8
}
