package stack_test

import (
	"errors"
	"net/netip"
	"os"
	"testing"
	"time"

	"goxen/netstack/header"
	"goxen/netstack/link/channel"
	"goxen/netstack/link/loopback"
	"goxen/netstack/stack"
	"goxen/netstack/transport/udp"
)

// TestUDPReaderPolls: with a device waiters may read themselves (link.Poller), a UDP reader
// waits in PollWait, and whatever changes what it waits for reaches it there: a datagram, a
// new deadline, Close. A loopback NIC beside the device does not change which one is polled;
// a second device does (neither is then).
func TestUDPReaderPolls(t *testing.T) {
	s := stack.New(stack.Options{})
	defer s.Close()
	dev := channel.NewPolling(channel.New(16, 1500, ourMAC))
	s.AddNIC(1, "eth0", dev)
	s.AddAddress(1, netip.PrefixFrom(ourAddr, 24))
	if s.Poller() == nil {
		t.Fatal("no poller")
	}
	u := udp.New(s)
	ep, err := u.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), 7), 0)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		n   int
		err error
	}
	read := func() chan result {
		c := make(chan result, 1)
		go func() {
			n, _, err := ep.ReadFrom(make([]byte, 64))
			c <- result{n, err}
		}()
		for dev.PollWaits() == 0 {
			time.Sleep(time.Millisecond)
		}
		return c
	}
	waitFor := func(c chan result) result {
		t.Helper()
		select {
		case r := <-c:
			return r
		case <-time.After(5 * time.Second):
			t.Fatal("the reader did not return")
			return result{}
		}
	}
	c := read()
	dev.Inject(fromPeer(ipPacket(header.IPv4Fields{Protocol: header.UDPProtocolNumber, Src: peerAddr, Dst: ourAddr},
		udpDatagram(peerAddr, ourAddr, 4000, 7, []byte("ping")))))
	if r := waitFor(c); r.err != nil || r.n != 4 {
		t.Fatalf("read %d, %v", r.n, r.err)
	}
	c = read()
	ep.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if r := waitFor(c); !errors.Is(r.err, os.ErrDeadlineExceeded) {
		t.Fatalf("deadline: %v", r.err)
	}
	ep.SetReadDeadline(time.Time{})
	c = read()
	ep.Close()
	if r := waitFor(c); !errors.Is(r.err, udp.ErrClosed) {
		t.Fatalf("close: %v", r.err)
	}

	s.AddNIC(2, "lo", loopback.New(0))
	if s.Poller() == nil {
		t.Fatal("a loopback NIC took the poller away")
	}
	s.AddNIC(3, "eth1", channel.NewPolling(channel.New(16, 1500, peerMAC)))
	if s.Poller() != nil {
		t.Fatal("a poller with two devices")
	}
}
