// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// The thread layer: Go's Ms as threads multiplexed over the domain's vCPUs.
//
// DESIGN
//
// Every M is a thread (xthread, in mOS) with its own g0 stack and TLS block (m.tls; the FS
// base is switched with set_segment_base on every switch). A thread not on a vCPU keeps its
// whole CPU state in its xenContext: the general registers, the FXSAVE image and the frame
// HYPERVISOR_iret takes (xen/include/public/arch-x86/xen-x86_64.h, struct iret_context). Each
// vCPU (xenCPU, found through the GS base: the shim's struct xen_cpu, whose go field points
// here) runs exactly one thread at a time: its cur, or its idle thread, which blocks the vCPU
// in Xen (SCHEDOP_block) when no thread can run. Threads are not tied to a vCPU: the run
// queue is one FIFO for all, and a thread resumes wherever a vCPU takes it.
//
// Events are unmasked while Go code runs (the vCPU's vcpu_info.evtchn_upcall_mask = 0, or
// RFLAGS.IF as PVH) and masked inside the thread layer. Its state (run queue, thread states,
// the netpoll waiter) is guarded by xenSchedLock, a spin lock taken only with events masked,
// so that a vCPU never waits for a holder it interrupted itself. A thread leaves its vCPU in
// one of two ways, both ending in xenSchedule on the vCPU's scheduler stack, never on the
// thread's own stack (which may be a small goroutine stack):
//
//   - involuntarily: Xen delivers the event upcall (xenUpcall, sys_xen_amd64.s) on the
//     interrupted stack; the handler saves the interrupted context into the current thread, as
//     a Unix kernel saves a thread it interrupts, and calls xenSchedule, which takes the lock;
//   - voluntarily: semasleep, usleep, osyield, netpoll and exitThread set the thread's state
//     with events masked and the lock held, and call xenSwitch, which saves a context that
//     resumes after the call (masked, the lock no longer held) and calls xenSchedule.
//
// The lock is released only once the old thread's context is saved and its TLS is as it
// was (xenEnterSched): from then on another vCPU may resume it.
//
// xenSchedule collects the pending event channels (evtchnCollect, netpoll_xen.go), wakes the
// threads whose deadline passed or whose events arrived, picks the next thread (the current
// one unless its time slice is over and another is runnable, or it gave up the vCPU), delivers
// a pending preemption request to it, arms the vCPU's one-shot timer for the earliest deadline
// of the threads that blocked on it or the end of the slice, and xenResume restores the chosen
// context through HYPERVISOR_iret (IRETQ as PVH), which also restores the event mask.
//
// A thread made runnable while a vCPU idles is handed over by an IPI (an event channel bound
// to that vCPU, EVTCHNOP_bind_ipi): the idle vCPU's upcall runs xenSchedule, which takes it.
// With no vCPU idle, a busy vCPU whose timer is not set for the end of its slice gets an IPI
// so that it sets it.
//
// Preemption (preemptM) works as the Unix signal path does: preemptM marks the target thread
// and, when it runs on another vCPU, interrupts that vCPU with an IPI; when the thread layer
// next resumes the thread from an interrupted context, xenDeliverPreempt runs the checks of
// doSigPreempt (wantAsyncPreempt, isAsyncSafePoint) and, at an async-safe point, pushes a call
// to asyncPreempt onto the saved context (sigctxt.pushCall).
//
// CPU profiles ride the same path (xenProfTick): while profiling is on, a vCPU's one-shot
// timer also fires when the vCPUs have been busy for another 1/hz, and the upcall hands the
// interrupted thread's context to sigprof, as the SIGPROF handler does on Unix.
//
// Nothing here allocates or has write barriers: threads and the run queue are linked by
// uintptr, and the Ms they live in are kept alive by allm (or sched.freem) until exitThread.

package runtime

import (
	"internal/abi"
	"internal/runtime/atomic"
	"internal/strconv"
	"unsafe"
)

