// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build xen

// Package gnttab shares pages of this domain with other domains through Xen's
// version 1 grant table (xen/include/public/grant_table.h), and allocates the
// page-aligned, never-freed memory such pages live in.
//
// Setup (on first use): GNTTABOP_query_size gives the table's limit, and
// GNTTABOP_setup_table returns the machine frames of a table of up to tableFrames
// pages. A PV guest maps those frames itself: the package allocates page-aligned
// memory from the Go heap, keeps it for ever, and points its virtual addresses at the
// table frames with update_va_mapping. The pages that backed that memory are simply
// not used again. Entries below GNTTAB_NR_RESERVED_ENTRIES belong to the toolstack.
//
// Granting writes frame and domid first and then the flags word (one atomic store,
// which orders the earlier stores before it on amd64), so Xen never sees
// GTF_permit_access with a stale frame. Ending access clears the flags with a
// compare-and-swap that fails while Xen has GTF_reading or GTF_writing set, so a page
// the other side is still using is never taken back silently.
//
// API:
//
//	Grant(domid, mfn, readonly) (Ref, error)   share a machine frame
//	GrantPage(domid, va, readonly) (Ref, error) share the direct-mapped page at va
//	End(ref) error                              take it back (ErrInUse while mapped)
//	AllocPages(n) *Pages                        n zeroed, 4096-aligned pages, never freed
//
// Suspend (internal/xen.Suspend): the table is unmapped before and mapped again after; in a
// restored domain it is a new, empty table, so every Ref granted before is void: drivers
// grant again and must not End an old Ref.
package gnttab

