// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build !xen

package runtime

import "math"

// osDefaultMemoryLimit is the soft memory limit without GOMEMLIMIT: none, as upstream. On
// xen the domain's size sets one (mem_xen.go).
func osDefaultMemoryLimit() int64 { return math.MaxInt64 }
