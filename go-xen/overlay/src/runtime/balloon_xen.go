// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// The balloon: the domain gives pages back to Xen when the toolstack lowers its memory target
// (xl mem-set, XAPI's squeezed: memory/target in xenstore, watched by internal/xen/control)
// and takes them again when it rises, within the pages it was started with, as Linux's
// balloon driver does.
//
// As in Linux, the balloon owns the pages it gives back: it takes them from the heap as
// manually managed spans (mheap.allocManual, accounted as GC work buffers), which nothing
// else uses until the balloon frees them, so the runtime never touches a page Xen no longer
// backs. The GC counts them as memory in use, so the heap's goal shrinks with the target by
// itself (the soft memory limit stays what it was). A page goes out by unmapping both of its
// mappings (the heap window and the direct map; Xen frees no frame still mapped), marking its
// p2m entry invalid and XENMEM_decrease_reservation; it comes back by
// XENMEM_populate_physmap, which gives a new frame for the pfn, entered in the p2m and mapped
// at both places again, before its span is freed. The heap takes its spans from free pages
// first and grows its arenas into the domain's unused pages for the rest; when that would leave
// the heap less than xenBalloonReserve, the target is out of reach and the balloon stops where
// it is ("the rest is in use").
// Xen also caps the domain's pages (xl mem-set lowers the maximum to the target plus 1 MiB),
// so a program that later needs more than its target fails with "out of memory" as a Linux
// process would meet the OOM killer.

package runtime

import "unsafe"

// xenBalloonBatch is how many frames one hypercall moves.
const xenBalloonBatch = 256

// xenBalloonSpanPages is the size of the balloon's spans in the heap's 8 KiB pages (256 KiB).
const xenBalloonSpanPages = 32

var xenBalloon struct {
	lock   mutex
	spans  mSpanList // the balloon's spans, each wholly given back to Xen
	out    uintptr   // 4 KiB pages given back
	frames [xenBalloonBatch]uint64
	res    [_sizeof_memres]byte
}

// xenP2M returns the p2m entry of pfn (start_info.mfn_list).
func xenP2M(pfn uintptr) *uint64 {
	list := *(*uintptr)(unsafe.Pointer(xenStartInfo() + _start_info_mfn_list))
	return (*uint64)(unsafe.Pointer(list + pfn*8))
}

func xenPTEFlags() uint64 {
	f := uint64(0x1 | 0x2 | 0x4 | 0x20 | 0x40) // present, writable, user (ring 3), accessed, dirty
	if xenBootU32(_xen_boot_flags)&_XEN_BOOT_FLAG_NX != 0 {
		f |= 1 << 63
	}
	return f
}

// xenBalloonMap points the two mappings of the heap page at va (pfn) to mfn (0: unmapped).
func xenBalloonMap(va, pfn uintptr, mfn uint64) {
	pte := uint64(0)
	if mfn != 0 {
		pte = mfn<<12 | xenPTEFlags()
	}
	for _, va := range [2]uintptr{va, xenDirectMap + pfn*physPageSize} {
		if r := int64(hypercall(_HYPERVISOR_update_va_mapping, va, uintptr(pte), _UVMF_INVLPG)); r != 0 {
			print("xen: balloon: update_va_mapping(", hex(va), ") failed: error ", r, "\n")
			throw("balloon")
		}
	}
}

// xenMemop issues XENMEM cmd for frames[:n] and returns how many extents Xen did.
func xenMemop(cmd uintptr, n int) int {
	r := &xenBalloon.res
	*(*uintptr)(unsafe.Pointer(&r[_memres_extent_start])) = uintptr(unsafe.Pointer(&xenBalloon.frames[0]))
	*(*uint64)(unsafe.Pointer(&r[_memres_nr_extents])) = uint64(n)
	*(*uint32)(unsafe.Pointer(&r[_memres_extent_order])) = 0
	*(*uint32)(unsafe.Pointer(&r[_memres_mem_flags])) = 0
	*(*uint16)(unsafe.Pointer(&r[_memres_domid])) = _DOMID_SELF
	done := int64(hypercall(_HYPERVISOR_memory_op, cmd, uintptr(unsafe.Pointer(r)), 0))
	if done < 0 {
		return 0
	}
	return int(done)
}

