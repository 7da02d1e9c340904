// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package net on xen: sockets are endpoints of goxen/netstack, the project's TCP/IP stack,
// running over the domain's netfront vifs and a loopback NIC (net_xen.go starts it). A netFD
// is one such endpoint: UDP (udp.Endpoint) or TCP (tcp.Endpoint, a listener or a
// connection), over IPv4 and IPv6. There are no file descriptors: pfd stays an unused poll.FD so
// that the shared code compiles.

package net

import (
	"errors"
	"goxen/netstack/stack"
	"goxen/netstack/transport/tcp"
	"goxen/netstack/transport/udp"
	"internal/poll"
	"io"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	readSyscallName  = "read"
	writeSyscallName = "write"
)

// Network file descriptor: a netstack endpoint.
type netFD struct {
	pfd poll.FD

	// immutable until Close
	family      int
	sotype      int
	isConnected bool
	net         string
	laddr       Addr
	raddr       Addr

	ep *udp.Endpoint // UDP

	tcp    *tcp.Endpoint // TCP: a listener or a connection
	closed atomic.Bool   // Close was called: every later call fails with ErrClosed
	rdShut atomic.Bool   // CloseRead was called: reads return io.EOF
	kaMu   sync.Mutex
	ka     tcp.KeepAlive // keepalive as set so far (setKeepAlive* change one field each)
}

func (fd *netFD) setAddr(laddr, raddr Addr) {
	fd.laddr = laddr
	fd.raddr = raddr
}

func (fd *netFD) name() string {
	var ls, rs string
	if fd.laddr != nil {
		ls = fd.laddr.String()
	}
	if fd.raddr != nil {
		rs = fd.raddr.String()
	}
	return fd.net + ":" + ls + "->" + rs
}

// stackErr turns netstack's errors into the ones package net's callers test for.
func stackErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, udp.ErrClosed):
		return ErrClosed
	case errors.Is(err, os.ErrDeadlineExceeded):
		return os.ErrDeadlineExceeded
	}
	return err
}

// tcpErr turns netstack's TCP and routing errors into what package net's callers test for:
// ErrClosed, os.ErrDeadlineExceeded, io.EOF, or an *os.SyscallError carrying the errno Linux
// would give (ECONNREFUSED, ECONNRESET, EADDRINUSE, ...).
func tcpErr(call string, err error) error {
	var errno syscall.Errno
	switch {
	case err == nil || err == io.EOF:
		return err
	case errors.Is(err, tcp.ErrClosed):
		return ErrClosed
	case errors.Is(err, os.ErrDeadlineExceeded):
		return os.ErrDeadlineExceeded
	case errors.As(err, &errno):
		return os.NewSyscallError(call, errno)
	case err == tcp.ErrPortInUse:
		errno = syscall.EADDRINUSE
	case err == tcp.ErrNoPorts, err == stack.ErrNoAddress:
		errno = syscall.EADDRNOTAVAIL
	case err == tcp.ErrNotConnected:
		errno = syscall.ENOTCONN
	case err == stack.ErrNoRoute:
		errno = syscall.ENETUNREACH
	case err == stack.ErrHostUnreach:
		errno = syscall.EHOSTUNREACH
	default:
		return err
	}
	return os.NewSyscallError(call, errno)
}

func (fd *netFD) Close() error {
	if fd.tcp != nil {
		if fd.closed.Swap(true) {
			return ErrClosed
		}
		return tcpErr("close", fd.tcp.Close())
	}
	if fd.ep == nil {
		return nil
	}
	return stackErr(fd.ep.Close())
}

// closeRead is shutdown(SHUT_RD): later reads return io.EOF, and a blocked one is woken.
func (fd *netFD) closeRead() error {
	if fd.tcp == nil {
		return os.NewSyscallError("shutdown", syscall.ENOTSUP)
	}
	if fd.closed.Load() {
		return ErrClosed
	}
	fd.rdShut.Store(true)
	return fd.tcp.SetReadDeadline(aLongTimeAgo)
}

