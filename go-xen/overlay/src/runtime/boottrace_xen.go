// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// The boot timeline (issue 9): with boottrace=1 on the kernel command line the guest
// prints "goxen-boot: STAGE NS" for the stages entry (the kernel's first instruction),
// runtime (runtime initialized, before any package's init) and main (main.main is
// about to run). NS is Xen system time in nanoseconds, the pvclock reading that
// nanotime returns on xen (time_xen.go). Package net adds the stage net.
//
// The entry stage is the TSC that _rt0_amd64_xen reads before anything else (the
// pvclock is not mapped yet then); it is converted with the pvclock's scale once the
// runtime runs. entry and runtime are printed together, before package init; main is
// printed just before main.main, so the console shows the stages in order.

package runtime

import _ "unsafe" // go:linkname

// xenEntryTSC is the time-stamp counter at the kernel's first instruction
// (written by _rt0_amd64_xen).
var xenEntryTSC uint64

// xenBootTraceOn reports whether the command line has boottrace=1 (cmdline_xen.go).
func xenBootTraceOn() bool {
	v, ok := xenKernelParam("boottrace")
	return ok && v == "1"
}

// bootTraceStage is called by runtime.main (proc.go, edited for xen): stage 0 once the
// runtime is initialized, before the packages' init functions; stage 1 just before
// main.main.
func bootTraceStage(stage int) {
	if !xenBootTraceOn() {
		return
	}
	now := nanotime()
	if stage == 0 {
		print("goxen-boot: entry ", xenTSCToSystem(xenEntryTSC, false), "\n")
		print("goxen-boot: runtime ", now, "\n")
		return
	}
	print("goxen-boot: main ", now, "\n")
}