// xenContext is a thread's CPU state while it is off the vCPU (layout used by sys_xen_amd64.s
// through go_asm.h). flags..ss is the iret_context HYPERVISOR_iret reads after rax, r11 and
// rcx, which the hypercall page's iret stub pushes from the registers.
type xenContext struct {
	r15, r14, r13, r12, r11, r10, r9, r8 uint64
	rdi, rsi, rbp, rdx, rcx, rbx, rax    uint64
	flags, rip, cs, rflags, rsp, ss      uint64
	fsbase                               uint64  // TLS: the FS base of the thread
	g                                    uintptr // the g in TLS when the thread stopped
	fx                                   uintptr // 16-byte aligned FXSAVE area in fxbuf
	voluntary                            uint64  // 1: saved by xenSwitch, 0: by the upcall
	fxbuf                                [512 + 16]byte
}

const (
	xthreadRunning  = iota
	xthreadRunnable // in the run queue
	xthreadBlocked
	xthreadYielding // osyield: to the end of the run queue at its switch
	xthreadDead
)

// xenTimeslice is how long a thread keeps its vCPU while another is runnable.
const xenTimeslice = 2e6

// Selectors of Xen's flat 64-bit guest kernel segments (xen/include/public/arch-x86/
// xen-x86_64.h FLAT_KERNEL_CS64/SS64) with the RPL cleared, as Xen saves a kernel frame:
// HYPERVISOR_iret takes RPL 3 for a return to user mode.
// PVH (the shim's own GDT, ring 0) uses 0x08 and 0x10, set by xenThreadsInit.
var (
	xenKernelCS uint64 = 0xe033 &^ 3
	xenKernelSS uint64 = 0xe02b &^ 3
)

const (
	rflagsIF  = 1 << 9
	msrFSBase = 0xc0000100 // IA32_FS_BASE: the FS base in ring 0 (PVH)
)

// xenPVH: booted as PVH (set by _rt0_amd64_xen from xen_boot.flags). Then the event mask
// is RFLAGS.IF, contexts return with IRETQ, the FS base is an MSR, idle is STI; HLT and the
// event callback is the shim's vector stub (mini-os-shim/pvh.c); the rest is the same.
var xenPVH bool

type xthread struct {
	ctx        xenContext // first: a thread's address is its context's (sys_xen_amd64.s)
	mp         uintptr    // *m; 0 for an idle thread
	next       uintptr    // *xthread: run queue link
	allnext    uintptr    // *xthread: list of live threads
	state      uint32
	cpu        uint32 // the vCPU it runs on, or last ran on (whose timer has its deadline)
	waitSema   bool   // blocked in semasleep: semawakeup wakes it
	waitNet    bool   // blocked in netpoll: an event or netpollBreak wakes it
	deadline   int64  // while blocked: wake at this system time; -1 none
	sema       uint32
	sigPreempt atomic.Uint32 // preemptM asked; handled when the thread is next resumed
	sliceStart int64
	exitWait   uintptr // *atomic.Uint32 of an exiting thread: stored 0 once it is off its stack
}

// xenCPU is a vCPU's part of the thread layer (sys_xen_amd64.s reaches the running vCPU's
// through the GS base: struct xen_cpu's go field).
type xenCPU struct {
	cur          uintptr // *xthread on this vCPU
	schedGp      uintptr // the g of the scheduler's stack (xenSchedule runs on it)
	schedStackHi uintptr
	shim         uintptr // its struct xen_cpu (mini-os-shim/include/xen_boot.h)
	id           uint32
	kicked       uint32 // an IPI is on its way; cleared by its next xenSchedule
	sliceArmed   bool   // its timer is set to end the running thread's slice
	park         bool   // asked to go down (a suspend): xenSchedule parks it
	parked       atomic.Uint32
	timerArmed   int64  // the deadline set_timer_op was last given (0: none)
	timerFired   uint32 // the timer's VIRQ arrived since xenArmTimer last looked
	timerLead    int64  // how far Xen's clock was seen ahead of this vCPU's (xenArmTimer)
	profLast     int64  // when its busy time was last charged (xenProfTick)
	idle         xthread
	idleTLS      [2]uintptr
}

var (
	xenCPUs      [_XEN_MAX_CPUS]xenCPU
	xenNCPU      uint32            // vCPUs running the thread layer (0 .. xenNCPU-1)
	xenSchedGs   [_XEN_MAX_CPUS]*g // keeps the scheduler gs alive for the GC
	xenIdleStack [_XEN_MAX_CPUS][8 << 10]byte

	// xenSchedLock guards the thread layer's shared state; taken with events masked.
	xenSchedLock uint32

	xenRunqHead      uintptr
	xenRunqTail      uintptr
	xenAllThreads    uintptr
	xenNetpollThread uintptr // the thread blocked in netpoll, if any
	xenNetpollWake   uint32  // netpollBreak or an event since the last netpoll
	xenTimerEarly    int64   // timerearly=NS (fault injection): set the timer NS early

	xenM0Thread    xthread
	xenFreeThreads uintptr // xthreads of exited Ms, for the next Ms (linked by next)

	xenSwitches, xenUpcalls, xenPreemptsDelivered, xenIPIs uint64
)

