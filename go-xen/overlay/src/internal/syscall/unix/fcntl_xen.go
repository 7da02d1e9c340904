// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package unix

import "syscall"

// Fcntl is not supported on xen: descriptors have no flags to get or set.
func Fcntl(fd int, cmd int, arg int) (int, error) {
	return 0, syscall.ENOSYS
}

// IsNonblock reports false: every descriptor on xen is blocking (see
// internal/poll/fd_poll_xen.go).
func IsNonblock(fd int) (nonblocking bool, err error) {
	return false, nil
}

func HasNonblockFlag(flag int) bool {
	return flag&syscall.O_NONBLOCK != 0
}
