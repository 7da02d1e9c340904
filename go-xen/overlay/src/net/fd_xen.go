// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Until the network stack is wired in, package net on xen uses the in-process
// network that js and wasip1 use (net_fake.go): listeners and connections
// between goroutines of this program, nothing on the wire.

package net

import (
	"os"
	"syscall"
)

func (fd *netFD) closeRead() error {
	if fd.fakeNetFD == nil {
		return os.NewSyscallError("closeRead", syscall.ENOTSUP)
	}
	return fd.fakeNetFD.closeRead()
}

func (fd *netFD) closeWrite() error {
	if fd.fakeNetFD == nil {
		return os.NewSyscallError("closeWrite", syscall.ENOTSUP)
	}
	return fd.fakeNetFD.closeWrite()
}

// concurrentThreadsLimit bounds concurrent DNS lookups. They are goroutines here,
// not threads.
func concurrentThreadsLimit() int {
	return 500
}
