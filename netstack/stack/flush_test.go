package stack_test

import (
	"net/netip"
	"testing"
	"time"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
	"goxen/netstack/link"
	"goxen/netstack/stack"
)

// blockingLink's WritePacket blocks until release is closed, like a full tx ring.
type blockingLink struct {
	release chan struct{}
	wrote   chan int
}

func (l *blockingLink) MTU() int                  { return 1500 }
func (l *blockingLink) LinkAddr() header.LinkAddr { return ourMAC }
func (l *blockingLink) Attach(link.Dispatcher)    {}
func (l *blockingLink) Close() error              { return nil }
func (l *blockingLink) WritePacket(p *buffer.Packet) error {
	<-l.release
	l.wrote <- p.Len()
	p.Release()
	return nil
}

// TestBlockedLinkDoesNotBlockStack: while a write waits for back-pressure, other goroutines
// still use the stack, and their frames go out afterwards, in order.
func TestBlockedLinkDoesNotBlockStack(t *testing.T) {
	l := &blockingLink{release: make(chan struct{}), wrote: make(chan int, 10)}
	s := stack.New(stack.Options{})
	s.AddNIC(1, "eth0", l)
	done := make(chan bool)
	go func() { // the gratuitous ARP blocks in WritePacket
		s.AddAddress(1, netip.PrefixFrom(ourAddr, 24))
		done <- true
	}()
	time.Sleep(20 * time.Millisecond)
	ok := make(chan bool)
	go func() {
		s.AddRoute(stack.Route{Dest: netip.MustParsePrefix("0.0.0.0/0"), Gateway: gwAddr, NIC: 1})
		_, err := s.FindRoute(farAddr, 0)
		// This ARP request is queued behind the blocked one; this goroutine does not wait.
		r, _ := s.FindRoute(peerAddr, 0)
		r.Protocol = 253
		s.WriteIPv4(r, buffer.New(buffer.Headroom, 0))
		ok <- err == nil
	}()
	select {
	case v := <-ok:
		if !v {
			t.Fatal("route lookup failed")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("stack blocked by a link write")
	}
	close(l.release)
	<-done
	if a, b := <-l.wrote, <-l.wrote; a != header.EthernetMinSize+header.ARPSize || b != a {
		t.Fatalf("frames %d %d", a, b)
	}
}
