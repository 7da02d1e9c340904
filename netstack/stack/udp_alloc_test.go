//go:build !race

package stack_test

import (
	"net/netip"
	"testing"

	"goxen/netstack/header"
	"goxen/netstack/stack"
)

// TestUDPEchoNoAllocs: a datagram received, read, answered and sent allocates nothing once
// the pools are warm (the receive queue reuses its array; a queue re-sliced from the front
// allocated a new one for every datagram read one at a time). Not under -race, which
// allocates on its own.
func TestUDPEchoNoAllocs(t *testing.T) {
	echo := udpEcho(t)
	for range 100 {
		echo()
	}
	if a := testing.AllocsPerRun(1000, echo); a > 0 {
		t.Fatalf("%.2f allocations per datagram echoed", a)
	}
}

// BenchmarkUDPEcho: one datagram in, read, answered, out (go test -bench UDPEcho -benchmem).
func BenchmarkUDPEcho(b *testing.B) {
	echo := udpEcho(b)
	b.ReportAllocs()
	for b.Loop() {
		echo()
	}
}

// udpEcho returns a function that injects a datagram for port 7, reads it there, echoes it
// and takes the frame sent.
func udpEcho(t testing.TB) func() {
	e := newEnv(t, stack.Options{})
	e.learn()
	ep, err := e.udp.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), 7), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ep.Close() })
	frame := fromPeer(ipPacket(header.IPv4Fields{Protocol: header.UDPProtocolNumber, Src: peerAddr, Dst: ourAddr},
		udpDatagram(peerAddr, ourAddr, 4000, 7, []byte("ping"))))
	buf := make([]byte, 100)
	return func() {
		e.ep.Inject(frame)
		n, from, err := ep.ReadFrom(buf)
		if err != nil || string(buf[:n]) != "ping" {
			t.Fatalf("ReadFrom %q %v", buf[:n], err)
		}
		if _, err := ep.WriteTo(buf[:n], from); err != nil {
			t.Fatal(err)
		}
		(<-e.ep.C()).Release()
	}
}
