// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Suspend and resume (xl save and restore, migration): the runtime's part. internal/xen's
// Suspend lets the drivers go quiet, then calls xenSuspend, which masks events (on one vCPU,
// nothing else runs then) and calls the shim's xen_shim_suspend (mini-os-shim/suspend.c):
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
// shim's result.
func xenSuspend() int64 {
	var rc int64
	systemstack(func() {
		old := xenEventsMask()
		rc = xenShimSuspend()
		if rc == 0 {
			xenTimerArmed, xenTimerLead = 0, 0
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
			xenNetpollWake = 1
		}
		xenEventsRestore(old)
	})
	return rc
}
