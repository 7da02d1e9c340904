// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Signals on xen. Nothing in Xen is a signal; the one source is the toolstack's
// shutdown request (package internal/xen/control), which becomes SIGTERM when the
// program asked for it with signal.Notify. sigqueue.go's queue is used as on Unix,
// but its sender is an ordinary goroutine (control's watcher), never a signal
// handler, and its receiver must not block the only M: signal_recv's wait goes
// through sigNoteSleep/sigNoteWakeup (as on darwin, see the edits in
// go-xen/edits/runtime.py), which here park and ready os/signal's loop goroutine.

package runtime

import (
	"internal/runtime/atomic"
	"unsafe"
)

// sigRecvG is os/signal's loop goroutine while it is parked in sigNoteSleep.
var sigRecvG guintptr

// sigWoken is set by sigNoteWakeup and consumed by sigNoteSleep, so a wakeup that
// comes before the receiver parks is not lost.
var sigWoken atomic.Uint32

func sigNoteSetup(*note) {}

func sigNoteSleep(*note) {
	for sigWoken.Swap(0) == 0 {
		gopark(sigParkCommit, nil, waitReasonChanReceive, traceBlockForever, 1)
	}
}

// sigParkCommit runs on g0 once gp is off its stack; it parks gp unless a wakeup came in
// between.
func sigParkCommit(gp *g, _ unsafe.Pointer) bool {
	sigRecvG.set(gp)
	if sigWoken.Load() != 0 && sigRecvG.cas(guintptr(unsafe.Pointer(gp)), 0) {
		return false
	}
	return true
}

func sigNoteWakeup(*note) {
	sigWoken.Store(1)
	if gp := sigRecvG.ptr(); gp != nil && sigRecvG.cas(guintptr(unsafe.Pointer(gp)), 0) {
		goready(gp, 1)
	}
}

// xenSigIgnoring has a bit per signal the program ignores (signal.Ignore): what the
// disposition in a Unix kernel would say. sigqueue.go's sig.ignored answers
// signal.Ignored and, as on Unix, survives signal.Reset; this does not.
var xenSigIgnoring [(_NSIG + 31) / 32]uint32

// sigenable, sigdisable and sigignore set a signal's disposition (called by
// signal_enable, signal_disable and signal_ignore): handled by os/signal, default or
// ignored.
func sigenable(s uint32)  { xenSigSetIgnoring(s, false) }
func sigdisable(s uint32) { xenSigSetIgnoring(s, false) }
func sigignore(s uint32)  { xenSigSetIgnoring(s, true) }

func xenSigSetIgnoring(s uint32, on bool) {
	if s >= _NSIG {
		return
	}
	bit := uint32(1) << (s % 32)
	if on {
		atomic.Or(&xenSigIgnoring[s/32], bit)
	} else {
		atomic.And(&xenSigIgnoring[s/32], ^bit)
	}
}

// xenExitReason is the SCHEDOP_shutdown reason exit uses for a clean exit: poweroff,
// or reboot once the toolstack asked for a reboot and the program took it as SIGTERM.
var xenExitReason uint32 = _SHUTDOWN_poweroff

// Results of control_deliverSignal.
const (
	xenSigDefault   = 0 // the program does not handle the signal: act on the request
	xenSigDelivered = 1 // queued for the program's signal.Notify channels
	xenSigIgnored   = 2 // the program called signal.Ignore for it
)
