package tcp_test

import (
	"io"
	"net/netip"
	"testing"
	"time"

	"goxen/netstack/transport/tcp"
)

// Undelivered counts what a closed connection still has to deliver, until the peer has
// read and acknowledged all of it and the FIN.
func TestUndeliveredAfterClose(t *testing.T) {
	a, b := pair(t, nil, tcp.Options{})
	l, err := b.tp.Listen(netip.AddrPortFrom(netip.IPv4Unspecified(), 80), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c := dial(t, a, netip.AddrPortFrom(addrB, 80))
	s := accept(t, l)
	if n := a.tp.Undelivered(); n != 0 {
		t.Fatalf("idle connection: Undelivered %d, want 0", n)
	}
	// More than B's receive window: B does not read yet, so some stays queued at A.
	const size = 1 << 20
	written := make(chan error, 1)
	go func() {
		c.SetWriteDeadline(time.Now().Add(30 * time.Second))
		_, err := c.Write(make([]byte, size))
		if err == nil {
			err = c.Close()
		}
		written <- err
	}()
	// Wait until the sender is stuck on B's closed window, then check the count.
	for i := 0; ; i++ {
		if n := a.tp.Undelivered(); n > 0 && n < size+1 && i > 20 {
			break
		}
		if i > 2000 {
			t.Fatalf("Undelivered stayed %d", a.tp.Undelivered())
		}
		time.Sleep(5 * time.Millisecond)
	}
	done := make(chan int64, 1)
	go func() {
		s.SetReadDeadline(time.Now().Add(30 * time.Second))
		n, _ := io.Copy(io.Discard, s)
		done <- n
	}()
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	if n := <-done; n != size {
		t.Fatalf("B read %d bytes, want %d", n, size)
	}
	for i := 0; a.tp.Undelivered() != 0; i++ {
		if i > 2000 {
			t.Fatalf("Undelivered %d after B read everything", a.tp.Undelivered())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