// Assembly (sys_xen_amd64.s).
func xenUpcall()
func xenSwitch()
func xenResume()
func xenAPEntry()
func xenPark(id uint32, tlsG, gp uintptr)
func xenIdleLoop()
func xenThreadStart()
func xenFxsave(p uintptr)
func xenEventsMask() uint8
func xenEventsRestore(old uint8)
func xenMe() *xenCPU
func xenVcpuInfo() uintptr
func xenShimCPUUp(id uint32, fresh int32) int64

//go:nosplit
func xthreadOf(u uintptr) *xthread {
	return (*xthread)(unsafe.Pointer(u))
}

// xenSelf is the thread running this code (events masked: it stays on this vCPU).
//
//go:nosplit
func xenSelf() *xthread {
	return xthreadOf(xenMe().cur)
}

//go:nosplit
func xenLock() {
	for !atomic.Cas(&xenSchedLock, 0, 1) {
		for atomic.Load(&xenSchedLock) != 0 {
			procyield(20)
		}
	}
}

//go:nosplit
func xenUnlock() {
	atomic.Store(&xenSchedLock, 0)
}

// xenLockMasked masks events and takes the lock; xenUnlockRestore undoes both.
//
//go:nosplit
func xenLockMasked() uint8 {
	old := xenEventsMask()
	xenLock()
	return old
}

//go:nosplit
func xenUnlockRestore(old uint8) {
	xenUnlock()
	xenEventsRestore(old)
}

// threadOf returns mp's thread (m has no room for the context: it must stay within 2 KiB).
//
//go:nosplit
func (mp *m) xthread() *xthread {
	return xthreadOf(mp.thread)
}

// xenAllocThread gives mp a thread record: one of an exited M, or a new one that is never
// freed (persistentalloc). Called from mpreinit, on the parent.
func xenAllocThread(mp *m) {
	if mp == &m0 {
		mp.thread = xenM0Thread.addr()
		return
	}
	old := xenLockMasked()
	t := xthreadOf(xenFreeThreads)
	if t != nil {
		xenFreeThreads = t.next
	}
	xenUnlockRestore(old)
	if t == nil {
		t = (*xthread)(persistentalloc(unsafe.Sizeof(xthread{}), 16, &memstats.other_sys))
	} else {
		*t = xthread{}
	}
	mp.thread = t.addr()
}

//go:nosplit
func (t *xthread) addr() uintptr {
	return uintptr(unsafe.Pointer(t))
}

// initContext prepares t to start at pc on the stack sp with TLS block tls (the address
// settls would be given), events enabled.
//
//go:nosplit
func (t *xthread) initContext(pc, sp, tls uintptr) {
	c := &t.ctx
	c.fx = (uintptr(unsafe.Pointer(&c.fxbuf[0])) + 15) &^ 15
	xenFxsave(c.fx) // the caller's FPU/SSE control state: FNINIT'd and MXCSR default
	c.rip = uint64(pc)
	c.rsp = uint64(sp &^ 15)
	c.cs = xenKernelCS
	c.ss = xenKernelSS
	c.rflags = rflagsIF | 2
	c.fsbase = uint64(tls + 8) // g at -8(FS), see settls
	c.voluntary = 1
}

//go:nosplit
func xenRunqPush(t *xthread) {
	t.state = xthreadRunnable
	t.next = 0
	if xenRunqTail == 0 {
		xenRunqHead = t.addr()
	} else {
		xthreadOf(xenRunqTail).next = t.addr()
	}
	xenRunqTail = t.addr()
}

//go:nosplit
func xenRunqPop() *xthread {
	t := xthreadOf(xenRunqHead)
	if t != nil {
		xenRunqHead = t.next
		if xenRunqHead == 0 {
			xenRunqTail = 0
		}
		t.next = 0
	}
	return t
}

