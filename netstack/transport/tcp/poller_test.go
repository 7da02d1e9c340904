package tcp_test

import (
	"errors"
	"net/netip"
	"os"
	"testing"
	"time"

	"goxen/netstack/link"
	"goxen/netstack/link/channel"
	"goxen/netstack/transport/tcp"
)

// TestWaitersPoll: on a device waiters may read themselves (link.Poller), a blocked Read and
// a blocked Write wait in PollWait, and what they wait for reaches them there: data, room, a
// deadline, Close.
func TestWaitersPoll(t *testing.T) {
	var dev *channel.Polling
	a, b := pair(t, func(l link.Endpoint) link.Endpoint {
		dev = channel.NewPolling(l.(*channel.Endpoint))
		return dev
	}, tcp.Options{})
	l, _ := b.tp.Listen(netip.AddrPortFrom(addrB, 9), 0, 0)
	defer l.Close()
	c := dial(t, a, netip.AddrPortFrom(addrB, 9))
	s := accept(t, l)
	done := make(chan error, 1)
	polled := func() int64 {
		n := dev.PollWaits()
		for dev.PollWaits() == n {
			time.Sleep(time.Millisecond)
		}
		return n
	}
	wait := func(what string) error {
		t.Helper()
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: the waiter did not return", what)
			return nil
		}
	}

	// Data.
	go func() {
		_, err := s.Read(make([]byte, 16))
		done <- err
	}()
	polled()
	c.Write([]byte("hello"))
	if err := wait("data"); err != nil {
		t.Fatal(err)
	}

	// A writer waiting for room (the peer does not read) until its deadline.
	s.SetSendBuffer(4 << 10)
	go func() {
		_, err := s.Write(make([]byte, 1<<20))
		done <- err
	}()
	polled()
	s.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	if err := wait("write deadline"); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write: %v", err)
	}

	// A reader, then Close.
	go func() {
		_, err := s.Read(make([]byte, 16))
		done <- err
	}()
	polled()
	s.Close()
	if err := wait("close"); err == nil {
		t.Fatal("read after Close succeeded")
	}
}
