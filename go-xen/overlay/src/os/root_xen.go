// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package os

// Roots on xen work without openat (root_noopenat.go): names are checked, then
// opened by path. The file tree has no symbolic links, so a name escapes its
// root exactly when its ".." elements climb above it; checking that lexically
// has no window for races.

func checkPathEscapes(r *Root, name string) error {
	return checkPathInRoot(r, name)
}

func checkPathEscapesLstat(r *Root, name string) error {
	return checkPathInRoot(r, name)
}

func checkPathInRoot(r *Root, name string) error {
	if r.root.closed.Load() {
		return ErrClosed
	}
	parts, _, err := splitPathInRoot(name, nil, nil)
	if err != nil {
		return err
	}
	depth := 0
	for _, p := range parts {
		if p != ".." {
			depth++
			continue
		}
		if depth == 0 {
			return errPathEscapes
		}
		depth--
	}
	return nil
}
