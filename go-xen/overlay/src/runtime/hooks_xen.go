// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// The runtime's side of the boundary with the std packages that stand in for a kernel on xen:
// every function the runtime pushes into another package with go:linkname is in this file,
// and nothing else crosses (go-xen/README.md, "The runtime boundary"; tests/unit/
// test_runtime_boundary.py checks that this list and the code agree). The receiving packages
// declare each one without a body.
//
//	internal/xen            evtchnWait, evtchnNotify, evtchnBindVirq, evtchnAllocUnbound,
//	                        evtchnUnmask, evtchnClose: event channels (event_channel.h);
//	                        hypercall: a raw hypercall; startInfo, isDom0, isPVH, store: boot facts;
//	                        cmdline, kernelParam: the command line (cmdline_xen.go);
//	                        virtToPfn: the pfn behind a va (mem_xen.go);
//	                        SystemTime: Xen system time; shutdown: end the domain now;
//	                        suspend, suspendGen: suspend it for a save, and how many
//	                        times it was restored (suspend_xen.go); balloonSetTarget:
//	                        follow the toolstack's memory target (balloon_xen.go);
//	                        setExitHook: the drivers' work at a clean exit (os_xen.go, exit)
//	internal/xen/control    deliverSignal, setExitReason: the toolstack's shutdown requests
//	                        as SIGTERM (sigqueue_xen.go)
//	syscall                 consoleWrite, initrd (the boot module), kernelParam, now;
//	                        raise: kill(2) of the program itself (sigqueue_xen.go)
//	crypto/internal/sysrand readRandom: RDRAND
//	os                      sigpipe: nothing (no SIGPIPE on xen)
//
// Pulled the other way (the std side names a runtime function): net's runtime_nanotime. As on
// the other ports, runtime.go and os_xen.go push syscall.runtime_envs, syscall.Exit and
// os.runtime_args (upstream's own list, not xen's).

package runtime

import (
	"internal/runtime/atomic"
	"unsafe"
)

// internal/xen

//go:linkname xen_evtchnWait internal/xen.evtchnWait
func xen_evtchnWait(port, gen uint32) {
	if port >= _nr_evtchn_ports {
		panic(plainError("xen: event channel port out of range"))
	}
	if gen != xenSuspendGen.Load() {
		return // a port of the domain before a restore: it will never fire
	}
	if evtchnWaiter[port] != 0 {
		panic(plainError("xen: two goroutines wait on one event channel"))
	}
	if evtchnSeenTake(port) {
		return
	}
	gopark(evtchnParkCommit, unsafe.Pointer(uintptr(port)|uintptr(gen)<<32), waitReasonIOWait, traceBlockNet, 1)
}

//go:linkname xen_evtchnNotify internal/xen.evtchnNotify
func xen_evtchnNotify(port uint32) {
	evtchnSend(port)
}

//go:linkname xen_evtchnBindVirq internal/xen.evtchnBindVirq
func xen_evtchnBindVirq(virq uint32) (uint32, int64) {
	var a struct{ virq, vcpu, port uint32 }
	a.virq = virq
	r := evtchnOp(_EVTCHNOP_bind_virq, unsafe.Pointer(&a))
	return a.port, r
}

//go:linkname xen_evtchnAllocUnbound internal/xen.evtchnAllocUnbound
func xen_evtchnAllocUnbound(remote uint16) (uint32, int64) {
	var a struct {
		dom, remoteDom uint16
		port           uint32
	}
	a.dom = _DOMID_SELF
	a.remoteDom = remote
	r := evtchnOp(_EVTCHNOP_alloc_unbound, unsafe.Pointer(&a))
	return a.port, r
}

//go:linkname xen_evtchnUnmask internal/xen.evtchnUnmask
func xen_evtchnUnmask(port uint32) int64 {
	return evtchnOp(_EVTCHNOP_unmask, unsafe.Pointer(&port))
}

//go:linkname xen_evtchnClose internal/xen.evtchnClose
func xen_evtchnClose(port uint32) int64 {
	return evtchnOp(_EVTCHNOP_close, unsafe.Pointer(&port))
}

//go:linkname xen_hypercall internal/xen.hypercall
func xen_hypercall(op, a1, a2, a3 uintptr) uintptr {
	return hypercall(op, a1, a2, a3)
}

//go:linkname xen_startInfo internal/xen.startInfo
func xen_startInfo() uintptr {
	return xenStartInfo()
}

//go:linkname xen_isDom0 internal/xen.isDom0
func xen_isDom0() bool {
	return xenIsDom0()
}

//go:linkname xen_isPVH internal/xen.isPVH
func xen_isPVH() bool {
	return xenPVH
}

