// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package os

import (
	"errors"
	"syscall"
)

// supportsCloseOnExec reports whether the platform supports the O_CLOEXEC flag.
// Nothing is ever executed on xen, so there is nothing to close.
const supportsCloseOnExec = false

func executable() (string, error) {
	return "", errors.New("os: Executable: a xen kernel has no executable file")
}

// Pipe returns a connected pair of Files; reads from r return bytes written to w.
// There is only one thread on xen, so a pipe could only ever deadlock: not supported.
func Pipe() (r *File, w *File, err error) {
	return nil, nil, NewSyscallError("pipe", syscall.ENOSYS)
}
