// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Suspend and resume (xl save and restore, migration): the runtime's part. internal/xen's
// Suspend lets the drivers go quiet, then calls xenSuspend, which takes the other vCPUs down,
// masks events on vCPU 0 (nothing else runs then) and calls the shim's xen_shim_suspend (mini-os-shim/suspend.c):
// the suspend hypercall, and after it shared_info, the published p2m, the timer's VIRQ port
// and the console again. What the shim returns says where we are: 1, the suspend was
// cancelled and the same domain goes on; 0, this is a new domain restored from the image,
// in which every event channel of the old one is gone and no one-shot timer is set. Then the
// runtime forgets the timer it armed and the ports it saw, counts a generation (a wait on a
// port of an earlier one returns at once), and hands back every goroutine blocked on a port
// (evtchnWait returns): its driver re-establishes its connection in its resume function and
// waits on the new port.
//
// System time goes on from the new host's clock: the same host's (xl restore, localhost
// migration) is later, never earlier; a migration to another host can move it either way,
// which nothing here corrects yet.

package runtime

import "internal/runtime/atomic"

// xenShimSuspend calls xen_shim_suspend (sys_xen_amd64.s).
func xenShimSuspend() int64

// xenSuspendGen counts the suspends that ended in a new domain: a port carries the count
// of when it was made (internal/xen.Port), and waiting on one of an earlier generation
// returns at once.
var xenSuspendGen atomic.Uint32

// xenSuspend suspends the domain (internal/xen.suspend, hooks_xen.go) and returns the
// shim's result. With more than one vCPU, the others go down first (xenParkOthers) and the
// suspend runs on vCPU 0, as Xen wants it; they start again afterwards, fresh in a restored
// domain (which has neither their ports nor, when they were down, their contexts).
func xenSuspend() int64 {
	var rc int64
	systemstack(func() {
		old := xenParkOthers()
		rc = xenShimSuspend()
		xenLock()
		for i := range xenCPUs {
			c := &xenCPUs[i]
			c.timerArmed, c.timerLead, c.sliceArmed = 0, 0, false
		}
		if rc == 0 {
			xenNetpollWake = 1
		}
		xenUnlock()
		if rc == 0 {
			lock(&evtchnLock)
			xenSuspendGen.Add(1)
			for i := range evtchnSeen {
				atomic.Store64(&evtchnSeen[i], 0)
			}
			for port := range evtchnWaiter {
				if gp := evtchnWaiter[port].ptr(); gp != nil {
					evtchnWaiter[port] = 0
					evtchnOrphans.push(gp)
				}
			}
			unlock(&evtchnLock)
		}
		fresh := int32(0)
		if rc == 0 {
			fresh = 1
		}
		for i := uint32(1); i < xenNCPU; i++ {
			c := &xenCPUs[i]
			xenLock()
			c.park, c.kicked = false, 0
			c.parked.Store(0)
			xenUnlock()
			if r := xenShimCPUUp(i, fresh); r != 0 {
				print("xen: vCPU ", i, " did not come back after the suspend (error ", r, ")\n")
				throw("xen: a vCPU was lost in a suspend")
			}
		}
		xenEventsRestore(old)
	})
	return rc
}

// xenParkOthers asks every vCPU but 0 to go down (xenParkLocked) and returns once they are,
// on vCPU 0 with events masked (the previous mask is returned). The calling thread may run
// on another vCPU at first: parked, that one hands it back to the run queue.
func xenParkOthers() uint8 {
	for {
		old := xenLockMasked()
		done := xenMe().id == 0
		for i := uint32(1); i < xenNCPU; i++ {
			c := &xenCPUs[i]
			if !c.park {
				c.park = true
				xenIPI(c)
			}
			if c.parked.Load() == 0 || int64(hypercall(_HYPERVISOR_vcpu_op, _VCPUOP_is_up, uintptr(i), 0)) != 0 {
				done = false
			}
		}
		if done {
			xenUnlock()
			return old
		}
		xenUnlockRestore(old)
		usleep(50)
	}
}
