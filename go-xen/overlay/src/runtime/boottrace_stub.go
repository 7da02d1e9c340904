// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build !xen

package runtime

// bootTraceStage prints the boot timeline on GOOS=xen (boottrace_xen.go); runtime.main
// calls it on every port, and elsewhere it does nothing.
func bootTraceStage(stage int) {}
