// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build xen

package xen

// SystemTime returns Xen system time in nanoseconds: the vcpu_time_info pvclock
// (xen/include/public/xen.h), the clock of the boot timeline's "goxen-boot: STAGE NS"
// lines (boottrace=1). It is absolute (counted from Xen's boot, not the guest's) and
// never goes backwards. Implemented in the runtime (runtime/boottrace_xen.go).
func SystemTime() int64
