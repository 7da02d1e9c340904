// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Console output on xen. Dom0 writes with the console_io hypercall (CONSOLEIO_write,
// xen/include/public/xen.h), which goes to Xen's serial console. A domU writes the
// out ring of its PV console page (struct xencons_interface, xen/include/public/io/console.h)
// and notifies the console event channel; xenconsoled in dom0 drains it.

package runtime

import (
	"internal/runtime/atomic"
	"unsafe"
)

//go:nosplit
func consoleWrite(p unsafe.Pointer, n int32) {
	if n <= 0 {
		return
	}
	if xenIsDom0() {
		hypercall(_HYPERVISOR_console_io, _CONSOLEIO_write, uintptr(n), uintptr(p))
		return
	}
	consoleRingWrite(p, n)
}

// consoleRing returns the PV console page (0: none), its out ring's consumer and producer
// indexes and its event channel port.
//
//go:nosplit
func consoleRing() (ring uintptr, consp, prodp *uint32, port uint32) {
	ring = uintptr(xenBootU64(_xen_boot_console_ring))
	consp = (*uint32)(unsafe.Pointer(ring + _xencons_out_cons))
	prodp = (*uint32)(unsafe.Pointer(ring + _xencons_out_prod))
	return ring, consp, prodp, xenBootU32(_xen_boot_console_port)
}

// consoleRingLock keeps writers on different vCPUs from both taking the same producer index.
var consoleRingLock mutex

// consoleRingWrite copies p into the console out ring, waiting for xenconsoled to
// make room when the ring is full; nothing is dropped.
//
//go:nosplit
func consoleRingWrite(p unsafe.Pointer, n int32) {
	ring, consp, prodp, port := consoleRing()
	if ring == 0 {
		return
	}
	lock(&consoleRingLock)
	for i := int32(0); i < n; {
		cons := atomic.Load(consp)
		prod := atomic.Load(prodp)
		if prod-cons >= _xencons_out_size {
			evtchnSend(port)
			osyield()
			continue
		}
		for i < n && prod-cons < _xencons_out_size {
			*(*byte)(unsafe.Pointer(ring + _xencons_out + uintptr(prod&(_xencons_out_size-1)))) = *(*byte)(add(p, uintptr(i)))
			prod++
			i++
		}
		atomic.Store(prodp, prod) // publishes the bytes (x86 stores are ordered)
	}
	unlock(&consoleRingLock)
	evtchnSend(port)
}

// consoleFlush waits until xenconsoled has read everything in the out ring, for at most
// two seconds. The domain calls it before it shuts down: a crash trace or "exit status N"
// written just before SCHEDOP_shutdown can otherwise stay unread in the ring of a
// preserved domain (seen on the test bed: a panic's trace lost).
//
//go:nosplit
func consoleFlush() {
	ring, consp, prodp, port := consoleRing()
	if xenIsDom0() || ring == 0 {
		return
	}
	end := nanotime() + 2e9
	for atomic.Load(consp) != atomic.Load(prodp) && nanotime() < end {
		evtchnSend(port)
		osyield()
	}
}

// evtchnSend notifies an event channel (EVTCHNOP_send, xen/include/public/event_channel.h).
//
//go:nosplit
func evtchnSend(port uint32) {
	hypercall(_HYPERVISOR_event_channel_op, _EVTCHNOP_send, uintptr(unsafe.Pointer(&port)), 0)
}
