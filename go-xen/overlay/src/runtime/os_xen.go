// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// GOOS=xen: the Go runtime as a 64-bit Xen PV guest kernel.
//
// Model:
//   - Go's own M:N model, as on Linux: every M is a thread of the thread layer
//     (thread_xen.go), which multiplexes them over the vCPU (one for now) with time
//     slices; sysmon and the template thread run as on Linux; asynchronous preemption
//     rides the event upcall like SIGURG. With no thread runnable the vCPU blocks in Xen
//     (set_timer_op + SCHEDOP_block), never in a busy loop.
//   - Before rt0_go runs, the boot shim (mini-os-shim) has mapped all domain memory,
//     installed the trap table, mapped shared_info, bound VIRQ_TIMER and filled the
//     xen_boot record (read here by offset, see zxenabi_xen_amd64.go); osinit registers
//     the thread layer's event upcall, and events are unmasked from m0's minit on.
//   - Console: CONSOLEIO_write for dom0, the PV console ring for a domU (console_xen.go).
//   - Time: the vcpu_time_info pvclock and the shared_info wall clock (time_xen.go).
//   - Memory: heap arenas from the bottom of the mapped pages up, the runtime's metadata
//     from the top down (mem_xen.go).
//   - Exit: the shutdown sequence of internal/xen/shutdown.go: on a clean exit the AtExit
//     and AtShutdown functions, "exit status N" on the console, then SCHEDOP_shutdown;
//     a fatal error shuts the domain down with reason crash.
//   - The command line: cmdline_xen.go; every hook into std packages: hooks_xen.go.
//   - Faults: the shim redirects a fault in Go code to xenFaultTramp, which turns it
//     into sigpanic as a signal would on Unix.

package runtime

import (
	"internal/abi"
	"internal/runtime/atomic"
	"unsafe"
)

type mOS struct {
	thread uintptr // *xthread: the M's thread in the thread layer (thread_xen.go)
}

type sigset struct{}

// gsignalStack is unused on xen.
type gsignalStack struct{}

// Signal numbers 0-64 as on the Unix ports, for os/signal's bookkeeping; Xen itself
// sends none (sigqueue_xen.go). gp.sig carries the trap vector of a fault instead.
const _NSIG = 65

const preemptMSupported = true

// Trap vectors (Intel SDM vol. 3, 6.3.1) that sigpanic turns into Go panics.
const (
	_VECTOR_DE = 0  // divide error
	_VECTOR_GP = 13 // general protection
	_VECTOR_PF = 14 // page fault
)

// xenBootAddr returns the address of the shim's struct xen_boot.
func xenBootAddr() uintptr

// hypercall invokes Xen hypercall op through the hypercall page.
//
//go:noescape
func hypercall(op, a1, a2, a3 uintptr) uintptr

// xenFaultTramp is where the shim sends a faulting Go context (see sys_xen_amd64.s).
func xenFaultTramp()

// rdrand64 returns a hardware random number; ok is false if the CPU had none ready.
func rdrand64() (v uint64, ok bool)

//go:nosplit
func xenBootU64(off uintptr) uint64 {
	return *(*uint64)(unsafe.Pointer(xenBootAddr() + off))
}

//go:nosplit
func xenBootU32(off uintptr) uint32 {
	return *(*uint32)(unsafe.Pointer(xenBootAddr() + off))
}

//go:nosplit
func xenIsDom0() bool {
	return xenBootU32(_xen_boot_flags)&1 != 0
}

//go:nosplit
func xenStartInfo() uintptr {
	return uintptr(xenBootU64(_xen_boot_start_info))
}

//go:nosplit
func xenSharedInfo() uintptr {
	return uintptr(xenBootU64(_xen_boot_shared_info))
}

func osinit() {
	physPageSize = 4096
	getg().m.procid = 1
	memInit()
	if !hasRDRAND() {
		writeErrStr("xen: this CPU has no RDRAND: no entropy source, refusing to boot\n")
		xenShutdown(_SHUTDOWN_crash)
	}
	netpollGenericInit()
	*(*uintptr)(unsafe.Pointer(xenBootAddr() + _xen_boot_fault_handler)) = abi.FuncPCABI0(xenFaultTramp)
	xenThreadsInit()
	numCPUStartup = getCPUCount()
}

// The boot stack (g0's stack; see rt0_xen_amd64.s) and the empty argv/envp handed to
// rt0_go.
var xenBootStack [128 << 10]byte
var xenArgv [2]uintptr

// hasRDRAND reports whether CPUID advertises RDRAND (leaf 1, ECX bit 30).
func hasRDRAND() bool