// xenThreadAdd links t into the list of live threads (lock held).
//
//go:nosplit
func xenThreadAdd(t *xthread) {
	t.allnext = xenAllThreads
	xenAllThreads = t.addr()
}

//go:nosplit
func xenThreadRemove(t *xthread) {
	for p := &xenAllThreads; *p != 0; p = &xthreadOf(*p).allnext {
		if *p == t.addr() {
			*p = t.allnext
			return
		}
	}
}

// xenIPI interrupts vCPU c (lock held) unless an IPI to it is on its way already.
//
//go:nosplit
func xenIPI(c *xenCPU) {
	if c.kicked != 0 || c.parked.Load() != 0 {
		return
	}
	c.kicked = 1
	xenIPIs++
	evtchnSend(*(*uint32)(unsafe.Pointer(c.shim + _xen_cpu_ipi_port)))
}

// xenKick gets the run queue's threads onto vCPUs (lock held, on vCPU me): an idle vCPU
// takes one; with none idle, every busy vCPU must have its timer set to end its slice.
//
//go:nosplit
func xenKick(me *xenCPU) {
	if xenRunqHead == 0 {
		return
	}
	idle := false
	for i := uint32(0); i < xenNCPU; i++ {
		c := &xenCPUs[i]
		if c != me && c.cur == c.idle.addr() && !c.park {
			if c.kicked == 0 {
				xenIPI(c)
				return
			}
			idle = true // woken already: it takes the run queue's head
		}
	}
	if idle {
		return
	}
	for i := uint32(0); i < xenNCPU; i++ {
		c := &xenCPUs[i]
		if c != me && !c.sliceArmed && !c.park {
			xenIPI(c)
		}
	}
	if me.cur != me.idle.addr() && !me.sliceArmed {
		xenArmTimer(me, nanotime())
	}
}

// xenThreadsInit makes the running boot context m0's thread on vCPU 0 and prepares the idle
// threads. Called from osinit, events still masked.
func xenThreadsInit() {
	if xenPVH {
		xenKernelCS, xenKernelSS = 0x08, 0x10
	}
	n := xenBootU32(_xen_boot_nr_cpus)
	if n < 1 || n > _XEN_MAX_CPUS {
		n = 1
	}
	xenNCPU = n
	cpus := uintptr(xenBootU64(_xen_boot_cpus))
	for i := uint32(0); i < n; i++ {
		c := &xenCPUs[i]
		c.id = i
		c.shim = cpus + uintptr(i)*_sizeof_xen_cpu
		*(*uintptr)(unsafe.Pointer(c.shim + _xen_cpu_go)) = uintptr(unsafe.Pointer(c))
		c.idle.initContext(abi.FuncPCABI0(xenIdleLoop),
			uintptr(unsafe.Pointer(&xenIdleStack[i][0]))+uintptr(len(xenIdleStack[i])),
			uintptr(unsafe.Pointer(&c.idleTLS[0])))
		c.idle.deadline = -1
		c.idle.cpu = i
		c.cur = c.idle.addr()
	}

	m0.thread = xenM0Thread.addr()
	t := &xenM0Thread
	t.mp = uintptr(unsafe.Pointer(&m0))
	t.ctx.fx = (uintptr(unsafe.Pointer(&t.ctx.fxbuf[0])) + 15) &^ 15
	t.ctx.fsbase = uint64(uintptr(unsafe.Pointer(&m0.tls[0])) + 8)
	t.state = xthreadRunning
	t.deadline = -1
	xenThreadAdd(t)
	xenCPUs[0].cur = t.addr()

	// The event callback becomes the thread layer's upcall: through the shim's vector stub
	// as PVH, and for every vCPU > 0 from its first context (cpu.c).
	*(*uint64)(unsafe.Pointer(xenBootAddr() + _xen_boot_upcall)) = uint64(abi.FuncPCABI0(xenUpcall))
	*(*uint64)(unsafe.Pointer(xenBootAddr() + _xen_boot_ap_entry)) = uint64(abi.FuncPCABI0(xenAPEntry))
	if xenPVH {
		return
	}
	// PV: callback_op, xen/callback.h.
	var cb struct {
		typ, flags uint16
		_          uint32
		address    uint64
	}
	cb.typ = _CALLBACKTYPE_event
	cb.address = uint64(abi.FuncPCABI0(xenUpcall))
	if r := int64(hypercall(_HYPERVISOR_callback_op, _CALLBACKOP_register, uintptr(unsafe.Pointer(&cb)), 0)); r != 0 {
		print("xen: callback_op(register event) failed: ", r, "\n")
		throw("xenThreadsInit")
	}
}