// closeWrite is shutdown(SHUT_WR): a FIN after the queued data.
func (fd *netFD) closeWrite() error {
	if fd.tcp == nil {
		return os.NewSyscallError("shutdown", syscall.ENOTSUP)
	}
	if fd.closed.Load() {
		return ErrClosed
	}
	return tcpErr("shutdown", fd.tcp.CloseWrite())
}

func (fd *netFD) accept() (*netFD, error) {
	if fd.tcp == nil {
		return nil, os.NewSyscallError("accept", syscall.EOPNOTSUPP)
	}
	if fd.closed.Load() {
		return nil, ErrClosed
	}
	c, err := fd.tcp.Accept()
	if err != nil {
		if fd.closed.Load() {
			return nil, ErrClosed
		}
		return nil, tcpErr("accept", err)
	}
	return newTCPFD(fd.family, fd.net, c), nil
}

// newTCPFD wraps a connected TCP endpoint.
func newTCPFD(family int, net string, c *tcp.Endpoint) *netFD {
	nfd := &netFD{family: family, sotype: syscall.SOCK_STREAM, net: net, isConnected: true, tcp: c}
	nfd.pfd.Sysfd = -1
	nfd.setAddr(TCPAddrFromAddrPort(c.LocalAddr()), TCPAddrFromAddrPort(c.RemoteAddr()))
	return nfd
}

func (fd *netFD) dup() (*os.File, error) {
	return nil, os.NewSyscallError("dup", syscall.ENOTSUP)
}

func (fd *netFD) Read(p []byte) (int, error) {
	if fd.tcp != nil {
		if fd.closed.Load() {
			return 0, ErrClosed
		}
		if len(p) == 0 {
			return 0, nil // a zero-byte read returns at once, as internal/poll's on Unix
		}
		if fd.rdShut.Load() {
			return 0, io.EOF
		}
		n, err := fd.tcp.Read(p)
		switch {
		case err == nil:
		case fd.closed.Load():
			err = ErrClosed
		case fd.rdShut.Load():
			err = io.EOF
		default:
			err = tcpErr(readSyscallName, err)
		}
		return n, err
	}
	n, err := fd.ep.Read(p)
	return n, stackErr(err)
}

func (fd *netFD) Write(p []byte) (int, error) {
	if fd.tcp != nil {
		if fd.closed.Load() {
			return 0, ErrClosed
		}
		n, err := fd.tcp.Write(p)
		if err != nil && fd.closed.Load() {
			err = ErrClosed
		}
		return n, tcpErr(writeSyscallName, err)
	}
	n, err := fd.ep.Write(p)
	return n, stackErr(err)
}

func (fd *netFD) SetDeadline(t time.Time) error {
	if fd.tcp != nil {
		return fd.tcp.SetDeadline(t)
	}
	return fd.ep.SetDeadline(t)
}

func (fd *netFD) SetReadDeadline(t time.Time) error {
	if fd.tcp != nil {
		return fd.tcp.SetReadDeadline(t)
	}
	return fd.ep.SetReadDeadline(t)
}

func (fd *netFD) SetWriteDeadline(t time.Time) error {
	if fd.tcp != nil {
		return fd.tcp.SetWriteDeadline(t)
	}
	return fd.ep.SetWriteDeadline(t)
}

// toSockaddr converts a netstack address to the socket address of the fd's family
// (IPv4-mapped for AF_INET6 sockets).
func (fd *netFD) toSockaddr(ap netip.AddrPort) syscall.Sockaddr {
	if fd.family == syscall.AF_INET6 {
		return &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	}
	return &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().Unmap().As4()}
}

// fromSockaddr converts a socket address to netstack's form (IPv4-mapped addresses as
// IPv4; a zone ID names the NIC of that index).
func fromSockaddr(sa syscall.Sockaddr) (netip.AddrPort, error) {
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port)), nil
	case *syscall.SockaddrInet6:
		a := netip.AddrFrom16(sa.Addr).Unmap()
		if sa.ZoneId != 0 && a.Is6() {
			a = a.WithZone(zoneCache.name(int(sa.ZoneId)))
		}
		return netip.AddrPortFrom(a, uint16(sa.Port)), nil
	}
	return netip.AddrPort{}, syscall.EAFNOSUPPORT
}

