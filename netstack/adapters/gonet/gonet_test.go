package gonet_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"goxen/netstack/adapters/gonet"
	"goxen/netstack/header"
	"goxen/netstack/link/channel"
	"goxen/netstack/stack"
	"goxen/netstack/transport/udp"
)

func newHost(t *testing.T, mac byte, addr string) (*stack.Stack, *udp.Protocol, *channel.Endpoint) {
	s := stack.New(stack.Options{})
	ep := channel.New(512, 1500, header.LinkAddr{2, 0, 0, 0, 0, mac})
	s.AddNIC(1, "eth0", ep)
	s.AddAddress(1, netip.MustParsePrefix(addr))
	t.Cleanup(s.Close)
	return s, udp.New(s), ep
}

// TestPacketConnEcho runs a UDP echo server on one stack and a client on another, joined by
// a wire, through the net.PacketConn and net.Conn interfaces (small and fragmented datagrams).
func TestPacketConnEcho(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, pa, ea := newHost(t, 1, "10.1.0.1/24")
	sb, pb, eb := newHost(t, 2, "10.1.0.2/24")
	channel.Wire(ctx, ea, eb)

	var srv net.PacketConn
	srv, err := gonet.ListenUDP(pb, &net.UDPAddr{Port: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := srv.ReadFrom(buf)
			if err != nil {
				return
			}
			srv.WriteTo(buf[:n], from)
		}
	}()
	var c net.Conn
	c, err = gonet.DialUDP(pa, nil, &net.UDPAddr{IP: net.IPv4(10, 1, 0, 2), Port: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 65536)
	for i, size := range []int{1, 100, 1472, 1473, 8000, 65507} {
		msg := bytes.Repeat([]byte{byte(i + 1)}, size)
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := c.Read(buf)
		if err != nil || !bytes.Equal(buf[:n], msg) {
			t.Fatalf("size %d: %d bytes, %v", size, n, err)
		}
	}
	if got := c.RemoteAddr().String(); got != "10.1.0.2:7" {
		t.Fatalf("RemoteAddr %s", got)
	}
	if got := c.LocalAddr().(*net.UDPAddr); !got.IP.Equal(net.IPv4(10, 1, 0, 1)) || got.Port == 0 {
		t.Fatalf("LocalAddr %v", got)
	}
	if _, err := gonet.DialUDP(pa, nil, &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 7}); err == nil {
		t.Fatal("dial without a route succeeded")
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	_, err = c.Read(buf)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("timeout error %v", err)
	}
	if sb.Stats().UDP.InDatagrams.Value() != 6 {
		t.Fatalf("server stats\n%v", sb.Stats())
	}
	ifs, addrs := gonet.Interfaces(sb)
	if len(ifs) != 1 || ifs[0].HardwareAddr.String() != "02:00:00:00:00:02" || addrs[1][0].String() != "10.1.0.2/24" {
		t.Fatalf("interfaces %v %v", ifs, addrs)
	}
	c.Close()
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
}

// TestConnRefused: a connected socket's read fails with ECONNREFUSED after the peer stack
// answers with ICMP port unreachable; unconnected sockets ignore it.
func TestConnRefused(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, pa, ea := newHost(t, 1, "10.1.0.1/24")
	_, _, eb := newHost(t, 2, "10.1.0.2/24")
	channel.Wire(ctx, ea, eb)
	c, err := gonet.DialUDP(pa, nil, &net.UDPAddr{IP: net.IPv4(10, 1, 0, 2), Port: 9})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("anyone?"))
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(make([]byte, 10)); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("read: %v", err)
	}
	u, _ := gonet.ListenUDP(pa, nil)
	defer u.Close()
	u.WriteTo([]byte("x"), &net.UDPAddr{IP: net.IPv4(10, 1, 0, 2), Port: 9})
	u.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, _, err := u.ReadFrom(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("unconnected read: %v", err)
	}
}
