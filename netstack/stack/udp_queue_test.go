package stack_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"goxen/netstack/header"
	"goxen/netstack/stack"
)

// TestUDPQueueKeepsOrder: datagrams queued while others are read (the queue moving its
// entries down or growing as it goes) come out in the order they arrived, and Close drops
// what is left.
func TestUDPQueueKeepsOrder(t *testing.T) {
	e := newEnv(t, stack.Options{})
	e.learn()
	ep, err := e.udp.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), 7), 0)
	if err != nil {
		t.Fatal(err)
	}
	sent, read := 0, 0
	send := func(k int) {
		for range k {
			e.ep.Inject(fromPeer(ipPacket(header.IPv4Fields{Protocol: header.UDPProtocolNumber, Src: peerAddr, Dst: ourAddr},
				udpDatagram(peerAddr, ourAddr, 4000, 7, fmt.Appendf(nil, "d%d", sent)))))
			sent++
		}
	}
	buf := make([]byte, 32)
	recv := func(k int) {
		ep.SetReadDeadline(time.Now().Add(time.Second))
		for range k {
			n, _, err := ep.ReadFrom(buf)
			if want := fmt.Sprintf("d%d", read); err != nil || string(buf[:n]) != want {
				t.Fatalf("read %q, %v; want %q", buf[:n], err, want)
			}
			read++
		}
	}
	for _, step := range [][2]int{{10, 3}, {20, 20}, {1, 5}, {7, 7}, {16, 12}, {40, 30}, {3, 20}} {
		send(step[0])
		recv(step[1])
	}
	if sent != read {
		t.Fatalf("sent %d, read %d", sent, read)
	}
	send(5)
	used := e.s.Budget().Used()
	if used == 0 {
		t.Fatal("queued datagrams not charged")
	}
	ep.Close()
	if u := e.s.Budget().Used(); u != 0 {
		t.Fatalf("budget still holds %d after Close", u)
	}
}