func (fd *netFD) readFrom(p []byte) (int, syscall.Sockaddr, error) {
	if fd.ep == nil {
		return 0, nil, syscall.EOPNOTSUPP
	}
	n, from, err := fd.ep.ReadFrom(p)
	if err != nil {
		return n, nil, stackErr(err)
	}
	return n, fd.toSockaddr(from), nil
}

func (fd *netFD) readFromInet4(p []byte, sa *syscall.SockaddrInet4) (int, error) {
	if fd.ep == nil {
		return 0, syscall.EOPNOTSUPP
	}
	n, from, err := fd.ep.ReadFrom(p)
	if err == nil {
		sa.Port, sa.Addr = int(from.Port()), from.Addr().Unmap().As4()
	}
	return n, stackErr(err)
}

func (fd *netFD) readFromInet6(p []byte, sa *syscall.SockaddrInet6) (int, error) {
	if fd.ep == nil {
		return 0, syscall.EOPNOTSUPP
	}
	n, from, err := fd.ep.ReadFrom(p)
	if err == nil {
		sa.Port, sa.Addr = int(from.Port()), from.Addr().As16()
	}
	return n, stackErr(err)
}

func (fd *netFD) readMsg(p []byte, oob []byte, flags int) (n, oobn, retflags int, sa syscall.Sockaddr, err error) {
	n, sa, err = fd.readFrom(p)
	return n, 0, 0, sa, err
}

func (fd *netFD) readMsgInet4(p []byte, oob []byte, flags int, sa *syscall.SockaddrInet4) (n, oobn, retflags int, err error) {
	n, err = fd.readFromInet4(p, sa)
	return n, 0, 0, err
}

func (fd *netFD) readMsgInet6(p []byte, oob []byte, flags int, sa *syscall.SockaddrInet6) (n, oobn, retflags int, err error) {
	n, err = fd.readFromInet6(p, sa)
	return n, 0, 0, err
}

func (fd *netFD) writeTo(p []byte, sa syscall.Sockaddr) (int, error) {
	if fd.ep == nil {
		return 0, syscall.EOPNOTSUPP
	}
	if fd.isConnected {
		return 0, syscall.EISCONN
	}
	to, err := fromSockaddr(sa)
	if err != nil {
		return 0, err
	}
	n, err := fd.ep.WriteTo(p, to)
	return n, stackErr(err)
}

func (fd *netFD) writeToInet4(p []byte, sa *syscall.SockaddrInet4) (int, error) {
	return fd.writeTo(p, sa)
}

func (fd *netFD) writeToInet6(p []byte, sa *syscall.SockaddrInet6) (int, error) {
	return fd.writeTo(p, sa)
}

func (fd *netFD) writeMsg(p []byte, oob []byte, sa syscall.Sockaddr) (n int, oobn int, err error) {
	if len(oob) > 0 {
		return 0, 0, syscall.ENOTSUP
	}
	if sa == nil {
		n, err = fd.Write(p)
	} else {
		n, err = fd.writeTo(p, sa)
	}
	return n, 0, err
}

// writeMsgInet4 and writeMsgInet6 take a nil sa for a connected socket's peer: pass it on
// as a nil interface, not a typed nil that writeMsg would take for an address.
func (fd *netFD) writeMsgInet4(p []byte, oob []byte, sa *syscall.SockaddrInet4) (n int, oobn int, err error) {
	if sa == nil {
		return fd.writeMsg(p, oob, nil)
	}
	return fd.writeMsg(p, oob, sa)
}

func (fd *netFD) writeMsgInet6(p []byte, oob []byte, sa *syscall.SockaddrInet6) (n int, oobn int, err error) {
	if sa == nil {
		return fd.writeMsg(p, oob, nil)
	}
	return fd.writeMsg(p, oob, sa)
}

// concurrentThreadsLimit bounds concurrent DNS lookups. They are goroutines here,
// not threads.
func concurrentThreadsLimit() int {
	return 500
}
