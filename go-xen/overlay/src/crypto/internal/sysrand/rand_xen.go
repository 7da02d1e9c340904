// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package sysrand

import _ "unsafe" // for go:linkname

// readRandom is runtime.sysrand_readRandom (runtime/syscall_xen.go): it fills b
// from the CPU's RDRAND and returns how many bytes it could fill. The runtime
// refuses to boot on a CPU without RDRAND, so a short count means the hardware
// kept failing to deliver, and that is reported, never papered over.
//
//go:linkname readRandom
func readRandom(b []byte) int

func read(b []byte) error {
	if n := readRandom(b); n < len(b) {
		return errRDRAND
	}
	return nil
}

type rdrandError struct{}

func (rdrandError) Error() string { return "RDRAND returned no random data after repeated retries" }

var errRDRAND error = rdrandError{}
