// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package genfile carries generated files of the guest's file system whose content comes
// from packages above syscall: the device tree (syscall/fs_xen.go) lists them, and the
// package that knows their content provides it (net: /proc/net/netstack, its counters). A
// file whose provider is not linked into the program reads as empty.
package genfile

import "sync"

var (
	mu        sync.Mutex
	providers = map[string]func() string{}
)

// Provide makes f produce the content of the generated file path, each time it is opened.
func Provide(path string, f func() string) {
	mu.Lock()
	providers[path] = f
	mu.Unlock()
}

// Content returns path's content now: "" while no package provides it.
func Content(path string) string {
	mu.Lock()
	f := providers[path]
	mu.Unlock()
	if f == nil {
		return ""
	}
	return f()
}
