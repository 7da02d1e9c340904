// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Sockets on xen are not system calls: package net is served by the network
// stack that runs in the program itself. These are the socket calls package net
// and others compile against; every one fails with ENOSYS.

package syscall

func Socket(proto, sotype, unused int) (fd int, err error) { return 0, ENOSYS }
func Bind(fd int, sa Sockaddr) error                       { return ENOSYS }
func StopIO(fd int) error                                  { return ENOSYS }
func Listen(fd int, backlog int) error                     { return ENOSYS }
func Connect(fd int, sa Sockaddr) error                    { return ENOSYS }
func Shutdown(fd int, how int) error                       { return ENOSYS }

func Accept(fd int) (newfd int, sa Sockaddr, err error) { return 0, nil, ENOSYS }

func Recvfrom(fd int, p []byte, flags int) (n int, from Sockaddr, err error) {
	return 0, nil, ENOSYS
}

func Sendto(fd int, p []byte, flags int, to Sockaddr) error { return ENOSYS }

func Recvmsg(fd int, p, oob []byte, flags int) (n, oobn, recvflags int, from Sockaddr, err error) {
	return 0, 0, 0, nil, ENOSYS
}

func SendmsgN(fd int, p, oob []byte, to Sockaddr, flags int) (n int, err error) {
	return 0, ENOSYS
}

func GetsockoptInt(fd, level, opt int) (value int, err error) { return 0, ENOSYS }
func SetsockoptInt(fd, level, opt int, value int) error       { return ENOSYS }
func SetReadDeadline(fd int, t int64) error                   { return ENOSYS }
func SetWriteDeadline(fd int, t int64) error                  { return ENOSYS }
