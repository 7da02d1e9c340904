package gonet

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"time"

	"goxen/netstack/transport/tcp"
)

// TCPConn is a net.Conn over a TCP endpoint, with CloseWrite and SetNoDelay as
// *net.TCPConn has them.
type TCPConn struct{ ep *tcp.Endpoint }

// TCPListener is a net.Listener over a listening TCP endpoint.
type TCPListener struct{ ep *tcp.Endpoint }

var (
	_ net.Conn     = (*TCPConn)(nil)
	_ net.Listener = (*TCPListener)(nil)
)

func tcpAddrPort(a *net.TCPAddr) netip.AddrPort {
	if a == nil {
		return netip.AddrPortFrom(netip.IPv6Unspecified(), 0)
	}
	return toAddrPort(&net.UDPAddr{IP: a.IP, Port: a.Port})
}

func tcpOpError(op string, src, dst net.Addr, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	if errors.Is(err, tcp.ErrClosed) {
		err = net.ErrClosed
	}
	return &net.OpError{Op: op, Net: "tcp", Source: src, Addr: dst, Err: err}
}

// ListenTCP listens on laddr (nil or an unspecified IP: every address; port 0: ephemeral).
func ListenTCP(pr *tcp.Protocol, laddr *net.TCPAddr) (*TCPListener, error) {
	ep, err := pr.Listen(tcpAddrPort(laddr), 0, 0)
	if err != nil {
		return nil, tcpOpError("listen", nil, laddr, err)
	}
	return &TCPListener{ep}, nil
}

// DialTCP connects to raddr from laddr (which may be nil), waiting for the handshake until
// ctx ends.
func DialTCP(ctx context.Context, pr *tcp.Protocol, laddr, raddr *net.TCPAddr) (*TCPConn, error) {
	ep, err := pr.Connect(ctx, tcpAddrPort(laddr), tcpAddrPort(raddr), 0)
	if err != nil {
		return nil, tcpOpError("dial", laddr, raddr, err)
	}
	return &TCPConn{ep}, nil
}

// NewTCPConn wraps a connected endpoint.
func NewTCPConn(ep *tcp.Endpoint) *TCPConn { return &TCPConn{ep} }

// Accept waits for the next connection.
func (l *TCPListener) Accept() (net.Conn, error) {
	ep, err := l.ep.Accept()
	if err != nil {
		return nil, tcpOpError("accept", nil, l.Addr(), err)
	}
	return &TCPConn{ep}, nil
}

// Close stops listening; connections not yet accepted are reset.
func (l *TCPListener) Close() error { return tcpOpError("close", nil, l.Addr(), l.ep.Close()) }

// Addr is the listening address.
func (l *TCPListener) Addr() net.Addr { return net.TCPAddrFromAddrPort(l.ep.LocalAddr()) }

// SetDeadline bounds Accept.
func (l *TCPListener) SetDeadline(t time.Time) error { return l.ep.SetReadDeadline(t) }

func (c *TCPConn) Read(b []byte) (int, error) {
	n, err := c.ep.Read(b)
	return n, tcpOpError("read", c.LocalAddr(), c.RemoteAddr(), err)
}

func (c *TCPConn) Write(b []byte) (int, error) {
	n, err := c.ep.Write(b)
	return n, tcpOpError("write", c.LocalAddr(), c.RemoteAddr(), err)
}

// Close closes both directions (see tcp.Endpoint.Close).
func (c *TCPConn) Close() error {
	return tcpOpError("close", c.LocalAddr(), c.RemoteAddr(), c.ep.Close())
}

// CloseWrite sends a FIN after the queued data; reading continues.
func (c *TCPConn) CloseWrite() error {
	return tcpOpError("close", c.LocalAddr(), c.RemoteAddr(), c.ep.CloseWrite())
}

// SetNoDelay turns Nagle's algorithm off (true, net's default) or on.
func (c *TCPConn) SetNoDelay(b bool) error { c.ep.SetNoDelay(b); return nil }

func (c *TCPConn) LocalAddr() net.Addr  { return net.TCPAddrFromAddrPort(c.ep.LocalAddr()) }
func (c *TCPConn) RemoteAddr() net.Addr { return net.TCPAddrFromAddrPort(c.ep.RemoteAddr()) }

func (c *TCPConn) SetDeadline(t time.Time) error      { return c.ep.SetDeadline(t) }
func (c *TCPConn) SetReadDeadline(t time.Time) error  { return c.ep.SetReadDeadline(t) }
func (c *TCPConn) SetWriteDeadline(t time.Time) error { return c.ep.SetWriteDeadline(t) }

// SetKeepAlive turns keepalive probes on or off (15 s idle and interval, 9 probes, as net's
// defaults).
func (c *TCPConn) SetKeepAlive(on bool) error {
	c.ep.SetKeepAlive(tcp.KeepAlive{Enable: on})
	return nil
}

// SetKeepAlivePeriod sets the idle time and probe interval and turns keepalive on.
func (c *TCPConn) SetKeepAlivePeriod(d time.Duration) error {
	c.ep.SetKeepAlive(tcp.KeepAlive{Enable: true, Idle: d, Interval: d})
	return nil
}
