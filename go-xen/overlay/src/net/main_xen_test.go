// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package net

import "os/exec"

// net's tests swap system-call hooks on Unix (main_unix_test.go); on xen the sockets are
// netstack endpoints with no such hooks, as on js and wasip1 (main_wasm_test.go).

func installTestHooks() {}

func uninstallTestHooks() {}

func forceCloseSockets() {}

func addCmdInheritedHandle(cmd *exec.Cmd, fd uintptr) {}
