package stack_test

import (
	"net/netip"
	"testing"
	"time"

	"goxen/netstack/buffer"
	"goxen/netstack/link/loopback"
	"goxen/netstack/stack"
	"goxen/netstack/transport/tcp"
	"goxen/netstack/transport/udp"
)

// recorder is a transport handler for an otherwise unused protocol number that keeps what
// arrives.
type recorder chan recorded

type recorded struct {
	info stack.PacketInfo
	data string
}

func (r recorder) HandlePacket(info stack.PacketInfo, p *buffer.Packet) bool {
	r <- recorded{info, string(p.Bytes())}
	p.Release()
	return true
}

const testProto = 253 // RFC 3692 experimentation

func addLoopback(t *testing.T, s *stack.Stack, id stack.NICID) {
	t.Helper()
	if err := s.AddNIC(id, "lo", loopback.New(0)); err != nil {
		t.Fatal(err)
	}
	if err := s.AddAddress(id, netip.MustParsePrefix("127.0.0.1/8")); err != nil {
		t.Fatal(err)
	}
}

func TestLoopbackDeliversInOrder(t *testing.T) {
	e := newEnv(t, stack.Options{})
	addLoopback(t, e.s, 9)
	rec := make(recorder, 300)
	e.s.RegisterTransport(testProto, rec)
	send := func(dst netip.Addr, msg string) {
		t.Helper()
		p := buffer.New(buffer.Headroom, len(msg))
		p.Append([]byte(msg))
		if err := e.s.WriteIPv4(stack.PacketInfo{Dst: dst, Protocol: testProto}, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ dst, src string }{
		{"127.0.0.1", "127.0.0.1"},
		{"127.3.2.1", "127.0.0.1"}, // the whole /8 answers
		{"10.0.0.1", "10.0.0.1"},   // eth0's own address goes through lo, not the wire
	} {
		dst := netip.MustParseAddr(c.dst)
		for i := range 100 {
			send(dst, string(rune('A'+i%26))+c.dst)
		}
		for i := range 100 {
			select {
			case got := <-rec:
				want := string(rune('A'+i%26)) + c.dst
				if got.data != want || got.info.NIC != 9 || got.info.Dst != dst || got.info.Src.String() != c.src {
					t.Fatalf("packet %d to %s: got %q on NIC %d %v->%v, want %q on NIC 9 from %s", i, c.dst,
						got.data, got.info.NIC, got.info.Src, got.info.Dst, want, c.src)
				}
			case <-time.After(time.Second):
				t.Fatalf("packet %d to %s not delivered", i, c.dst)
			}
		}
	}
	if f := e.ep.Drain(); f != 0 {
		t.Fatalf("%d frames went out on eth0", f)
	}
	var lo *stack.NICInfo
	for _, n := range e.s.NICs() {
		if n.Name == "lo" {
			lo = &n
		}
	}
	if lo == nil || !lo.Loopback || lo.MTU != loopback.DefaultMTU {
		t.Fatalf("NICs() = %+v, want lo marked Loopback with MTU %d", e.s.NICs(), loopback.DefaultMTU)
	}
}

func TestLoopbackUDPAndTCP(t *testing.T) {
	s := stack.New(stack.Options{})
	t.Cleanup(s.Close)
	addLoopback(t, s, 1)
	u := udp.New(s)
	a, err := u.Bind(netip.MustParseAddrPort("127.0.0.1:7"), 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := u.Bind(netip.MustParseAddrPort("0.0.0.0:0"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.WriteTo([]byte("ping"), a.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	a.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 10)
	n, from, err := a.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "ping" || from.Addr().String() != "127.0.0.1" {
		t.Fatalf("UDP over lo: %q from %v, %v", buf[:n], from, err)
	}

	pr := tcp.New(s)
	l, err := pr.Listen(netip.MustParseAddrPort("0.0.0.0:80"), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	c, err := pr.Connect(ctx, netip.AddrPort{}, netip.MustParseAddrPort("127.0.0.1:80"), 0)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, 300000)
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	go func() { c.Write(msg); c.CloseWrite() }()
	var got []byte
	rb := make([]byte, 65536)
	for {
		n, err := sc.Read(rb)
		got = append(got, rb[:n]...)
		if err != nil {
			break
		}
	}
	if string(got) != string(msg) {
		t.Fatalf("TCP over lo: got %d bytes, want %d identical", len(got), len(msg))
	}
	if _, err := pr.Connect(ctx, netip.AddrPort{}, netip.MustParseAddrPort("127.0.0.1:81"), 0); err != tcp.ErrConnRefused {
		t.Fatalf("connect to a closed port over lo: %v, want ECONNREFUSED", err)
	}
}
