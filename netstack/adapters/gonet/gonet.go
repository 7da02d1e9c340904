// Package gonet adapts netstack's UDP endpoints to the standard net interfaces, for host
// programs and tests: *UDPConn is a net.PacketConn and a net.Conn, like *net.UDPConn.
// (Inside GOOS=xen, std's net package itself is the adapter; netstack's core never imports
// net, so net can import it.)
package gonet

import (
	"errors"
	"net"
	"net/netip"
	"time"

	"goxen/netstack/stack"
	"goxen/netstack/transport/udp"
)

// UDPConn is a UDP socket with the net.PacketConn and net.Conn methods.
type UDPConn struct {
	ep *udp.Endpoint
}

var (
	_ net.PacketConn = (*UDPConn)(nil)
	_ net.Conn       = (*UDPConn)(nil)
)

// ListenUDP binds a socket on laddr (nil or zero address: any address, port 0: ephemeral).
func ListenUDP(pr *udp.Protocol, laddr *net.UDPAddr) (*UDPConn, error) {
	la := toAddrPort(laddr)
	ep, err := pr.Bind(la, 0)
	if err != nil {
		return nil, opError("listen", laddr, nil, err)
	}
	return &UDPConn{ep: ep}, nil
}

// DialUDP binds a socket on laddr (may be nil) and connects it to raddr.
func DialUDP(pr *udp.Protocol, laddr, raddr *net.UDPAddr) (*UDPConn, error) {
	c, err := ListenUDP(pr, laddr)
	if err != nil {
		return nil, err
	}
	if err := c.ep.Connect(toAddrPort(raddr)); err != nil {
		c.ep.Close()
		return nil, opError("dial", laddr, raddr, err)
	}
	return c, nil
}

// NewUDPConn wraps an existing endpoint.
func NewUDPConn(ep *udp.Endpoint) *UDPConn { return &UDPConn{ep: ep} }

// toAddrPort converts a net address; no IP means any address of either family (::, as Go's
// net on Linux listens dual-stack for ":port").
func toAddrPort(a *net.UDPAddr) netip.AddrPort {
	if a == nil {
		return netip.AddrPortFrom(netip.IPv6Unspecified(), 0)
	}
	ap := a.AddrPort()
	if !ap.Addr().IsValid() {
		return netip.AddrPortFrom(netip.IPv6Unspecified(), ap.Port())
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func opError(op string, src, dst net.Addr, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, udp.ErrClosed) {
		err = net.ErrClosed
	}
	return &net.OpError{Op: op, Net: "udp", Source: src, Addr: dst, Err: err}
}

func (c *UDPConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := c.ep.ReadFrom(b)
	if err != nil {
		return 0, nil, opError("read", c.LocalAddr(), nil, err)
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

// ReadFromUDPAddrPort is ReadFrom returning a netip.AddrPort.
func (c *UDPConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	n, from, err := c.ep.ReadFrom(b)
	return n, from, opError("read", c.LocalAddr(), nil, err)
}

func (c *UDPConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, opError("write", c.LocalAddr(), addr, net.InvalidAddrError("not a *net.UDPAddr"))
	}
	n, err := c.ep.WriteTo(b, toAddrPort(ua))
	return n, opError("write", c.LocalAddr(), addr, err)
}

func (c *UDPConn) Read(b []byte) (int, error) {
	n, err := c.ep.Read(b)
	return n, opError("read", c.LocalAddr(), c.RemoteAddr(), err)
}

func (c *UDPConn) Write(b []byte) (int, error) {
	n, err := c.ep.Write(b)
	return n, opError("write", c.LocalAddr(), c.RemoteAddr(), err)
}

func (c *UDPConn) Close() error { return opError("close", c.LocalAddr(), nil, c.ep.Close()) }

func (c *UDPConn) LocalAddr() net.Addr { return net.UDPAddrFromAddrPort(c.ep.LocalAddr()) }

func (c *UDPConn) RemoteAddr() net.Addr {
	r := c.ep.RemoteAddr()
	if !r.IsValid() {
		return nil
	}
	return net.UDPAddrFromAddrPort(r)
}

func (c *UDPConn) SetDeadline(t time.Time) error      { return c.ep.SetDeadline(t) }
func (c *UDPConn) SetReadDeadline(t time.Time) error  { return c.ep.SetReadDeadline(t) }
func (c *UDPConn) SetWriteDeadline(t time.Time) error { return c.ep.SetWriteDeadline(t) }

// Interfaces describes the stack's NICs as net.Interface values with their addresses.
func Interfaces(s *stack.Stack) ([]net.Interface, map[int][]net.Addr) {
	var ifs []net.Interface
	addrs := make(map[int][]net.Addr)
	for _, n := range s.NICs() {
		ifs = append(ifs, net.Interface{Index: int(n.ID), MTU: n.MTU, Name: n.Name,
			HardwareAddr: net.HardwareAddr(n.LinkAddr[:]), Flags: net.FlagUp | net.FlagBroadcast | net.FlagRunning})
		for _, p := range n.Addrs {
			addrs[int(n.ID)] = append(addrs[int(n.ID)], &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), 32)})
		}
	}
	return ifs, addrs
}
