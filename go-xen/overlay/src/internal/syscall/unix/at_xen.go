// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package unix

// UTIME_OMIT in a Timespec given to syscall.UtimesNano leaves that time as it is
// (Linux's value; the file tree is read-only on xen, so it is never consulted).
const UTIME_OMIT = 0x3ffffffe
