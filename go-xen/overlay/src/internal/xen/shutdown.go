// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build xen

package xen

// How a domain ends, in order. Every way out goes through one of these three paths; nothing
// else calls SCHEDOP_shutdown.
//
// 1. A clean exit: main returns or os.Exit is called (runtime/os_xen.go, exit):
//      a. the AtExit functions, most recent first, on the exiting goroutine, the network
//         still up (net: wait at most 10 s until TCP data is acknowledged, drain_xen.go);
//      b. the AtShutdown functions, most recent first (drivers disconnect from their
//         backends: netfront);
//      c. "exit status N" on the console;
//      d. SCHEDOP_shutdown with reason poweroff, or the reason the toolstack asked for when
//         the program exited because of its request (runtime/sigqueue_xen.go,
//         setExitReason).
//    a and b run once; os.Exit from an AtExit function goes straight to c.
// 2. A toolstack request (xl shutdown, xl reboot: control/shutdown, internal/xen/control):
//      - a program that called signal.Notify for SIGTERM gets it and exits by itself: path
//        1 with the requested reason;
//      - after signal.Ignore(SIGTERM) the request is ignored;
//      - otherwise Shutdown(reason) below: b, then for poweroff c and d (exit status 0,
//        without a: nobody is waiting for the network), for reboot d alone.
// 3. A crash: a fatal panic or throw prints its trace, then "xen: fatal error: shutting down
//    with reason crash" and SCHEDOP_shutdown(crash) (runtime/os_xen.go, exit): nothing
//    else runs.

import "sync"

// Shutdown reasons (SCHEDOP_shutdown, xen/include/public/sched.h).
const (
	ShutdownPoweroff = 0
	ShutdownReboot   = 1
	ShutdownCrash    = 3
)

// Shutdown ends the domain. Poweroff is a clean exit: it prints "exit status 0" first.
// The functions registered with AtShutdown run first, most recent first.
func Shutdown(reason uint32) {
	runShutdownFuncs()
	shutdown(reason)
}

// runShutdownFuncs runs (once) the functions registered with AtShutdown, most recent first.
func runShutdownFuncs() {
	shutdownMu.Lock()
	fs := shutdownFuncs
	shutdownFuncs = nil
	shutdownMu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

var (
	shutdownMu    sync.Mutex
	shutdownFuncs []func()
)

// AtShutdown registers f to run before the domain ends (drivers use it to disconnect from
// their backends): in Shutdown, and on a clean exit after the AtExit functions. It does not
// run on a crash.
func AtShutdown(f func()) {
	installExitHook()
	shutdownMu.Lock()
	shutdownFuncs = append(shutdownFuncs, f)
	shutdownMu.Unlock()
}

// Implemented in the runtime (runtime/hooks_xen.go).
func setExitHook(f func())

var (
	atExitMu    sync.Mutex
	atExitFuncs []func()
)

// AtExit registers f to run when the program exits cleanly: main returns or os.Exit is
// called (not on a crash, and not on an immediate toolstack shutdown, see AtShutdown).
// The functions run most recent first, on the exiting goroutine, before "exit status N"
// and the end of the domain; the other goroutines keep running meanwhile. On Unix the
// kernel outlives the process and still delivers what it wrote to its sockets; here
// the domain ends with the program, so a stack registers a bounded wait for its
// unsent data. The drivers' AtShutdown functions run after them.
func AtExit(f func()) {
	installExitHook()
	atExitMu.Lock()
	defer atExitMu.Unlock()
	atExitFuncs = append(atExitFuncs, f)
}

var exitHookOnce sync.Once

func installExitHook() { exitHookOnce.Do(func() { setExitHook(runAtExit) }) }

// runAtExit is the runtime's exit hook: the AtExit functions (the network still up), then
// the drivers' disconnects.
func runAtExit() {
	atExitMu.Lock()
	fs := atExitFuncs
	atExitMu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
	runShutdownFuncs()
}
