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
// It returns the files and an error, if any. The pipe lives in memory
// (syscall/pipe_xen.go); its reads and writes park goroutines, not the vCPU.
func Pipe() (r *File, w *File, err error) {
	var p [2]int
	if e := syscall.Pipe(p[:]); e != nil {
		return nil, nil, NewSyscallError("pipe", e)
	}
	return newFile(p[0], "|0", kindPipe, false), newFile(p[1], "|1", kindPipe, false), nil
}