import (
	"errors"
	"internal/xen"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Ref is a grant reference: an index into the grant table, passed to the other domain.
type Ref uint32

// tableFrames is how many grant-table pages we ask for (512 entries each), capped by
// Xen's max_nr_frames for the domain.
const tableFrames = 8

var (
	// ErrInUse is returned by End while the other domain still maps the page.
	ErrInUse = errors.New("gnttab: page still in use by the other domain")
	// ErrFull is returned by Grant when every reference is in use.
	ErrFull = errors.New("gnttab: no free grant reference")
)

var (
	setupOnce sync.Once
	setupErr  error
	win       *Pages  // where the table's frames are mapped
	table     uintptr // va of entry 0
	nrEntries uint32

	// tableMu is held for reading while an entry is written, and for writing from suspend
	// to resume (the table is not mapped then).
	tableMu sync.RWMutex

	mu   sync.Mutex
	free []Ref
)

// Hypercall arguments live in static memory: Xen gets their addresses as plain
// integers, and a goroutine stack may move while a Go call is in progress.
var (
	queryArg   [xen.SizeofGnttabQuerySize]byte
	setupArg   [xen.SizeofGnttabSetupTable]byte
	physmapArg [xen.SizeofAddToPhysmap]byte
)

func setup() {
	q := &queryArg
	*(*uint16)(unsafe.Pointer(&q[xen.GnttabQuerySizeDom])) = xen.DOMID_SELF
	if r := xen.Hypercall(xen.HYPERVISOR_grant_table_op, xen.GNTTABOP_query_size,
		uintptr(unsafe.Pointer(q)), 1); r != 0 {
		setupErr = errors.New("gnttab: query_size: " + xen.ErrnoOf(r).Error())
		return
	}
	if st := *(*int16)(unsafe.Pointer(&q[xen.GnttabQuerySizeStatus])); st != xen.GNTST_okay {
		setupErr = errors.New("gnttab: query_size: status " + strconv.Itoa(int(st)))
		return
	}
	n := uint32(tableFrames)
	if max := *(*uint32)(unsafe.Pointer(&q[xen.GnttabQuerySizeMaxNrFrames])); max < n {
		n = max
	}
	// Map the table frames over memory of our own that nothing else will touch.
	win = AllocPages(int(n))
	if setupErr = mapTable(); setupErr != nil {
		return
	}
	table = win.Addr(0)
	nrEntries = n * xen.PageSize / xen.SizeofGrantEntryV1
	resetFree()
	xen.OnSuspend(suspend, resume)
}

// mapTable asks Xen for the table's frames (GNTTABOP_setup_table: the same ones while
// the domain lives, new ones in a restored domain) and maps them over win.
func mapTable() error {
	if xen.IsPVH() {
		return placeTable()
	}
	frames := make([]uint64, win.Len())
	s := &setupArg
	*(*uint16)(unsafe.Pointer(&s[xen.GnttabSetupTableDom])) = xen.DOMID_SELF
	*(*uint32)(unsafe.Pointer(&s[xen.GnttabSetupTableNrFrames])) = uint32(len(frames))
	*(*uintptr)(unsafe.Pointer(&s[xen.GnttabSetupTableFrameList])) = uintptr(unsafe.Pointer(&frames[0]))
	if r := xen.Hypercall(xen.HYPERVISOR_grant_table_op, xen.GNTTABOP_setup_table,
		uintptr(unsafe.Pointer(s)), 1); r != 0 {
		return errors.New("gnttab: setup_table: " + xen.ErrnoOf(r).Error())
	}
	if st := *(*int16)(unsafe.Pointer(&s[xen.GnttabSetupTableStatus])); st != xen.GNTST_okay {
		return errors.New("gnttab: setup_table: status " + strconv.Itoa(int(st)))
	}
	for i, mfn := range frames {
		if err := mapPage(win.Addr(i), mfn<<12|pteFlags); err != nil {
			return errors.New("gnttab: mapping table frame: " + err.Error())
		}
	}
	return nil
}

// placeTable is mapTable for PVH (auto-translated): Xen puts table frame i at the pfn of
// win's page i (XENMEM_add_to_physmap, XENMAPSPACE_grant_table), where the page tables
// already map it; the RAM page that was there goes back to Xen.
func placeTable() error {
	a := &physmapArg
	for i := 0; i < win.Len(); i++ {
		*a = [xen.SizeofAddToPhysmap]byte{}
		*(*uint16)(unsafe.Pointer(&a[xen.AddToPhysmapDomid])) = xen.DOMID_SELF
		*(*uint32)(unsafe.Pointer(&a[xen.AddToPhysmapSpace])) = xen.XENMAPSPACE_grant_table
		*(*uint64)(unsafe.Pointer(&a[xen.AddToPhysmapIdx])) = uint64(i)
		*(*uint64)(unsafe.Pointer(&a[xen.AddToPhysmapGpfn])) = xen.VirtToMachine(win.Addr(i))
		if r := xen.Hypercall(xen.HYPERVISOR_memory_op, xen.XENMEM_add_to_physmap,
			uintptr(unsafe.Pointer(a)), 0); r != 0 {
			return errors.New("gnttab: add_to_physmap(grant table frame " + strconv.Itoa(i) + "): " + xen.ErrnoOf(r).Error())
		}
	}
	return nil
}

func mapPage(va uintptr, pte uint64) error {
	if r := xen.Hypercall(xen.HYPERVISOR_update_va_mapping, va, uintptr(pte), xen.UVMF_INVLPG); r != 0 {
		return xen.ErrnoOf(r)
	}
	return nil
}

// resetFree makes every unreserved reference free.
func resetFree() {
	free = make([]Ref, 0, nrEntries)
	for r := nrEntries - 1; r >= xen.GNTTAB_NR_RESERVED_ENTRIES; r-- {
		free = append(free, Ref(r))
	}
}

// suspend (internal/xen.Suspend) stops Grant and End and unmaps the table: a save refuses
// page tables that map Xen's frames. tableMu stays locked until resume.
func suspend() {
	tableMu.Lock()
	if xen.IsPVH() {
		return // a PVH save skips the table's frames; a new domain gets them placed again
	}
	for i := 0; i < win.Len(); i++ {
		if err := mapPage(win.Addr(i), 0); err != nil {
			println("gnttab: unmapping table frame for suspend:", err.Error())
		}
	}
}

// resume maps the table again. In a new domain the table is new and empty: every reference
// granted before is void (its driver grants again and must not End the old one) and free.
func resume(newDomain bool) {
	defer tableMu.Unlock()
	if err := mapTable(); err != nil {
		// Without its table the domain cannot share a page again; say so, loudly.
		println(err.Error(), "after resume: no more grants")
		mu.Lock()
		free = nil
		mu.Unlock()
		return
	}
	if newDomain {
		mu.Lock()
		resetFree()
		mu.Unlock()
	}
}

// pteFlags: present, writable, user (a 64-bit PV kernel runs in ring 3), accessed,
// dirty. The architectural x86-64 page-table bits, not part of Xen's headers.
const pteFlags = 0x1 | 0x2 | 0x4 | 0x20 | 0x40

// Init sets the grant table up; the other functions call it on first use.
func Init() error {
	setupOnce.Do(setup)
	return setupErr
}

// Entries returns the number of grant references the table holds (reserved ones included).
func Entries() int {
	if Init() != nil {
		return 0
	}
	return int(nrEntries)
}

func entry(ref Ref) *uint32 {
	return (*uint32)(unsafe.Pointer(table + uintptr(ref)*xen.SizeofGrantEntryV1))
}

// Grant lets domain domid access machine frame mfn (read-only if readonly).
func Grant(domid uint16, mfn uint64, readonly bool) (Ref, error) {
	if err := Init(); err != nil {
		return 0, err
	}
	mu.Lock()
	if len(free) == 0 {
		mu.Unlock()
		return 0, ErrFull
	}
	ref := free[len(free)-1]
	free = free[:len(free)-1]
	mu.Unlock()

	e := table + uintptr(ref)*xen.SizeofGrantEntryV1
	tableMu.RLock()
	*(*uint32)(unsafe.Pointer(e + xen.GrantEntryFrame)) = uint32(mfn)
	flags := uint32(xen.GTF_permit_access)
	if readonly {
		flags |= xen.GTF_readonly
	}
	// flags (offset 0) and domid (offset 2) in one store, after the frame.
	atomic.StoreUint32(entry(ref), flags|uint32(domid)<<16)
	tableMu.RUnlock()
	return ref, nil
}

// GrantPage lets domain domid access the page at the direct-mapped virtual address va
// (page-aligned; memory from AllocPages).
func GrantPage(domid uint16, va uintptr, readonly bool) (Ref, error) {
	if va%xen.PageSize != 0 {
		return 0, errors.New("gnttab: GrantPage of an unaligned address")
	}
	return Grant(domid, xen.VirtToMachine(va), readonly)
}

// End takes back access granted with ref and frees ref. It returns ErrInUse (and keeps
// the grant) while the other domain has the page mapped.
func End(ref Ref) error {
	if err := Init(); err != nil {
		return err
	}
	if ref < xen.GNTTAB_NR_RESERVED_ENTRIES || uint32(ref) >= nrEntries {
		return errors.New("gnttab: End of an invalid reference")
	}
	p := entry(ref)
	tableMu.RLock()
	for {
		w := atomic.LoadUint32(p)
		if w&(xen.GTF_reading|xen.GTF_writing) != 0 {
			tableMu.RUnlock()
			return ErrInUse
		}
		if atomic.CompareAndSwapUint32(p, w, w&^0xFFFF) {
			break
		}
	}
	tableMu.RUnlock()
	mu.Lock()
	free = append(free, ref)
	mu.Unlock()
	return nil
}

// Free returns how many grant references are free.
func Free() int {
	if Init() != nil {
		return 0
	}
	mu.Lock()
	defer mu.Unlock()
	return len(free)
}

// Pages is a run of page-aligned memory from the Go heap that is never freed or moved,
// so it can be granted to another domain or remapped.
type Pages struct {
	base uintptr
	n    int
}

var (
	keepMu sync.Mutex
	keep   [][]byte // every AllocPages allocation, referenced for ever
)

// AllocPages returns n zeroed pages, 4096-aligned. They are never returned to the heap
// (a page another domain may still write must not be reused).
func AllocPages(n int) *Pages {
	if n <= 0 {
		panic("gnttab: AllocPages of a non-positive count")
	}
	buf := make([]byte, (n+1)*xen.PageSize)
	base := (uintptr(unsafe.Pointer(&buf[0])) + xen.PageSize - 1) &^ (xen.PageSize - 1)
	keepMu.Lock()
	keep = append(keep, buf)
	keepMu.Unlock()
	return &Pages{base: base, n: n}
}

// Len returns the number of pages.
func (p *Pages) Len() int { return p.n }

// Addr returns the virtual address of page i.
func (p *Pages) Addr(i int) uintptr {
	if i < 0 || i >= p.n {
		panic("gnttab: page index out of range")
	}
	return p.base + uintptr(i)*xen.PageSize
}

// Bytes returns page i as a 4096-byte slice.
func (p *Pages) Bytes(i int) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(p.Addr(i))), xen.PageSize)
}
