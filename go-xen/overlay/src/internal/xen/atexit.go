// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build xen

package xen

import "sync"

// Implemented in the runtime (runtime/os_xen.go).
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
