// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build xen

// Package xen is the GOOS=xen runtime's interface for the drivers in the standard
// library (xenstore, grant tables, netfront). The runtime pushes its side in with
// go:linkname (runtime/evtchn_xen.go); this is the whole list of hooks:
//
//	evtchnWait, evtchnNotify, evtchnBindVirq, evtchnAllocUnbound, evtchnUnmask,
//	evtchnClose: event channels (xen/include/public/event_channel.h);
//	hypercall: a raw hypercall; startInfo, isDom0, store, cmdline: boot facts;
//	shutdown: end the domain; suspend: suspend it for a save (suspend.go);
//	balloonSetTarget: follow the toolstack's memory target (SetMemoryTarget).
//
// For the drivers (gnttab, netfront) it also offers Hypercall (a raw hypercall),
// VirtToMachine (the p2m lookup for granting pages), and the shutdown sequence (shutdown.go).
package xen

import (
	"errors"
	"strconv"
	"unsafe"
)

// Implemented in the runtime.
func evtchnWait(port, gen uint32)
func evtchnNotify(port uint32)
func evtchnBindVirq(virq uint32) (uint32, int64)
func evtchnAllocUnbound(remote uint16) (uint32, int64)
func evtchnUnmask(port uint32) int64
func evtchnClose(port uint32) int64
func hypercall(op, a1, a2, a3 uintptr) uintptr
func startInfo() uintptr
func isDom0() bool
func store() (mfn uint64, port uint32)

func isPVH() bool
func cmdline() string
func kernelParam(key string) (string, bool)
func virtToPfn(va uintptr) uint64
func shutdown(reason uint32)
func suspendGen() uint32
func balloonSetTarget(kib int64) int64

// Port is an event channel of this domain. It belongs to the domain it was made in: after
// a restore from a save (suspend.go) it is stale, Wait returns at once, and Notify, Unmask
// and Close do nothing.
type Port struct {
	n   uint32
	gen uint32 // the runtime's restore count when the port was made
}

func makePort(n uint32) Port { return Port{n, suspendGen()} }

// Num returns the port's number (what a frontend writes to xenstore).
func (p Port) Num() uint32 { return p.n }

// Stale reports whether p is a port of the domain before a restore.
func (p Port) Stale() bool { return p.gen != suspendGen() }

// Wait blocks the calling goroutine until p fires (or has fired since the last Wait), or
// returns at once when p is stale. Only one goroutine may wait on a port at a time.
func (p Port) Wait() { evtchnWait(p.n, p.gen) }

// Notify signals the other end of p (EVTCHNOP_send).
func (p Port) Notify() {
	if !p.Stale() {
		evtchnNotify(p.n)
	}
}

// Unmask lets p wake the domain again after it was masked.
func (p Port) Unmask() error {
	if p.Stale() {
		return errStale
	}
	return errno(evtchnUnmask(p.n))
}

// Close closes p (EVTCHNOP_close).
func (p Port) Close() error {
	if p.Stale() {
		return nil // gone with the domain it was made in
	}
	return errno(evtchnClose(p.n))
}

// BindVCPU makes p's events interrupt vCPU vcpu instead of vCPU 0 (EVTCHNOP_bind_vcpu,
// struct evtchn_bind_vcpu in xen/event_channel.h). Whichever vCPU takes the interrupt, the
// goroutine waiting on p runs wherever the scheduler puts it.
func (p Port) BindVCPU(vcpu uint32) error {
	if p.Stale() {
		return errStale
	}
	var a [SizeofEvtchnBindVCPU]byte
	*(*uint32)(unsafe.Pointer(&a[EvtchnBindVCPUPort])) = p.n
	*(*uint32)(unsafe.Pointer(&a[EvtchnBindVCPUVCPU])) = vcpu
	return errno(int64(hypercall(HYPERVISOR_event_channel_op, EVTCHNOP_bind_vcpu, uintptr(unsafe.Pointer(&a)), 0)))
}

var errStale = errors.New("xen: event channel of the domain before a restore")

// BindVIRQ binds virtual interrupt virq of vCPU 0 to a new port.
func BindVIRQ(virq uint32) (Port, error) {
	port, r := evtchnBindVirq(virq)
	return makePort(port), errno(r)
}

// AllocUnbound allocates a port that domain remote can bind to.
func AllocUnbound(remote uint16) (Port, error) {
	port, r := evtchnAllocUnbound(remote)
	return makePort(port), errno(r)
}

