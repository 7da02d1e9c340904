// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Event channels for drivers (xen/include/public/event_channel.h).
//
// A driver goroutine blocks in evtchnWait(port) until the port fires. The upcall
// never runs Go code: netpoll (netpoll_xen.go) moves pending ports from shared_info
// into evtchnSeen, and evtchnReady hands each waiting goroutine back to the
// scheduler. One goroutine waits on a port at a time.
//
// The functions are pushed into internal/xen with go:linkname; that package is the
// only user and documents the API.

package runtime

import (
	"internal/runtime/atomic"
	"internal/runtime/sys"
	"unsafe"
)

const (
	_EVTCHNOP_bind_virq     = 1 // struct evtchn_bind_virq {virq, vcpu, port}
	_EVTCHNOP_close         = 3 // struct evtchn_close {port}
	_EVTCHNOP_alloc_unbound = 6 // struct evtchn_alloc_unbound {dom u16, remote_dom u16, port}
	_EVTCHNOP_unmask        = 9 // struct evtchn_unmask {port}

	_nr_evtchn_ports = _nr_evtchn_words * 64
)

// evtchnWaiter[port] is the goroutine blocked in evtchnWait on port. evtchnLock orders a
// goroutine parking on a port against netpoll handing out the port's event (both may run on
// different threads, and a thread may lose the vCPU between any two instructions).
var evtchnWaiter [_nr_evtchn_ports]guintptr
var evtchnLock mutex

// evtchnOrphans are the goroutines that waited on a port when the domain was restored from
// a save (suspend_xen.go): the ports are gone, evtchnReady hands them back (evtchnWait
// returns) and their drivers wait on new ones.
var evtchnOrphans gList

// evtchnAnyReady reports whether a port has both fired and a waiter (events masked: the
// thread layer's check before netpoll blocks).
//
//go:nosplit
func evtchnAnyReady() bool {
	if !evtchnOrphans.empty() {
		return true
	}
	for i := range evtchnSeen {
		for bits := atomic.Load64(&evtchnSeen[i]); bits != 0; bits &= bits - 1 {
			if evtchnWaiter[uint32(i)*64+uint32(sys.TrailingZeros64(bits))] != 0 {
				return true
			}
		}
	}
	return false
}

//go:nosplit
func evtchnSeenTake(port uint32) bool {
	w := &evtchnSeen[port/64]
	bit := uint64(1) << (port % 64)
	if atomic.Load64(w)&bit == 0 {
		return false
	}
	atomic.And64(w, ^bit)
	return true
}

// evtchnReady returns the goroutines whose port fired, and the change to netpollWaiters.
func evtchnReady() (gList, int32) {
	var toRun gList
	delta := int32(0)
	lock(&evtchnLock)
	for !evtchnOrphans.empty() {
		toRun.push(evtchnOrphans.pop())
		delta--
	}
	for i := range evtchnSeen {
		for bits := atomic.Load64(&evtchnSeen[i]); bits != 0; bits &= bits - 1 {
			port := uint32(i)*64 + uint32(sys.TrailingZeros64(bits))
			if gp := evtchnWaiter[port].ptr(); gp != nil {
				evtchnSeenTake(port)
				evtchnWaiter[port] = 0
				toRun.push(gp)
				delta--
			}
		}
	}
	unlock(&evtchnLock)
	return toRun, delta
}

func evtchnParkCommit(gp *g, p unsafe.Pointer) bool {
	port, gen := uint32(uintptr(p)), uint32(uintptr(p)>>32)
	lock(&evtchnLock)
	if gen != xenSuspendGen.Load() {
		unlock(&evtchnLock)
		return false // the domain was restored on the way here: the port is gone
	}
	if evtchnSeenTake(port) {
		unlock(&evtchnLock)
		return false // fired while we were getting here
	}
	evtchnWaiter[port].set(gp)
	unlock(&evtchnLock)
	netpollAdjustWaiters(1)
	return true
}

// evtchnOp issues EVTCHNOP cmd on arg and returns Xen's result (0 or -errno).
func evtchnOp(cmd uintptr, arg unsafe.Pointer) int64 {
	return int64(hypercall(_HYPERVISOR_event_channel_op, cmd, uintptr(arg), 0))
}
