// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package net

import (
	"errors"
	"goxen/netstack/stack"
	"goxen/netstack/transport/tcp"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
)

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

// tcpConn is a TCP connection: a connected netstack tcp.Endpoint.
type tcpConn struct {
	*tcp.Endpoint // its deadlines
	notDatagram
	closed atomic.Bool // Close was called: every later call fails with ErrClosed
	rdShut atomic.Bool // CloseRead was called: reads return io.EOF
	kaMu   sync.Mutex
	ka     tcp.KeepAlive // keepalive as set so far (setKeepAlive* change one field each)
}

// newTCPFD wraps a connected TCP endpoint.
func newTCPFD(family int, net string, c *tcp.Endpoint) *netFD {
	fd := newFD(family, syscall.SOCK_STREAM, net, &tcpConn{Endpoint: c})
	fd.isConnected = true
	fd.setAddr(TCPAddrFromAddrPort(c.LocalAddr()), TCPAddrFromAddrPort(c.RemoteAddr()))
	return fd
}

func (c *tcpConn) read(p []byte) (int, error) {
	if c.closed.Load() {
		return 0, ErrClosed
	}
	if len(p) == 0 {
		return 0, nil // a zero-byte read returns at once, as internal/poll's on Unix
	}
	if c.rdShut.Load() {
		return 0, io.EOF
	}
	n, err := c.Endpoint.Read(p)
	switch {
	case err == nil:
	case c.closed.Load():
		err = ErrClosed
	case c.rdShut.Load():
		err = io.EOF
	default:
		err = tcpErr(readSyscallName, err)
	}
	return n, err
}

func (c *tcpConn) write(p []byte) (int, error) {
	if c.closed.Load() {
		return 0, ErrClosed
	}
	n, err := c.Endpoint.Write(p)
	if err != nil && c.closed.Load() {
		err = ErrClosed
	}
	return n, tcpErr(writeSyscallName, err)
}

func (c *tcpConn) close() error {
	if c.closed.Swap(true) {
		return ErrClosed
	}
	return tcpErr("close", c.Endpoint.Close())
}

// closeRead is shutdown(SHUT_RD): later reads return io.EOF, and a blocked one is woken.
func (c *tcpConn) closeRead() error {
	if c.closed.Load() {
		return ErrClosed
	}
	c.rdShut.Store(true)
	return c.Endpoint.SetReadDeadline(aLongTimeAgo)
}

// closeWrite is shutdown(SHUT_WR): a FIN after the queued data.
func (c *tcpConn) closeWrite() error {
	if c.closed.Load() {
		return ErrClosed
	}
	return tcpErr("shutdown", c.Endpoint.CloseWrite())
}

// accept on a connection fails as Linux's accept(2) on a socket that is not listening.
func (c *tcpConn) accept(int, string) (*netFD, error) {
	return nil, os.NewSyscallError("accept", syscall.EINVAL)
}

// setReadBuffer fixes the receive window (SO_RCVBUF: no more auto-tuning).
func (c *tcpConn) setReadBuffer(bytes int) { c.Endpoint.SetReceiveBuffer(bytes) }

// setWriteBuffer bounds the unsent data (SO_SNDBUF).
func (c *tcpConn) setWriteBuffer(bytes int) { c.Endpoint.SetSendBuffer(bytes) }

// setLinger: sec < 0 closes gracefully in the background (with a reset when unread data is
// left, as Linux does); sec == 0 makes Close reset the connection, dropping unsent data;
// sec > 0 closes in the background as sec < 0, which Go's documentation allows ("On some
// operating systems ... Close [may] block").
func (c *tcpConn) setLinger(sec int) error {
	c.Endpoint.SetAbortOnClose(sec == 0)
	return nil
}

func (c *tcpConn) setNoDelay(noDelay bool) error {
	c.Endpoint.SetNoDelay(noDelay)
	return nil
}

// setKeepAlive changes the keepalive settings with set and hands them to netstack.
func (c *tcpConn) setKeepAlive(set func(*tcp.KeepAlive)) error {
	c.kaMu.Lock()
	defer c.kaMu.Unlock()
	set(&c.ka)
	c.Endpoint.SetKeepAlive(c.ka)
	return nil
}

// tcpListener is a listening TCP socket. Its settings (buffers, Nagle, keepalive) go to the
// connections it accepts, as Linux's accepted sockets inherit a listener's.
type tcpListener struct {
	tcpConn
}

func newTCPListenerFD(family int, net string, l *tcp.Endpoint) *netFD {
	fd := newFD(family, syscall.SOCK_STREAM, net, &tcpListener{tcpConn{Endpoint: l}})
	fd.setAddr(TCPAddrFromAddrPort(l.LocalAddr()), nil)
	return fd
}

func (l *tcpListener) accept(family int, net string) (*netFD, error) {
	if l.closed.Load() {
		return nil, ErrClosed
	}
	c, err := l.Endpoint.Accept()
	if err != nil {
		if l.closed.Load() {
			return nil, ErrClosed
		}
		return nil, tcpErr("accept", err)
	}
	return newTCPFD(family, net, c), nil
}

// A listener has no stream to read, write or shut down (Linux: ENOTCONN).
func (l *tcpListener) read([]byte) (int, error)  { return 0, l.notConnected(readSyscallName) }
func (l *tcpListener) write([]byte) (int, error) { return 0, l.notConnected(writeSyscallName) }
func (l *tcpListener) closeRead() error          { return l.notConnected("shutdown") }
func (l *tcpListener) closeWrite() error         { return l.notConnected("shutdown") }

func (l *tcpListener) notConnected(call string) error {
	if l.closed.Load() {
		return ErrClosed
	}
	return os.NewSyscallError(call, syscall.ENOTCONN)
}