// xenThreadsStart allocates the scheduler stacks, starts the other vCPUs and enables event
// delivery: from here on the thread layer switches threads. Called from mpreinit for m0.
func xenThreadsStart() {
	for i := uint32(0); i < xenNCPU; i++ {
		gp := malg(64 << 10)
		gp.m = &m0
		xenSchedGs[i] = gp
		c := &xenCPUs[i]
		c.schedStackHi = gp.stack.hi &^ 15
		c.schedGp = uintptr(unsafe.Pointer(gp))
	}
	for i := uint32(1); i < xenNCPU; i++ {
		if r := xenShimCPUUp(i, 1); r != 0 {
			print("xen: vCPU ", i, " did not start (error ", r, "): running on ", i, " vCPUs\n")
			xenNCPU = i
			break
		}
	}
	xenEventsRestore(0)
}

// xenEarly reports whether the thread layer cannot switch yet (early runtime init: one
// thread, events masked, no scheduler stack); waits then spin in Xen until their deadline.
//
//go:nosplit
func xenEarly() bool {
	return xenCPUs[0].schedGp == 0
}

// xenThreadParams reads the thread layer's kernel parameters (timerearly). Called from m0's
// minit, once schedinit has parsed the command line.
func xenThreadParams() {
	if v, ok := xenKernelParam("timerearly"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			print("xen: timerearly=", v, ": not a number of nanoseconds, ignored\n")
		} else {
			xenTimerEarly = int64(n)
		}
	}
}

// xenSchedule is the thread layer's decision, on the vCPU's scheduler stack with events
// masked and the vCPU's current thread's context saved (xenUpcall, xenSwitch); a voluntary
// switch holds the lock already. It sets the vCPU's cur to the thread xenResume resumes and
// returns with the lock held (xenEnterSched releases it).
//
//go:nowritebarrierrec
func xenSchedule(voluntary bool) {
	me := xenMe()
	if !voluntary {
		xenLock()
	}
	cur := xthreadOf(me.cur)
	if cur.mp != 0 {
		setMNoWB(&getg().m, (*m)(unsafe.Pointer(cur.mp)))
	}
	if voluntary {
		xenSwitches++
	} else {
		xenUpcalls++
	}
	me.kicked = 0
	now := nanotime()
	xenProfTick(me, cur, voluntary, now)
	// Forget the upcall that brought us here before looking at the ports: an event from
	// now on sets it again and is seen at the next decision.
	atomic.Store8((*uint8)(unsafe.Pointer(me.shim+_vcpu_info_upcall_pending)), 0)
	if evtchnCollect() {
		xenNetpollWake = 1
	}
	if xenNetpollWake != 0 {
		if t := xthreadOf(xenNetpollThread); t != nil && t.state == xthreadBlocked {
			xenRunqPush(t)
		}
	}
	woke := false
	for t := xthreadOf(xenAllThreads); t != nil; t = xthreadOf(t.allnext) {
		if t.state == xthreadBlocked && t.deadline >= 0 && t.deadline <= now {
			xenRunqPush(t)
			woke = true
		}
	}

	if me.park {
		xenParkLocked(me, cur, voluntary) // does not return
	}
	next := cur
	switch {
	case voluntary:
		// cur set its own state: blocked (perhaps woken above already), yielding or dead.
		if cur.state == xthreadYielding {
			xenRunqPush(cur)
		}
		if cur.state == xthreadDead && cur.exitWait != 0 {
			// Off its g0 stack at last (we are on the scheduler's): mexit's waiter may
			// free it now.
			(*atomic.Uint32)(unsafe.Pointer(cur.exitWait)).Store(0)
			cur.exitWait = 0
		}
		next = nil
	case cur == &me.idle:
		next = nil
	case xenRunqHead != 0 && (woke || now-cur.sliceStart >= xenTimeslice):
		xenRunqPush(cur)
		next = nil
	}
	if next == nil {
		next = xenRunqPop()
		if next == nil {
			next = &me.idle
		}
		next.sliceStart = now
	}
	next.state = xthreadRunning
	next.cpu = me.id
	me.cur = next.addr()
	xenDeliverPreempt(next)
	xenArmTimer(me, now)
	xenKick(me)
}