// xenBalloonOut gives pages [first, first+n) from base back to Xen, batch by batch, and
// returns how many went; the rest stay mapped and ours. Balloon lock held.
func xenBalloonOut(base, first, n uintptr) uintptr {
	for done := uintptr(0); done < n; {
		k := min(n-done, xenBalloonBatch)
		for j := uintptr(0); j < k; j++ {
			va := base + (first+done+j)*physPageSize
			pfn := xenVirtToPfn(va)
			if xenPVH { // auto-translated: Xen takes the pfn's frame, the pfn stays ours
				xenBalloon.frames[j] = uint64(pfn)
				continue
			}
			p := xenP2M(pfn)
			xenBalloon.frames[j] = *p
			xenBalloonMap(va, pfn, 0)
			*p = ^uint64(0) // INVALID_P2M_ENTRY
		}
		got := uintptr(xenMemop(_XENMEM_decrease_reservation, int(k)))
		if got < k && xenPVH {
			return done + got // the rest are still there
		}
		if got < k { // Xen kept some: map them again
			for j := got; j < k; j++ {
				va := base + (first+done+j)*physPageSize
				pfn := xenVirtToPfn(va)
				*xenP2M(pfn) = xenBalloon.frames[j]
				xenBalloonMap(va, pfn, xenBalloon.frames[j])
			}
			return done + got
		}
		done += k
	}
	return n
}

// xenBalloonGive gives the frames of span s back to Xen and reports whether Xen took them
// all (if not, the span is whole and mapped again, to be freed). Balloon lock held.
func xenBalloonGive(s *mspan) bool {
	base, n := s.base(), s.npages*pageSize/physPageSize
	if got := xenBalloonOut(base, 0, n); got < n {
		if got > 0 {
			xenBalloonTake(base, got)
		}
		return false
	}
	return true
}

// xenBalloonTake brings back the first n pages from base (new frames from Xen, mapped again)
// and reports whether Xen had them all; if not, all n are out again. Balloon lock held.
func xenBalloonTake(base, n uintptr) bool {
	for done := uintptr(0); done < n; {
		k := min(n-done, xenBalloonBatch)
		for j := uintptr(0); j < k; j++ {
			xenBalloon.frames[j] = uint64(xenVirtToPfn(base + (done+j)*physPageSize))
		}
		got := uintptr(xenMemop(_XENMEM_populate_physmap, int(k)))
		for j := uintptr(0); j < got && !xenPVH; j++ { // PVH: the pfns are backed again, mapped as they were
			va := base + (done+j)*physPageSize
			pfn := xenVirtToPfn(va)
			*xenP2M(pfn) = xenBalloon.frames[j] // populate_physmap wrote the mfn
			xenBalloonMap(va, pfn, xenBalloon.frames[j])
		}
		if got < k {
			xenBalloonOut(base, done, got) // what came of this batch
			xenBalloonOut(base, 0, done)   // and of the ones before
			return false
		}
		done += k
	}
	return true
}

// xenBalloonReserve is the room the balloon leaves the heap: it stops short of the target
// rather than leave less (allocation bursts, metadata, the GC's own work).
const xenBalloonReserve = 4 << 20

// xenBalloonRoom is what the heap can still take without running out: free pages in its
// arenas (not counting scavenged ones, which it also has) and the pages no arena or metadata
// has reached (mem_xen.go).
func xenBalloonRoom() uintptr {
	lock(&xenMem.lock)
	gap := uintptr(0)
	if xenMem.metaLow > xenMem.arenaUsed {
		gap = xenMem.metaLow - xenMem.arenaUsed
	}
	unlock(&xenMem.lock)
	return gap + uintptr(gcController.heapFree.load())
}

// xenBalloonSetTarget follows a new memory target (KiB) and returns the domain's memory then
// (KiB): the pages it was started with less those out.
func xenBalloonSetTarget(kib int64) int64 {
	total := uintptr(*(*uint64)(unsafe.Pointer(xenStartInfo() + _start_info_nr_pages)))
	var want uintptr
	if t := uintptr(kib / 4); kib >= 0 && t < total {
		want = total - t
	}
	per := uintptr(xenBalloonSpanPages * pageSize / physPageSize)
	want = want / per * per // whole spans
	if want > xenBalloon.out {
		GC() // what is garbage frees pages for the balloon first
	}
	systemstack(func() {
		lock(&xenBalloon.lock) // spans: a zero mSpanList is an empty one
		for xenBalloon.out < want && xenBalloonRoom() >= xenBalloonReserve+xenBalloonSpanPages*pageSize {
			s := mheap_.allocManual(xenBalloonSpanPages, spanAllocWorkBuf)
			if s == nil {
				break // no room left in the heap: the rest is in use
			}
			if !xenBalloonGive(s) {
				mheap_.freeManual(s, spanAllocWorkBuf)
				break
			}
			xenBalloon.spans.insert(s)
			xenBalloon.out += per
		}
		for xenBalloon.out > want && !xenBalloon.spans.isEmpty() {
			s := xenBalloon.spans.first
			if !xenBalloonTake(s.base(), per) {
				break // Xen has no more for us now
			}
			xenBalloon.spans.remove(s)
			mheap_.freeManual(s, spanAllocWorkBuf)
			xenBalloon.out -= per
		}
		unlock(&xenBalloon.lock)
	})
	return int64(total-xenBalloon.out) * 4
}