// getCPUCount is the number of vCPUs the thread layer runs on (xenThreadsInit, from the
// shim's count of the domain's vCPUs; osinit calls it after xenThreadsInit).
func getCPUCount() int32 {
	return int32(xenNCPU)
}

// xenShutdown asks Xen to shut this domain down (SCHEDOP_shutdown, xen/sched.h).
//
//go:nosplit
func xenShutdown(reason uint32) {
	consoleFlush()
	for {
		hypercall(_HYPERVISOR_sched_op, _SCHEDOP_shutdown, uintptr(unsafe.Pointer(&reason)), 0)
	}
}

// exit prints the exit status and powers the domain off.
//
//go:nosplit
func exit(code int32) {
	if mp := getg().m; mp != nil && mp.dying > 0 {
		// A fatal panic or throw (startpanic_m) already printed its trace.
		writeErrStr("xen: fatal error: shutting down with reason crash\n")
		xenShutdown(_SHUTDOWN_crash)
	}
	// A clean exit on a goroutine (main returned, or os.Exit) first runs the hook of
	// internal/xen.AtExit, once: the network can deliver what the program wrote.
	if gp := getg(); xenExitHook != nil && !xenExitHookRan && gp.m != nil && gp == gp.m.curg &&
		gp.m.locks == 0 && gp.m.mallocing == 0 {
		xenExitHookRan = true
		xenExitHook()
	}
	// "exit status N\n", formatted without allocating.
	var buf [32]byte
	i := len(buf) - 1
	buf[i] = '\n'
	v := int64(code)
	neg := v < 0
	if neg {
		v = -v
	}
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	if neg {
		i--
		buf[i] = '-'
	}
	const prefix = "exit status "
	i -= len(prefix)
	copy(buf[i:], prefix)
	consoleWrite(unsafe.Pointer(&buf[i]), int32(len(buf)-i))
	xenShutdown(atomic.Load(&xenExitReason))
}

// xenExitHook is internal/xen's AtExit runner (set with internal/xen.setExitHook).
var xenExitHook func()
var xenExitHookRan bool

func crash() {
	writeErrStr("xen: crash requested: shutting down with reason crash\n")
	xenShutdown(_SHUTDOWN_crash)
}

// xenFault runs on the faulting goroutine's stack (called by xenFaultTramp) and
// records the fault the shim saw in gp's signal fields for sigpanic: the record of the vCPU
// it faulted on (struct xen_cpu), where the shim's redirect keeps it, events masked.
//
//go:nosplit
func xenFault() {
	gp := getg()
	c := xenVcpuInfo() // the struct xen_cpu starts with the vcpu_info
	gp.sig = uint32(*(*uint64)(unsafe.Pointer(c + _xen_cpu_fault_vector)))
	gp.sigcode0 = *(*uintptr)(unsafe.Pointer(c + _xen_cpu_fault_error_code))
	gp.sigcode1 = *(*uintptr)(unsafe.Pointer(c + _xen_cpu_fault_cr2))
	gp.sigpc = *(*uintptr)(unsafe.Pointer(c + _xen_cpu_fault_rip))
	events := *(*uint64)(unsafe.Pointer(c + _xen_cpu_fault_events))
	atomic.Storeuintptr((*uintptr)(unsafe.Pointer(c+_xen_cpu_fault_nesting)), 0)
	// The shim resumed here with events masked, so that the thread stayed on this vCPU
	// while it read the record; they were enabled where the fault hit: enable them again.
	if events != 0 {
		xenEventsRestore(0)
	}
}

func sigpanic() {
	gp := getg()
	if !canpanic() {
		print("xen: trap ", signame(gp.sig), " (vector ", gp.sig, ") error ", hex(gp.sigcode0),
			" addr ", hex(gp.sigcode1), " pc ", hex(gp.sigpc), "\n")
		throw("unexpected fault during runtime execution")
	}
	switch gp.sig {
	case _VECTOR_PF:
		if gp.sigcode1 < 0x1000 {
			panicmem()
		}
		panicmemAddr(gp.sigcode1)
	case _VECTOR_DE:
		panicdivide()
	case _VECTOR_GP:
		// Non-canonical addresses fault with #GP, not #PF.
		panicmem()
	}
	print("xen: trap ", signame(gp.sig), " (vector ", gp.sig, ") error ", hex(gp.sigcode0),
		" pc ", hex(gp.sigpc), "\n")
	throw("fatal trap")
}

