// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package net on xen: sockets are endpoints of goxen/netstack, the project's TCP/IP stack,
// running over the domain's netfront vifs and a loopback NIC (net_xen.go starts it). A netFD
// is package net's handle on one; what it does is its socket's, one type per kind (as
// gVisor's gonet has TCPConn, TCPListener and UDPConn): tcpConn and tcpListener
// (fdtcp_xen.go), udpSocket (fdudp_xen.go). There are no file descriptors: pfd stays an
// unused poll.FD so that the shared code compiles.

package net

import (
	"goxen/netstack/transport/tcp"
	"internal/poll"
	"net/netip"
	"os"
	"syscall"
	"time"
)

const (
	readSyscallName  = "read"
	writeSyscallName = "write"
)

// Network file descriptor: a netstack socket.
type netFD struct {
	pfd poll.FD

	// immutable until Close
	family      int
	sotype      int
	isConnected bool
	net         string
	laddr       Addr
	raddr       Addr
	sock        xenSocket
}

// xenSocket is one kind of netstack socket. A call its kind has no answer fails as on Linux
// (EOPNOTSUPP, ENOTCONN, ENOPROTOOPT, ...); the shared defaults are notStream and notDatagram.
type xenSocket interface {
	read(p []byte) (int, error)
	write(p []byte) (int, error)
	close() error
	closeRead() error  // shutdown(SHUT_RD)
	closeWrite() error // shutdown(SHUT_WR)
	accept(family int, net string) (*netFD, error)
	readFrom(p []byte) (int, netip.AddrPort, error)
	writeTo(p []byte, to netip.AddrPort) (int, error)
	SetDeadline(t time.Time) error
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error

	// Socket options (sockopt_xen.go).
	setReadBuffer(bytes int)
	setWriteBuffer(bytes int)
	setLinger(sec int) error
	setNoDelay(noDelay bool) error
	setKeepAlive(set func(*tcp.KeepAlive)) error
}

// notStream answers the calls of a socket that is not a TCP connection.
type notStream struct{}

func (notStream) closeRead() error                        { return os.NewSyscallError("shutdown", syscall.ENOTSUP) }
func (notStream) closeWrite() error                       { return os.NewSyscallError("shutdown", syscall.ENOTSUP) }
func (notStream) setLinger(int) error                     { return syscall.ENOPROTOOPT }
func (notStream) setNoDelay(bool) error                   { return syscall.ENOPROTOOPT }
func (notStream) setKeepAlive(func(*tcp.KeepAlive)) error { return syscall.ENOPROTOOPT }

// setWriteBuffer: a datagram socket has no send queue to bound (each datagram goes at once).
func (notStream) setWriteBuffer(int) {}

// notDatagram answers the calls of a socket that is not UDP.
type notDatagram struct{}

func (notDatagram) readFrom([]byte) (int, netip.AddrPort, error) {
	return 0, netip.AddrPort{}, syscall.EOPNOTSUPP
}
func (notDatagram) writeTo([]byte, netip.AddrPort) (int, error) { return 0, syscall.EOPNOTSUPP }

// unboundSocket stands for the socket of a netFD that has none yet (the one a Dialer's or
// ListenConfig's Control function sees).
type unboundSocket struct {
	notStream
	notDatagram
}

func (unboundSocket) read([]byte) (int, error)  { return 0, syscall.EBADF }
func (unboundSocket) write([]byte) (int, error) { return 0, syscall.EBADF }
func (unboundSocket) close() error              { return nil }
func (unboundSocket) accept(int, string) (*netFD, error) {
	return nil, os.NewSyscallError("accept", syscall.EBADF)
}
func (unboundSocket) SetDeadline(time.Time) error      { return syscall.EBADF }
func (unboundSocket) SetReadDeadline(time.Time) error  { return syscall.EBADF }
func (unboundSocket) SetWriteDeadline(time.Time) error { return syscall.EBADF }
func (unboundSocket) setReadBuffer(int)                {}

// newFD wraps sock.
func newFD(family, sotype int, net string, sock xenSocket) *netFD {
	fd := &netFD{family: family, sotype: sotype, net: net, sock: sock}
	fd.pfd.Sysfd = -1
	return fd
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

func (fd *netFD) Close() error                       { return fd.sock.close() }
func (fd *netFD) closeRead() error                   { return fd.sock.closeRead() }
func (fd *netFD) closeWrite() error                  { return fd.sock.closeWrite() }
func (fd *netFD) accept() (*netFD, error)            { return fd.sock.accept(fd.family, fd.net) }
func (fd *netFD) Read(p []byte) (int, error)         { return fd.sock.read(p) }
func (fd *netFD) Write(p []byte) (int, error)        { return fd.sock.write(p) }
func (fd *netFD) SetDeadline(t time.Time) error      { return fd.sock.SetDeadline(t) }
func (fd *netFD) SetReadDeadline(t time.Time) error  { return fd.sock.SetReadDeadline(t) }
func (fd *netFD) SetWriteDeadline(t time.Time) error { return fd.sock.SetWriteDeadline(t) }

func (fd *netFD) dup() (*os.File, error) {
	return nil, os.NewSyscallError("dup", syscall.ENOTSUP)
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
	n, from, err := fd.sock.readFrom(p)
	if err != nil {
		return n, nil, err
	}
	return n, fd.toSockaddr(from), nil
}

func (fd *netFD) readFromInet4(p []byte, sa *syscall.SockaddrInet4) (int, error) {
	n, from, err := fd.sock.readFrom(p)
	if err == nil {
		sa.Port, sa.Addr = int(from.Port()), from.Addr().Unmap().As4()
	}
	return n, err
}

func (fd *netFD) readFromInet6(p []byte, sa *syscall.SockaddrInet6) (int, error) {
	n, from, err := fd.sock.readFrom(p)
	if err == nil {
		sa.Port, sa.Addr = int(from.Port()), from.Addr().As16()
	}
	return n, err
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
	to, err := fromSockaddr(sa)
	if err != nil {
		return 0, err
	}
	return fd.sock.writeTo(p, to)
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
