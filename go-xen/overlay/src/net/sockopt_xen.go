// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Socket options on xen map onto netstack endpoint settings: receive queues of UDP
// endpoints; buffer sizes (as SO_RCVBUF and SO_SNDBUF: a fixed receive window instead of
// auto-tuning, a bound on unsent data), Nagle, linger and keepalive of TCP connections.

package net

import (
	"syscall"
	"time"
)

func setDefaultSockopts(s, family, sotype int, ipv6only bool) error { return nil }
func setDefaultListenerSockopts(s int) error                        { return nil }
func setDefaultMulticastSockopts(s int) error                       { return nil }

func setReadBuffer(fd *netFD, bytes int) error {
	if bytes < 0 {
		return syscall.EINVAL
	}
	switch {
	case fd.ep != nil:
		fd.ep.SetReceiveBuffer(bytes)
	case fd.tcp != nil:
		fd.tcp.SetReceiveBuffer(bytes)
	}
	return nil
}

// setWriteBuffer bounds a TCP connection's unsent data; a UDP endpoint sends each datagram
// at once and has no send queue to bound.
func setWriteBuffer(fd *netFD, bytes int) error {
	if bytes < 0 {
		return syscall.EINVAL
	}
	if fd.tcp != nil {
		fd.tcp.SetSendBuffer(bytes)
	}
	return nil
}

// setLinger: sec < 0 closes gracefully in the background (with a reset when unread data is
// left, as Linux does); sec == 0 makes Close reset the connection, dropping unsent data;
// sec > 0 closes in the background as sec < 0, which Go's documentation allows ("On some
// operating systems ... Close [may] block").
func setLinger(fd *netFD, sec int) error {
	if fd.tcp == nil {
		return syscall.ENOPROTOOPT
	}
	fd.tcp.SetAbortOnClose(sec == 0)
	return nil
}

func sysSocket(family, sotype, proto int) (int, error) {
	return -1, syscall.ENOSYS
}

func setNoDelay(fd *netFD, noDelay bool) error {
	if fd.tcp == nil {
		return syscall.ENOPROTOOPT
	}
	fd.tcp.SetNoDelay(noDelay)
	return nil
}

// setKeepAliveParam changes fd's keepalive settings with set and hands them to netstack.
func setKeepAliveParam(fd *netFD, set func()) error {
	if fd.tcp == nil {
		return syscall.ENOPROTOOPT
	}
	fd.kaMu.Lock()
	defer fd.kaMu.Unlock()
	set()
	fd.tcp.SetKeepAlive(fd.ka)
	return nil
}

func setKeepAlive(fd *netFD, keepalive bool) error {
	return setKeepAliveParam(fd, func() { fd.ka.Enable = keepalive })
}

// setKeepAliveIdle, setKeepAliveInterval, setKeepAliveCount: 0 leaves the setting alone
// (as on Linux), a negative value restores netstack's default (Go's: 15 s, 15 s, 9).
func setKeepAliveIdle(fd *netFD, d time.Duration) error {
	if d == 0 {
		return nil
	}
	// Whole seconds, as Linux keeps them (roundDurationUp counts units: times time.Second).
	return setKeepAliveParam(fd, func() { fd.ka.Idle = roundDurationUp(max(d, 0), time.Second) * time.Second })
}

func setKeepAliveInterval(fd *netFD, d time.Duration) error {
	if d == 0 {
		return nil
	}
	return setKeepAliveParam(fd, func() { fd.ka.Interval = roundDurationUp(max(d, 0), time.Second) * time.Second })
}

func setKeepAliveCount(fd *netFD, n int) error {
	if n == 0 {
		return nil
	}
	return setKeepAliveParam(fd, func() { fd.ka.Count = max(n, 0) })
}