var trapNames = [...]string{
	0: "divide error", 1: "debug", 2: "nmi", 3: "breakpoint", 4: "overflow",
	5: "bound range", 6: "invalid opcode", 7: "device not available", 8: "double fault",
	9: "coprocessor segment overrun", 10: "invalid TSS", 11: "segment not present",
	12: "stack fault", 13: "general protection", 14: "page fault", 15: "reserved",
	16: "x87 floating point", 17: "alignment check", 18: "machine check", 19: "SIMD floating point",
}

func signame(sig uint32) string {
	if sig < uint32(len(trapNames)) {
		return trapNames[sig]
	}
	return ""
}

// osyield gives the vCPU to the next runnable thread, if any.
//
//go:nosplit
func osyield() {
	xenYield()
}

//go:nosplit
func osyield_no_g() {
	xenYield()
}

// Called to initialize a new m (including the bootstrap m).
// Called on the parent thread (main thread in case of bootstrap), can allocate memory.
func mpreinit(mp *m) {
	mp.gsignal = malg(32 * 1024)
	mp.gsignal.m = mp
	xenAllocThread(mp)
	if mp == &m0 {
		xenThreadsStart() // the scheduler's stack, now that the heap exists
	}
}

//go:nosplit
func sigsave(p *sigset) {
}

//go:nosplit
func msigrestore(sigmask sigset) {
}

//go:nosplit
//go:nowritebarrierrec
func clearSignalHandlers() {
}

//go:nosplit
func sigblock(exiting bool) {
}

// Called to initialize a new m (including the bootstrap m).
// Called on the new thread, cannot allocate memory.
func minit() {
	mp := getg().m
	mp.procid = uint64(mp.id) + 1
	if mp == &m0 {
		xenThreadParams()
		xenEventsRestore(0) // from here on the thread layer switches threads
	}
}

// Called from dropm to undo the effect of an minit.
func unminit() {
}

// Called from exitm, but not from drop, to undo the effect of thread-owned
// resources in minit, semacreate, or elsewhere. Do not take locks after calling this.
func mdestroy(mp *m) {
}

func initsig(preinit bool) {
}

// May run with m.p==nil, so write barriers are not allowed.
//
//go:nowritebarrier
func newosproc(mp *m) {
	xenNewThread(mp)
}

func newosproc0(stacksize uintptr, fn unsafe.Pointer) {
	throw("newosproc0: not used on xen")
}

func libpreinit() {}

func exitThread(wait *atomic.Uint32) {
	xenExitThread(wait)
}

// CPU profiling: the thread layer samples the running thread every 1/hz of the vCPU's busy
// time, as ITIMER_PROF does on Unix (thread_xen.go, xenProfTick).
func setProcessCPUProfiler(hz int32) {
	xenProfSetRate(hz)
}

func setThreadCPUProfiler(hz int32) {
	getg().m.profilehz = hz
}

// preemptM asks the thread layer to preempt mp's goroutine at its next resumption, as
// SIGURG does on Unix (thread_xen.go).
func preemptM(mp *m) {
	xenPreemptM(mp)
}

// The runtime's file hooks have no files to open on xen.
func open(name *byte, mode, perm int32) int32        { return -1 }
func closefd(fd int32) int32                         { return -1 }
func read(fd int32, p unsafe.Pointer, n int32) int32 { return -1 }

//go:nosplit
func write1(fd uintptr, p unsafe.Pointer, n int32) int32 {
	if fd != 1 && fd != 2 {
		return -9 // EBADF
	}
	consoleWrite(p, n)
	return n
}

func madvise(addr unsafe.Pointer, n uintptr, flags int32) int32 { return 0 }

// Semaphores for lock_sema.go: a thread blocks in the thread layer until semawakeup or its
// deadline.

//go:nosplit
func semacreate(mp *m) {
}

//go:nosplit
func semasleep(ns int64) int32 {
	return xenSemasleep(ns)
}

//go:nosplit
func semawakeup(mp *m) {
	xenSemawakeup(mp)
}

//go:nosplit
func usleep(usec uint32) {
	xenUsleep(usec)
}

//go:nosplit
func usleep_no_g(usec uint32) {
	xenUsleep(usec)
}

// readRandom fills r from RDRAND (retrying, as Intel recommends, when no value is ready).
// Entropy without RDRAND is refused at boot (see checkEntropy).
//
//go:nosplit
func readRandom(r []byte) int {
	n := 0
	for n < len(r) {
		var v uint64
		ok := false
		for try := 0; try < 100 && !ok; try++ {
			v, ok = rdrand64()
		}
		if !ok {
			return n
		}
		for i := 0; i < 8 && n < len(r); i++ {
			r[n] = byte(v)
			v >>= 8
			n++
		}
	}
	return n
}