// SetMemoryTarget makes the domain give pages back to Xen, or take them again, to reach the
// toolstack's memory target of kib KiB (xl mem-set: memory/target), within the memory it was
// started with and as far as the Go heap allows (runtime/balloon_xen.go). It returns the
// domain's memory afterwards, in KiB.
func SetMemoryTarget(kib int64) int64 { return balloonSetTarget(kib) }

// IsDom0 reports whether this guest is the hardware domain (no xenstore, no PV console ring).
func IsDom0() bool { return isDom0() }

// Cmdline returns the kernel command line (start_info.cmd_line).
func Cmdline() string { return cmdline() }

// Param returns the value of kernel parameter key (ip, gw, ipN, gwN, boottrace, cwd: the
// command line's KEY=VALUE words the kernel keeps, runtime/cmdline_xen.go).
func Param(key string) (string, bool) { return kernelParam(key) }

// MemoryBytes is the domain's memory: start_info's nr_pages pages.
func MemoryBytes() int64 {
	return int64(*(*uint64)(unsafe.Pointer(startInfo() + StartInfoNrPages))) * PageSize
}

// Store returns the xenstore ring's virtual address and event channel; ok is false
// when the domain has no xenstore (dom0 started without a toolstack).
func Store() (ring uintptr, port Port, ok bool) {
	mfn, p := store()
	if mfn == 0 || isDom0() {
		return 0, Port{}, false
	}
	return MachineToVirt(mfn), makePort(p), true
}

// Layout of a 64-bit PV guest (see mini-os-shim/README.md): pfn N is mapped at
// VirtBase + N*PageSize (the heap's pages also in a window of their own, runtime/mem_xen.go),
// and Xen's read-only machine-to-physical table is at m2p. A PVH guest maps pfn N at
// N*PageSize, and its frame numbers are pfns (auto-translated).
const (
	PageSize = 4096
	VirtBase = 0x400000
	m2p      = 0xFFFF800000000000 // RO_MPT_VIRT_START, xen/include/public/arch-x86/xen-x86_64.h
)

// IsPVH reports whether the guest booted as PVH (an HVM container, auto-translated) rather
// than PV. Grants, ring frames and the grant table's own frames are pfns then.
func IsPVH() bool { return isPVH() }

// MachineToVirt returns the virtual address of one of this domain's frames: a machine frame
// (PV) or a pfn (PVH).
func MachineToVirt(mfn uint64) uintptr {
	if isPVH() {
		return uintptr(mfn * PageSize)
	}
	pfn := *(*uint64)(unsafe.Pointer(uintptr(m2p + mfn*8)))
	return uintptr(VirtBase + pfn*PageSize)
}

// Hypercall issues hypercall op with three arguments and returns Xen's result
// (0 or a negative errno for most calls).
func Hypercall(op, a1, a2, a3 uintptr) int64 { return int64(hypercall(op, a1, a2, a3)) }

// ErrnoOf converts a hypercall result into an error (nil for 0).
func ErrnoOf(r int64) error { return errno(r) }

// VirtToMachine returns the machine frame behind the virtual address va (the image, the
// start-of-day pages or the heap: the runtime knows the pfn, the p2m table,
// start_info.mfn_list, the frame).
func VirtToMachine(va uintptr) uint64 {
	if isPVH() {
		return virtToPfn(va) // the frame number Xen and the backends use is the pfn
	}
	p2m := *(*uintptr)(unsafe.Pointer(startInfo() + StartInfoMFNList))
	return *(*uint64)(unsafe.Pointer(p2m + uintptr(virtToPfn(va))*8))
}

// Errno is an error a hypercall returned (xen/include/public/errno.h).
type Errno int

var errnoNames = map[Errno]string{
	1: "EPERM", 2: "ENOENT", 3: "ESRCH", 5: "EIO", 7: "E2BIG", 11: "EAGAIN", 12: "ENOMEM",
	13: "EACCES", 14: "EFAULT", 16: "EBUSY", 17: "EEXIST", 19: "ENODEV", 22: "EINVAL",
	28: "ENOSPC", 38: "ENOSYS", 95: "EOPNOTSUPP",
}

func (e Errno) Error() string {
	if n, ok := errnoNames[e]; ok {
		return "xen: " + n
	}
	return "xen: error " + strconv.Itoa(int(e))
}

func errno(r int64) error {
	if r == 0 {
		return nil
	}
	if r < 0 {
		r = -r
	}
	return Errno(r)
}
