// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package os

// Every program on xen honours the toolstack's shutdown requests (xl shutdown).
import _ "internal/xen/control"
