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

import "unsafe"

// xenEntryTSC is the time-stamp counter at the kernel's first instruction
// (written by _rt0_amd64_xen).
var xenEntryTSC uint64

// xenBootTraceOn reports whether the command line has the word boottrace=1.
func xenBootTraceOn() bool {
	line := gostringnocopy((*byte)(unsafe.Pointer(xenStartInfo() + _start_info_cmd_line)))
	if len(line) >= _MAX_GUEST_CMDLINE {
		line = line[:_MAX_GUEST_CMDLINE-1]
	}
	const word = "boottrace=1"
	for i := 0; i+len(word) <= len(line); i++ {
		if (i == 0 || line[i-1] == ' ') && line[i:i+len(word)] == word &&
			(i+len(word) == len(line) || line[i+len(word)] == ' ') {
			return true
		}
	}
	return false
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

// xen_SystemTime is internal/xen.SystemTime: Xen system time in nanoseconds.
//
//go:linkname xen_SystemTime internal/xen.SystemTime
func xen_SystemTime() int64 {
	return nanotime()
}
