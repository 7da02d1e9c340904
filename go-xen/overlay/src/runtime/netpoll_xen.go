// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// netpoll on xen: the event channels. An M that finds nothing to run calls netpoll(delay)
// and blocks its thread in the thread layer (thread_xen.go) until a port fires, netpollBreak
// is called, or the delay passes; other threads (sysmon) run meanwhile, and with no thread
// runnable the vCPU blocks in Xen. The thread layer collects pending ports from shared_info
// into evtchnSeen at every decision (evtchnCollect); evtchnReady (evtchn_xen.go) hands the
// goroutines waiting on those ports back to the scheduler.
//
// Driver goroutines wait on event channels (evtchn_xen.go); netpollAnyWaiters counts them, so
// a program with no timers and no such waiter still gets the runtime's deadlock report
// instead of sleeping forever.

package runtime

import (
	"internal/runtime/atomic"
	"unsafe"
)

var netpollInited atomic.Uint32

// netpollWaiters counts goroutines blocked on an event channel.
var netpollWaiters atomic.Uint32

func netpollGenericInit() {
	netpollInited.Store(1)
}

func netpollinited() bool {
	return netpollInited.Load() != 0
}

func netpollAnyWaiters() bool {
	return netpollWaiters.Load() > 0
}

func netpollAdjustWaiters(delta int32) {
	if delta != 0 {
		netpollWaiters.Add(delta)
	}
}

// netpollBreak wakes the thread blocked in netpoll, or makes the next netpoll return at once.
func netpollBreak() {
	xenNetpollBreak()
}

func netpoll(delay int64) (gList, int32) {
	if delay != 0 {
		xenNetpollBlock(delay)
	} else {
		evtchnCollect()
	}
	list, n := evtchnReady()
	if !list.empty() && sched.sysmonwait.Load() {
		xenWakeSysmon()
	}
	return list, n
}

// xenWakeSysmon ends sysmon's deep sleep (taken while every P was idle) because work arrived
// on an event channel. On Unix the return from the read system call that brought the work
// wakes it (exitsyscall); here I/O makes no system call, and without this a goroutine that
// computes after an idle spell would not be preempted, nor the network polled, until the next
// timer: a CPU-bound HTTP handler held up every other request.
func xenWakeSysmon() {
	lock(&sched.lock)
	if sched.sysmonwait.Load() {
		sched.sysmonwait.Store(false)
		notewakeup(&sched.sysmonnote)
	}
	unlock(&sched.lock)
}

// evtchnSeen records ports that fired since their owner last looked (one bit per port).
var evtchnSeen [_nr_evtchn_words]uint64

// evtchnCollect moves every pending, unmasked port from shared_info into evtchnSeen
// (clearing it in shared_info) and reports whether a port other than the vCPUs' timer and IPI
// ports fired; a timer's port sets its vCPU's timerFired. Every vCPU's pending_sel is cleared
// first, not only this one's: Xen raises a vCPU's upcall only when it sets a bit of that
// vCPU's pending_sel that was clear, so a port of another vCPU's taken here with its
// pending_sel bit left set would make that vCPU miss the next event of the same word.
//
//go:nosplit
func evtchnCollect() bool {
	s := xenSharedInfo()
	for i := uint32(0); i < xenNCPU; i++ {
		atomic.Xchg64((*uint64)(unsafe.Pointer(xenCPUs[i].shim+_vcpu_info_pending_sel)), 0)
	}
	other := false
	for i := uintptr(0); i < _nr_evtchn_words; i++ {
		w := (*uint64)(unsafe.Pointer(s + _shared_info_evtchn_pending + i*_sizeof_evtchn_word))
		m := atomic.Load64((*uint64)(unsafe.Pointer(s + _shared_info_evtchn_mask + i*_sizeof_evtchn_word)))
		p := atomic.Load64(w) &^ m
		if p == 0 {
			continue
		}
		atomic.And64(w, ^p)
		for c := uint32(0); c < xenNCPU; c++ {
			cpu := &xenCPUs[c]
			timer := *(*uint32)(unsafe.Pointer(cpu.shim + _xen_cpu_timer_port))
			ipi := *(*uint32)(unsafe.Pointer(cpu.shim + _xen_cpu_ipi_port))
			if uintptr(timer/64) == i && p&(uint64(1)<<(timer%64)) != 0 {
				p &^= uint64(1) << (timer % 64)
				atomic.Store(&cpu.timerFired, 1)
			}
			if uintptr(ipi/64) == i {
				p &^= uint64(1) << (ipi % 64)
			}
		}
		if p != 0 {
			atomic.Or64(&evtchnSeen[i], p)
			other = true
		}
	}
	return other
}
