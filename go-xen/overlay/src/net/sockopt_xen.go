// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package net

import "syscall"

func setDefaultSockopts(s, family, sotype int, ipv6only bool) error { return nil }
func setDefaultListenerSockopts(s int) error                        { return nil }
func setDefaultMulticastSockopts(s int) error                       { return nil }

func setReadBuffer(fd *netFD, bytes int) error {
	if bytes < 0 {
		return syscall.EINVAL
	}
	if fd.ep != nil {
		fd.ep.SetReceiveBuffer(bytes)
	}
	return nil
}

// setWriteBuffer accepts any size: netstack sends each datagram at once.
func setWriteBuffer(fd *netFD, bytes int) error {
	if bytes < 0 {
		return syscall.EINVAL
	}
	return nil
}

func setKeepAlive(fd *netFD, keepalive bool) error { return syscall.ENOPROTOOPT }
func setLinger(fd *netFD, sec int) error           { return syscall.ENOPROTOOPT }

func sysSocket(family, sotype, proto int) (int, error) {
	return -1, syscall.ENOSYS
}
