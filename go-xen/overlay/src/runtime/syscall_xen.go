// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Hooks from the runtime into the std packages that stand in for an OS kernel on
// xen. Each one is pushed with //go:linkname into the package that declares it
// without a body, so that package needs no pull linkname into runtime:
//
//	syscall.consoleWrite               console output for fds 1 and 2 (console_xen.go)
//	crypto/internal/sysrand.readRandom RDRAND entropy for crypto/rand (os_xen.go)
//
// (syscall.now, syscall.runtime_envs, syscall.Exit and os.runtime_args are pushed by
// os_xen.go and runtime.go as on the other ports.)

package runtime

import "unsafe"

//go:linkname syscall_consoleWrite syscall.consoleWrite
func syscall_consoleWrite(b []byte) {
	if len(b) == 0 {
		return
	}
	consoleWrite(unsafe.Pointer(&b[0]), int32(len(b)))
}

//go:linkname sysrand_readRandom crypto/internal/sysrand.readRandom
func sysrand_readRandom(b []byte) int {
	return readRandom(b)
}

// syscall_initrd returns the boot module Xen loaded after the kernel (start_info.mod_start,
// mod_len: the dom0's initrd, or a domU's ramdisk), or nil. The pages lie below the heap
// (xen/include/public/xen.h, "Start-of-day memory layout"), so they stay valid.
//
//go:linkname syscall_initrd syscall.initrd
func syscall_initrd() []byte {
	si := xenStartInfo()
	start := *(*uint64)(unsafe.Pointer(si + _start_info_mod_start))
	n := *(*uint64)(unsafe.Pointer(si + _start_info_mod_len))
	if start == 0 || n == 0 {
		return nil
	}
	if *(*uint32)(unsafe.Pointer(si + _start_info_flags))&_SIF_MOD_START_PFN != 0 {
		start = 0x400000 + start*4096 // a pfn: pfn N is at 0x400000 + N*4096 (mini-os-shim)
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(uintptr(start))), n)
}
