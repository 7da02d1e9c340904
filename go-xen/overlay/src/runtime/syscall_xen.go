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
