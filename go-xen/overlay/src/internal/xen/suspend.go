// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build xen

package xen

// Suspend and resume (xl save / restore, live migration). The toolstack asks through
// control/shutdown = "suspend" (internal/xen/control); Suspend then
//
//  1. runs the drivers' suspend functions, most recent first: each stops using its shared
//     rings and lets go of what a save cannot carry (gnttab unmaps the grant table);
//  2. suspends the domain (the runtime and the shim: runtime/suspend_xen.go,
//     mini-os-shim/suspend.c); the call returns when the domain runs again;
//  3. runs the resume functions in the order they were registered, told whether this is a
//     new domain (restored from a saved image: every event channel, grant and backend
//     connection of the old one is gone, and each driver makes new ones as at boot) or the
//     same one (the suspend was cancelled: everything is as it was).
//
// Goroutines, timers and memory live on: the program does not notice, except that its
// network peers saw a pause (TCP retransmits what was lost meanwhile).

import (
	"errors"
	"sync"
)

// Implemented in the runtime (runtime/suspend_xen.go): 0 resumed in a new domain, 1
// cancelled, < 0 refused by Xen (-errno).
func suspend() int64

type suspender struct {
	suspend func()
	resume  func(newDomain bool)
}

var (
	suspendMu  sync.Mutex // one suspend at a time; held while the lists run
	suspenders []suspender
)

// OnSuspend registers a driver's suspend and resume functions (see above). resume must
// not block for long on a peer that may never answer: it runs before any other resume
// function that registered later.
func OnSuspend(suspend func(), resume func(newDomain bool)) {
	suspendMu.Lock()
	suspenders = append(suspenders, suspender{suspend, resume})
	suspendMu.Unlock()
}

// ErrSuspendCancelled is returned by Suspend when the toolstack cancelled the suspend (a
// checkpoint, xl save -c, or a save that failed): the same domain went on.
var ErrSuspendCancelled = errors.New("xen: suspend cancelled; the domain goes on")

// Suspend suspends the domain for the toolstack to save it (see above) and returns once it
// runs again: nil in a new domain, ErrSuspendCancelled in the same one, or Xen's error.
func Suspend() error {
	suspendMu.Lock()
	defer suspendMu.Unlock()
	for i := len(suspenders) - 1; i >= 0; i-- {
		suspenders[i].suspend()
	}
	rc := suspend()
	for _, s := range suspenders {
		s.resume(rc == 0)
	}
	switch {
	case rc == 0:
		return nil
	case rc > 0:
		return ErrSuspendCancelled
	}
	return errno(rc)
}
