// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// netpoll on xen is where the only M goes idle. With nothing runnable, findRunnable
// calls netpoll(delay): we arm Xen's one-shot timer (set_timer_op, absolute system
// time) and block the vCPU (SCHEDOP_block, xen/include/public/sched.h) until an event
// arrives, the timer's VIRQ_TIMER included. Events stay masked (upcall_mask = 1)
// except inside SCHEDOP_block, where Xen unmasks them; the shim's upcall handler
// returns with the mask set again, and the pending bits are read here.
//
// Driver goroutines wait on event channels (evtchn_xen.go); netpollAnyWaiters counts
// them, so a program with no timers and no such waiter still gets the runtime's
// deadlock report instead of sleeping forever.

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

// netpollBreak has nothing to interrupt: the M that would block is the caller.
func netpollBreak() {}

func netpoll(delay int64) (gList, int32) {
	switch {
	case delay > 0:
		xenBlockUntil(nanotime() + delay)
	case delay < 0:
		xenBlockUntil(-1)
	default:
		evtchnCollect()
	}
	return evtchnReady()
}

// xenBlockUntil blocks the vCPU until system time reaches deadline (-1: none) or a
// non-timer event arrives.
//
//go:nosplit
func xenBlockUntil(deadline int64) {
	vcpu := xenVcpuInfo()
	pending := (*uint8)(unsafe.Pointer(vcpu + _vcpu_info_upcall_pending))
	mask := (*uint8)(unsafe.Pointer(vcpu + _vcpu_info_upcall_mask))
	for {
		// Forget earlier wakeups before arming the timer: from here on any event,
		// the timer's included, sets upcall_pending again and SCHEDOP_block then
		// returns at once, so a wakeup is never lost.
		atomic.Store8(pending, 0)
		if evtchnCollect() {
			return
		}
		if deadline >= 0 {
			if nanotime() >= deadline {
				return
			}
			hypercall(_HYPERVISOR_set_timer_op, uintptr(deadline), 0, 0)
		}
		hypercall(_HYPERVISOR_sched_op, _SCHEDOP_block, 0, 0)
		atomic.Store8(mask, 1)
	}
}

// evtchnSeen records ports that fired since their owner last looked (one bit per port).
var evtchnSeen [_nr_evtchn_words]uint64

// evtchnCollect moves every pending, unmasked port from shared_info into evtchnSeen
// (clearing it in shared_info) and reports whether a port other than the timer's fired.
//
//go:nosplit
func evtchnCollect() bool {
	s := xenSharedInfo()
	timer := xenBootU32(_xen_boot_timer_port)
	sel := (*uint64)(unsafe.Pointer(xenVcpuInfo() + _vcpu_info_pending_sel))
	atomic.Xchg64(sel, 0)
	other := false
	for i := uintptr(0); i < _nr_evtchn_words; i++ {
		w := (*uint64)(unsafe.Pointer(s + _shared_info_evtchn_pending + i*_sizeof_evtchn_word))
		m := atomic.Load64((*uint64)(unsafe.Pointer(s + _shared_info_evtchn_mask + i*_sizeof_evtchn_word)))
		p := atomic.Load64(w) &^ m
		if p == 0 {
			continue
		}
		atomic.And64(w, ^p)
		if uintptr(timer/64) == i {
			p &^= uint64(1) << (timer % 64)
		}
		if p != 0 {
			atomic.Or64(&evtchnSeen[i], p)
			other = true
		}
	}
	return other
}