// xenParkLocked takes vCPU me down for a suspend (xenSuspend asked): its thread goes back
// to the run queue for the others, the deadlines its timer kept move to vCPU 0, and the
// shim's VCPUOP_down stops it until xenSuspend brings it up again at xenAPEntry.
//
//go:nowritebarrierrec
func xenParkLocked(me *xenCPU, cur *xthread, voluntary bool) {
	if cur != &me.idle {
		if !voluntary || cur.state == xthreadYielding {
			xenRunqPush(cur)
		}
	}
	for t := xthreadOf(xenAllThreads); t != nil; t = xthreadOf(t.allnext) {
		if t.cpu == me.id {
			t.cpu = 0
		}
	}
	me.cur = me.idle.addr()
	me.idle.state = xthreadRunning
	me.sliceArmed = false
	me.parked.Store(1)
	xenIPI(&xenCPUs[0])
	hypercall(_HYPERVISOR_set_timer_op, 0, 0, 0)
	me.timerArmed = 0
	// xenEnterSched put this vCPU's scheduler g into cur's TLS and puts cur's own back once
	// xenSchedule returns, which it does not here: xenPark does it, as its first step
	// (after it, getg() is cur's g again: no Go code may run on this stack).
	xenPark(me.id, uintptr(cur.ctx.fsbase)-8, cur.ctx.g) // releases the lock; never returns
}

// xenArmTimer sets vCPU me's one-shot timer (set_timer_op, system time) to the earliest
// deadline of the threads blocked on it or the end of the running thread's slice when
// another one waits (lock held).
//
//go:nosplit
func xenArmTimer(me *xenCPU, now int64) {
	d := int64(0)
	for t := xthreadOf(xenAllThreads); t != nil; t = xthreadOf(t.allnext) {
		if t.state == xthreadBlocked && t.deadline >= 0 && t.cpu == me.id && (d == 0 || t.deadline < d) {
			d = t.deadline
		}
	}
	me.sliceArmed = false
	busy := me.cur != me.idle.addr()
	if xenRunqHead != 0 && busy {
		if end := xthreadOf(me.cur).sliceStart + xenTimeslice; d == 0 || end < d {
			d = end
		}
		me.sliceArmed = true
	}
	if xenProf.interval != 0 && busy {
		if end := now + xenProf.budget; d == 0 || end < d {
			d = end
		}
	}
	if d != 0 && d <= now {
		d = now + 1 // 0 would cancel the timer
	}
	// Xen's one-shot timer fires once, when Xen's clock reaches the deadline; this vCPU's
	// pvclock may then still read a time before it (seen as PVH under QEMU: by up to 1.7 ms).
	// Nobody's deadline passed, the same d comes out again, and it must be set again: taken
	// for still armed, no timer was left, and a goroutine spinning without calls kept the
	// vCPU until some other event came (a total stall when the network's events waited on a
	// goroutine it held up). Set again as it was, Xen would fire at once, over and over, until
	// this clock caught up; so it is set later by the lead seen (at most a time slice per
	// early firing, a firing on time ends the correction).
	if atomic.Xchg(&me.timerFired, 0) != 0 {
		if me.timerArmed > now {
			me.timerLead += min(me.timerArmed-now, xenTimeslice)
		} else {
			me.timerLead = 0
		}
		me.timerArmed = 0
	}
	if d != me.timerArmed {
		me.timerArmed = d
		if d != 0 {
			d += me.timerLead
			if d > xenTimerEarly {
				d -= xenTimerEarly
			}
		}
		hypercall(_HYPERVISOR_set_timer_op, uintptr(d), 0, 0)
	}
}

