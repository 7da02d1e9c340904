// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package exec

import "errors"

// ErrNotFound is the error resulting if a path search failed to find an executable file.
var ErrNotFound = errors.New("executable file not found in $PATH")

// lookPath finds nothing: a xen kernel is the only program in its domain and
// cannot start another, so no file counts as executable.
func lookPath(file string) (string, error) {
	return "", &Error{file, ErrNotFound}
}

// lookExtensions leaves path as it is: only Windows adds extensions.
func lookExtensions(path, dir string) (string, error) {
	return path, nil
}