//go:linkname xen_store internal/xen.store
func xen_store() (mfn uint64, port uint32) {
	si := xenStartInfo()
	return *(*uint64)(unsafe.Pointer(si + _start_info_store_mfn)), *(*uint32)(unsafe.Pointer(si + _start_info_store_evtchn))
}

//go:linkname xen_cmdline internal/xen.cmdline
func xen_cmdline() string {
	return xenCmdline()
}

//go:linkname xen_virtToPfn internal/xen.virtToPfn
func xen_virtToPfn(va uintptr) uint64 {
	return uint64(xenVirtToPfn(va))
}

//go:linkname xen_kernelParam internal/xen.kernelParam
func xen_kernelParam(key string) (string, bool) {
	return xenKernelParam(key)
}

// xen_SystemTime is internal/xen.SystemTime: Xen system time in nanoseconds.
//
//go:linkname xen_SystemTime internal/xen.SystemTime
func xen_SystemTime() int64 {
	return nanotime()
}

//go:linkname xen_balloonSetTarget internal/xen.balloonSetTarget
func xen_balloonSetTarget(kib int64) int64 {
	return xenBalloonSetTarget(kib)
}

//go:linkname xen_suspendGen internal/xen.suspendGen
func xen_suspendGen() uint32 {
	return xenSuspendGen.Load()
}

//go:linkname xen_suspend internal/xen.suspend
func xen_suspend() int64 {
	return xenSuspend()
}

//go:linkname xen_shutdown internal/xen.shutdown
func xen_shutdown(reason uint32) {
	if reason == _SHUTDOWN_poweroff {
		// An immediate shutdown (internal/xen.Shutdown: the drivers have disconnected
		// already) skips the AtExit hook: with no network left it could only wait.
		xenExitHookRan = true
		exit(0)
	}
	xenShutdown(reason)
}

//go:linkname xen_setExitHook internal/xen.setExitHook
func xen_setExitHook(f func()) {
	xenExitHook = f
}

// internal/xen/control

// control_deliverSignal hands sig to os/signal, if the program asked for it.
//
//go:linkname control_deliverSignal internal/xen/control.deliverSignal
func control_deliverSignal(sig uint32) int32 {
	if sig >= _NSIG {
		return xenSigDefault
	}
	if sigsend(sig) {
		return xenSigDelivered
	}
	if atomic.Load(&xenSigIgnoring[sig/32])&(1<<(sig%32)) != 0 {
		return xenSigIgnored
	}
	return xenSigDefault
}

// syscall_raise hands sig, sent by the program to itself (syscall.Kill), to os/signal as
// control_deliverSignal does; the caller acts on xenSigDefault.
//
//go:linkname syscall_raise syscall.raise
func syscall_raise(sig uint32) int32 {
	return control_deliverSignal(sig)
}

// control_setExitReason sets the shutdown reason of the program's eventual clean exit.
//
//go:linkname control_setExitReason internal/xen/control.setExitReason
func control_setExitReason(reason uint32) {
	atomic.Store(&xenExitReason, reason)
}

// syscall

//go:linkname syscall_consoleWrite syscall.consoleWrite
func syscall_consoleWrite(b []byte) {
	if len(b) == 0 {
		return
	}
	consoleWrite(unsafe.Pointer(&b[0]), int32(len(b)))
}

// syscall_initrd returns the boot module Xen loaded after the kernel (start_info.mod_start,
// mod_len: the dom0's initrd, or a domU's ramdisk), or nil. The pages lie below the heap
// (xen/include/public/xen.h, "Start-of-day memory layout"), so they stay valid.
//
//go:linkname syscall_initrd syscall.initrd
func syscall_initrd() []byte {
	si := xenStartInfo()
	start := *(*uint64)(unsafe.Pointer(si + _start_info_mod_start))
	n := *(*uint64)(unsafe.Pointer(si + _start_info_mod_len))
	if start == 0 || n == 0 {
		return nil
	}
	if *(*uint32)(unsafe.Pointer(si + _start_info_flags))&_SIF_MOD_START_PFN != 0 {
		start = uint64(xenDirectMap) + start*4096 // a pfn: the direct map (mem_xen.go)
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(uintptr(start))), n)
}

//go:linkname syscall_kernelParam syscall.kernelParam
func syscall_kernelParam(key string) (string, bool) {
	return xenKernelParam(key)
}

//go:linkname syscall_now syscall.now
func syscall_now() (sec int64, nsec int32) {
	sec, nsec, _ = time_now()
	return
}

// crypto/internal/sysrand

//go:linkname sysrand_readRandom crypto/internal/sysrand.readRandom
func sysrand_readRandom(b []byte) int {
	return readRandom(b)
}

// os

//go:linkname os_sigpipe os.sigpipe
func os_sigpipe() {}