// xenDeliverPreempt handles a preemption request for t before it resumes, as the Unix
// SIGURG handler does (doSigPreempt): at an async-safe point of the interrupted goroutine the
// saved context calls asyncPreempt. A thread stopped voluntarily is inside the runtime, never
// at such a point; the request is acknowledged all the same.
//
//go:nowritebarrierrec
func xenDeliverPreempt(t *xthread) {
	if t.mp == 0 || t.sigPreempt.Load() == 0 {
		return
	}
	t.sigPreempt.Store(0)
	mp := (*m)(unsafe.Pointer(t.mp))
	gp := (*g)(unsafe.Pointer(t.ctx.g))
	if t.ctx.voluntary == 0 && gp != nil && debug.asyncpreemptoff == 0 && wantAsyncPreempt(gp) {
		if ok, newpc := isAsyncSafePoint(gp, uintptr(t.ctx.rip), uintptr(t.ctx.rsp), 0); ok {
			sp := uintptr(t.ctx.rsp) - goarchPtrSize
			*(*uintptr)(unsafe.Pointer(sp)) = newpc
			t.ctx.rsp = uint64(sp)
			t.ctx.rip = uint64(abi.FuncPCABI0(asyncPreempt))
			xenPreemptsDelivered++
		}
	}
	mp.preemptGen.Add(1)
	mp.signalPending.Store(0)
}

const goarchPtrSize = 8

// xenProf is the CPU profiler's clock: busy time is the time threads other than the idle
// threads held the vCPUs (lock held).
var xenProf struct {
	interval      int64 // busy ns between samples (1e9/hz); 0: profiling off
	budget        int64 // busy ns left until the next sample
	samples, lost uint64
}

// xenProfSetRate starts (hz > 0) or stops CPU profiling (setProcessCPUProfiler).
func xenProfSetRate(hz int32) {
	old := xenLockMasked()
	if hz > 0 {
		xenProf.interval = 1e9 / int64(hz)
		xenProf.budget = xenProf.interval
		now := nanotime()
		for i := range xenCPUs {
			xenCPUs[i].profLast = now
		}
	} else {
		xenProf.interval = 0
	}
	xenUnlockRestore(old)
}

// xenProfTick charges cur's time on vCPU me since the vCPU's last decision and, once
// another 1/hz of busy time has passed, records a sample of cur's interrupted context with
// sigprof, the SIGPROF handler's work on Unix. A thread that gave up the vCPU itself is
// inside the runtime waiting, not using the CPU as its context shows it, and a thread holding
// the profiler's lock (setcpuprofilerate, whose thread has profilehz 0 anyway) cannot be
// waited for here: such a tick is counted as lost.
//
//go:nowritebarrierrec
func xenProfTick(me *xenCPU, cur *xthread, voluntary bool, now int64) {
	if xenProf.interval == 0 {
		return
	}
	if cur != &me.idle {
		xenProf.budget -= now - me.profLast
	}
	me.profLast = now
	if xenProf.budget > 0 {
		return
	}
	xenProf.budget += xenProf.interval
	if xenProf.budget <= 0 {
		xenProf.budget = xenProf.interval // one sample per tick, never a burst
	}
	if voluntary || cur.mp == 0 || cur.ctx.g == 0 || prof.signalLock.Load() != 0 {
		xenProf.lost++
		return
	}
	xenProf.samples++
	sigprof(uintptr(cur.ctx.rip), uintptr(cur.ctx.rsp), 0, (*g)(unsafe.Pointer(cur.ctx.g)), (*m)(unsafe.Pointer(cur.mp)))
}

// xenBlock takes the running thread off its vCPU until deadline (-1: none) or until what it
// waits for (waitSema, waitNet) wakes it. Events must be masked and the lock held; on return
// events are masked and the lock is not held.
//
//go:nosplit
func xenBlock(t *xthread, deadline int64) {
	t.deadline = deadline
	t.state = xthreadBlocked
	xenSwitch()
}

// xenNewThread starts a thread for mp at xenThreadStart, which calls mstart on mp.g0.
//
//go:nowritebarrier
func xenNewThread(mp *m) {
	t := mp.xthread()
	t.mp = uintptr(unsafe.Pointer(mp))
	t.deadline = -1
	t.initContext(abi.FuncPCABI0(xenThreadStart), mp.g0.stack.hi, uintptr(unsafe.Pointer(&mp.tls[0])))
	t.ctx.r13 = uint64(uintptr(unsafe.Pointer(mp)))
	t.ctx.r9 = uint64(uintptr(unsafe.Pointer(mp.g0)))
	old := xenLockMasked()
	xenThreadAdd(t)
	xenRunqPush(t)
	xenKick(xenMe())
	xenUnlockRestore(old)
}

