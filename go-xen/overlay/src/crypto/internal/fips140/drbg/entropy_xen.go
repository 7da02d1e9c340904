// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package drbg

// getEntropy is the FIPS 140-3 entropy source, which xen leaves out (as wasm does): its
// 32 MiB scratch buffer in .noptrbss would need real pages at load time in every guest that
// imports crypto. crypto/internal/fips140 refuses FIPS mode on xen before this can be reached;
// outside FIPS mode, crypto/rand reads the runtime's RDRAND/RDSEED source (sysrand).
func getEntropy() *[SeedSize]byte {
	panic("FIPS 140-3 entropy generation is not supported on GOOS=xen")
}
