// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Socket options on xen map onto netstack endpoint settings, each kind of socket its own
// (fdtcp_xen.go, fdudp_xen.go): receive queues of UDP endpoints; buffer sizes (as SO_RCVBUF
// and SO_SNDBUF: a fixed receive window instead of auto-tuning, a bound on unsent data),
// Nagle, linger and keepalive of TCP connections.

package net

import (
	"goxen/netstack/transport/tcp"
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
	fd.sock.setReadBuffer(bytes)
	return nil
}

func setWriteBuffer(fd *netFD, bytes int) error {
	if bytes < 0 {
		return syscall.EINVAL
	}
	fd.sock.setWriteBuffer(bytes)
	return nil
}

func setLinger(fd *netFD, sec int) error { return fd.sock.setLinger(sec) }

func sysSocket(family, sotype, proto int) (int, error) {
	return -1, syscall.ENOSYS
}

func setNoDelay(fd *netFD, noDelay bool) error { return fd.sock.setNoDelay(noDelay) }

func setKeepAlive(fd *netFD, keepalive bool) error {
	return fd.sock.setKeepAlive(func(ka *tcp.KeepAlive) { ka.Enable = keepalive })
}

// setKeepAliveIdle, setKeepAliveInterval, setKeepAliveCount: 0 leaves the setting alone
// (as on Linux), a negative value restores netstack's default (Go's: 15 s, 15 s, 9).
func setKeepAliveIdle(fd *netFD, d time.Duration) error {
	if d == 0 {
		return nil
	}
	// Whole seconds, as Linux keeps them (roundDurationUp counts units: times time.Second).
	return fd.sock.setKeepAlive(func(ka *tcp.KeepAlive) { ka.Idle = roundDurationUp(max(d, 0), time.Second) * time.Second })
}

func setKeepAliveInterval(fd *netFD, d time.Duration) error {
	if d == 0 {
		return nil
	}
	return fd.sock.setKeepAlive(func(ka *tcp.KeepAlive) { ka.Interval = roundDurationUp(max(d, 0), time.Second) * time.Second })
}

func setKeepAliveCount(fd *netFD, n int) error {
	if n == 0 {
		return nil
	}
	return fd.sock.setKeepAlive(func(ka *tcp.KeepAlive) { ka.Count = max(n, 0) })
}