// xenExitThread ends the running thread (mexit): it leaves the list, tells the runtime its
// g0 stack may be freed, and gives up its vCPU for good.
//
//go:nosplit
func xenExitThread(wait *atomic.Uint32) {
	xenEventsMask()
	xenLock()
	t := xenSelf()
	xenThreadRemove(t)
	t.state = xthreadDead
	t.mp = 0
	// Its record serves the next M once this switch has saved into it for the last time:
	// nothing takes it before the scheduler releases the lock, after the save.
	t.next = xenFreeThreads
	xenFreeThreads = t.addr()
	// The g0 stack may be freed once wait is 0, and xenSwitch still uses it: the scheduler
	// stores the 0 after the switch (exitThread on Linux stores it just before the exit
	// system call, off the stack too).
	t.exitWait = uintptr(unsafe.Pointer(wait))
	xenSwitch()
	throw("xen: a dead thread was resumed")
}

//go:nosplit
func xenEarlyWait(deadline int64) {
	for deadline < 0 || nanotime() < deadline {
		if deadline < 0 {
			throw("xen: a wait without deadline before the thread layer started")
		}
		hypercall(_HYPERVISOR_sched_op, _SCHEDOP_yield, 0, 0)
	}
}

//go:nosplit
func xenSemasleep(ns int64) int32 {
	if xenEarly() {
		t := xenSelf()
		if t.sema == 0 {
			xenEarlyWait(nanotime() + ns)
		}
		if t.sema > 0 {
			t.sema--
			return 0
		}
		return -1
	}
	old := xenLockMasked()
	t := xenSelf()
	if t.sema == 0 {
		deadline := int64(-1)
		if ns >= 0 {
			deadline = nanotime() + ns
		}
		t.waitSema = true
		xenBlock(t, deadline)
		xenLock()
		t.waitSema = false
		t.deadline = -1
	}
	r := int32(-1)
	if t.sema > 0 {
		t.sema--
		r = 0
	}
	xenUnlockRestore(old)
	return r
}

//go:nosplit
func xenSemawakeup(mp *m) {
	t := mp.xthread()
	old := xenLockMasked()
	t.sema++
	if t.state == xthreadBlocked && t.waitSema {
		xenRunqPush(t)
		xenKick(xenMe())
	}
	xenUnlockRestore(old)
}

//go:nosplit
func xenUsleep(usec uint32) {
	if xenEarly() {
		xenEarlyWait(nanotime() + int64(usec)*1000)
		return
	}
	old := xenLockMasked()
	t := xenSelf()
	xenBlock(t, nanotime()+int64(usec)*1000)
	xenLock()
	t.deadline = -1
	xenUnlockRestore(old)
}

//go:nosplit
func xenYield() {
	if xenEarly() {
		return
	}
	old := xenLockMasked()
	xenSelf().state = xthreadYielding
	xenSwitch()
	xenEventsRestore(old)
}

// xenNetpollBlock blocks the running thread in netpoll until an event channel fires,
// netpollBreak is called, or delay (ns, < 0: none) passes.
//
//go:nosplit
func xenNetpollBlock(delay int64) {
	old := xenLockMasked()
	t := xenSelf()
	if evtchnCollect() {
		xenNetpollWake = 1
	}
	if xenNetpollWake == 0 && !evtchnAnyReady() {
		deadline := int64(-1)
		if delay > 0 {
			deadline = nanotime() + delay
		}
		t.waitNet = true
		xenNetpollThread = t.addr()
		xenBlock(t, deadline)
		xenLock()
		xenNetpollThread = 0
		t.waitNet = false
		t.deadline = -1
	}
	xenNetpollWake = 0
	xenUnlockRestore(old)
}

//go:nosplit
func xenNetpollBreak() {
	old := xenLockMasked()
	xenNetpollWake = 1
	if t := xthreadOf(xenNetpollThread); t != nil && t.state == xthreadBlocked {
		xenRunqPush(t)
		xenKick(xenMe())
	}
	xenUnlockRestore(old)
}

// xenPreemptM asks for mp's goroutine to be preempted when its thread next resumes; a
// thread running on another vCPU is interrupted by an IPI for it, as SIGURG interrupts it.
//
//go:nosplit
func xenPreemptM(mp *m) {
	if mp.signalPending.CompareAndSwap(0, 1) {
		t := mp.xthread()
		t.sigPreempt.Store(1)
		old := xenLockMasked()
		if me := xenMe(); t.state == xthreadRunning && t.cpu != me.id {
			xenIPI(&xenCPUs[t.cpu])
		}
		xenUnlockRestore(old)
	}
}
