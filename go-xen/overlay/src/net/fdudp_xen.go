// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package net

import (
	"errors"
	"goxen/netstack/transport/udp"
	"net/netip"
	"os"
	"syscall"
)

// udpSocket is a UDP socket: a netstack udp.Endpoint, bound and perhaps connected.
type udpSocket struct {
	*udp.Endpoint // its deadlines
	notStream
	connected bool // Connect gave it a peer: writeTo fails with EISCONN
}

// udpErr turns netstack's UDP errors into the ones package net's callers test for.
func udpErr(err error) error {
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

func (u *udpSocket) read(p []byte) (int, error) {
	n, err := u.Endpoint.Read(p)
	return n, udpErr(err)
}

func (u *udpSocket) write(p []byte) (int, error) {
	n, err := u.Endpoint.Write(p)
	return n, udpErr(err)
}

func (u *udpSocket) close() error { return udpErr(u.Endpoint.Close()) }

func (u *udpSocket) accept(int, string) (*netFD, error) {
	return nil, os.NewSyscallError("accept", syscall.EOPNOTSUPP)
}

func (u *udpSocket) readFrom(p []byte) (int, netip.AddrPort, error) {
	n, from, err := u.Endpoint.ReadFrom(p)
	return n, from, udpErr(err)
}

func (u *udpSocket) writeTo(p []byte, to netip.AddrPort) (int, error) {
	if u.connected {
		return 0, syscall.EISCONN
	}
	n, err := u.Endpoint.WriteTo(p, to)
	return n, udpErr(err)
}

// setReadBuffer bounds the receive queue (SO_RCVBUF).
func (u *udpSocket) setReadBuffer(bytes int) { u.Endpoint.SetReceiveBuffer(bytes) }
