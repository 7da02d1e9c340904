package tcp_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"goxen/netstack/header"
	"goxen/netstack/link"
	"goxen/netstack/link/channel"
	"goxen/netstack/link/fault"
	"goxen/netstack/stack"
	"goxen/netstack/transport/tcp"
)

var (
	addrA = netip.MustParseAddr("10.2.0.1")
	addrB = netip.MustParseAddr("10.2.0.2")
)

type host struct {
	s  *stack.Stack
	tp *tcp.Protocol
	ch *channel.Endpoint
}

func newHost(t *testing.T, mac byte, addr netip.Addr, wrap func(link.Endpoint) link.Endpoint, opts tcp.Options) *host {
	s := stack.New(stack.Options{})
	ch := channel.New(1024, 1500, header.LinkAddr{2, 0, 0, 0, 0, mac})
	var ep link.Endpoint = ch
	if wrap != nil {
		ep = wrap(ch)
	}
	s.AddNIC(1, "eth0", ep)
	s.AddAddress(1, netip.PrefixFrom(addr, 24))
	t.Cleanup(s.Close)
	return &host{s, tcp.NewWithOptions(s, opts), ch}
}

// pair returns two hosts joined by a wire; wrapB, if set, wraps B's link (faults).
func pair(t *testing.T, wrapB func(link.Endpoint) link.Endpoint, opts tcp.Options) (*host, *host) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	a := newHost(t, 1, addrA, nil, opts)
	b := newHost(t, 2, addrB, wrapB, opts)
	channel.Wire(ctx, a.ch, b.ch)
	return a, b
}

func dial(t *testing.T, h *host, to netip.AddrPort) *tcp.Endpoint {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := h.tp.Connect(ctx, netip.AddrPort{}, to, 0)
	if err != nil {
		t.Fatalf("connect %v: %v", to, err)
	}
	return c
}

func accept(t *testing.T, l *tcp.Endpoint) *tcp.Endpoint {
	t.Helper()
	l.SetReadDeadline(time.Now().Add(10 * time.Second))
	c, err := l.Accept()
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	return c
}

func TestConnectEchoClose(t *testing.T) {
	a, b := pair(t, nil, tcp.Options{})
	l, err := b.tp.Listen(netip.AddrPortFrom(netip.IPv4Unspecified(), 80), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		io.Copy(c, c)
		c.Close()
	}()
	c := dial(t, a, netip.AddrPortFrom(addrB, 80))
	if c.State() != tcp.Established || c.RemoteAddr() != netip.AddrPortFrom(addrB, 80) || c.LocalAddr().Addr() != addrA {
		t.Fatalf("state %v local %v remote %v", c.State(), c.LocalAddr(), c.RemoteAddr())
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for _, n := range []int{1, 100, 1460, 1461, 70000} {
		msg := bytes.Repeat([]byte{byte(n)}, n)
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, n)
		if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("echo %d: %v", n, err)
		}
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Fatalf("after FIN: %d %v", n, err)
	}
	c.Close()
	waitState(t, c, tcp.TimeWait)
}

func waitState(t *testing.T, e *tcp.Endpoint, want tcp.State) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if e.State() == want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("state %v, want %v", e.State(), want)
}

func TestRefusedOnClosedPort(t *testing.T) {
	a, b := pair(t, nil, tcp.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := a.tp.Connect(ctx, netip.AddrPort{}, netip.AddrPortFrom(addrB, 81), 0)
	if !errors.Is(err, tcp.ErrConnRefused) {
		t.Fatalf("err %v", err)
	}
	if st := b.tp.Stats(); st.OutRsts != 1 {
		t.Fatalf("OutRsts %d", st.OutRsts)
	}
}

func TestHalfClose(t *testing.T) {
	a, b := pair(t, nil, tcp.Options{})
	l, _ := b.tp.Listen(netip.AddrPortFrom(addrB, 7), 0, 0)
	defer l.Close()
	done := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			done <- err
			return
		}
		all, err := io.ReadAll(c) // until the client's FIN
		if err != nil {
			done <- err
			return
		}
		// The server can still send after the client's half-close.
		c.Write([]byte("got "))
		c.Write(all)
		done <- c.Close()
	}()
	c := dial(t, a, netip.AddrPortFrom(addrB, 7))
	c.Write([]byte("hello"))
	c.CloseWrite()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	all, err := io.ReadAll(c)
	if err != nil || string(all) != "got hello" {
		t.Fatalf("%q %v", all, err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	c.Close()
	waitState(t, c, tcp.TimeWait)
}

func TestResetOnUnreadClose(t *testing.T) {
	a, b := pair(t, nil, tcp.Options{})
	l, _ := b.tp.Listen(netip.AddrPortFrom(addrB, 7), 0, 0)
	defer l.Close()
	c := dial(t, a, netip.AddrPortFrom(addrB, 7))
	s := accept(t, l)
	c.Write([]byte("unread"))
	time.Sleep(50 * time.Millisecond)
	s.Close() // data left unread: RST
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 10)); !errors.Is(err, tcp.ErrConnReset) {
		t.Fatalf("err %v", err)
	}
}

func TestBacklogLimit(t *testing.T) {
	a, b := pair(t, nil, tcp.Options{SynRetries: 1, InitialRTO: 100 * time.Millisecond})
	l, _ := b.tp.Listen(netip.AddrPortFrom(addrB, 7), 0, 2)
	defer l.Close()
	c1 := dial(t, a, netip.AddrPortFrom(addrB, 7))
	c2 := dial(t, a, netip.AddrPortFrom(addrB, 7))
	defer c1.Close()
	defer c2.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := a.tp.Connect(ctx, netip.AddrPort{}, netip.AddrPortFrom(addrB, 7), 0); !errors.Is(err, tcp.ErrTimedOut) {
		t.Fatalf("third connect: %v", err)
	}
	if b.tp.Stats().ListenDrops == 0 {
		t.Fatal("no ListenDrops")
	}
	accept(t, l).Close()
	c4 := dial(t, a, netip.AddrPortFrom(addrB, 7)) // room again
	c4.Close()
}

func TestZeroWindow(t *testing.T) {
	a, b := pair(t, nil, tcp.Options{ReceiveBuffer: 8192, InitialRTO: 200 * time.Millisecond})
	l, _ := b.tp.Listen(netip.AddrPortFrom(addrB, 7), 0, 0)
	defer l.Close()
	c := dial(t, a, netip.AddrPortFrom(addrB, 7))
	s := accept(t, l)
	msg := make([]byte, 100000)
	rand.New(rand.NewSource(1)).Read(msg)
	go func() {
		c.Write(msg)
		c.Close()
	}()
	time.Sleep(700 * time.Millisecond) // the window closes; the sender probes
	s.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(s)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("%d bytes, %v", len(got), err)
	}
}

func TestReadDeadline(t *testing.T) {
	a, b := pair(t, nil, tcp.Options{})
	l, _ := b.tp.Listen(netip.AddrPortFrom(addrB, 7), 0, 0)
	defer l.Close()
	c := dial(t, a, netip.AddrPortFrom(addrB, 7))
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
}

// TestPastDeadlineFailsAtOnce: with a deadline already passed, Read fails although data is
// buffered, Write sends nothing and Accept fails with a connection queued (Go's poller checks
// the deadline before the I/O; net's TestSendfileOnWriteTimeoutExceeded).
func TestPastDeadlineFailsAtOnce(t *testing.T) {
	a, b := pair(t, nil, tcp.Options{})
	l, _ := b.tp.Listen(netip.AddrPortFrom(addrB, 7), 0, 0)
	defer l.Close()
	c := dial(t, a, netip.AddrPortFrom(addrB, 7))
	defer c.Close()
	s := accept(t, l)
	defer s.Close()
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // delivered into s's buffer
	past := time.Now().Add(-time.Second)
	s.SetReadDeadline(past)
	if n, err := s.Read(make([]byte, 8)); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read with a past deadline: %d, %v", n, err)
	}
	s.SetReadDeadline(time.Time{})
	if n, err := s.Read(make([]byte, 8)); n != 5 || err != nil {
		t.Fatalf("read after clearing the deadline: %d, %v", n, err)
	}
	c.SetWriteDeadline(past)
	if n, err := c.Write([]byte("x")); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write with a past deadline: %d, %v", n, err)
	}
	c2 := dial(t, a, netip.AddrPortFrom(addrB, 7))
	defer c2.Close()
	time.Sleep(50 * time.Millisecond) // queued on l
	l.SetReadDeadline(past)
	if _, err := l.Accept(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("accept with a past deadline: %v", err)
	}
}

// TestDataAfterCloseResets: data arriving after Close is answered with a reset (RFC 1122
// 4.2.2.13), so the writer learns it was lost (net's TestWritevError).
func TestDataAfterCloseResets(t *testing.T) {
	a, b := pair(t, nil, tcp.Options{})
	l, _ := b.tp.Listen(netip.AddrPortFrom(addrB, 7), 0, 0)
	defer l.Close()
	c := dial(t, a, netip.AddrPortFrom(addrB, 7))
	defer c.Close()
	s := accept(t, l)
	s.Close()
	deadline := time.Now().Add(5 * time.Second)
	var err error
	for err == nil && time.Now().Before(deadline) {
		_, err = c.Write(make([]byte, 1000))
		time.Sleep(time.Millisecond)
	}
	if !errors.Is(err, tcp.ErrConnReset) {
		t.Fatalf("writing to a closed peer: %v, want a reset", err)
	}
}

// TestAbortOnClose: with SetAbortOnClose (SO_LINGER 0) Close resets; the peer's Read fails
// with a reset instead of io.EOF (net's TestNotTemporaryRead).
func TestAbortOnClose(t *testing.T) {
	a, b := pair(t, nil, tcp.Options{})
	l, _ := b.tp.Listen(netip.AddrPortFrom(addrB, 7), 0, 0)
	defer l.Close()
	c := dial(t, a, netip.AddrPortFrom(addrB, 7))
	defer c.Close()
	s := accept(t, l)
	s.SetAbortOnClose(true)
	s.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, tcp.ErrConnReset) {
		t.Fatalf("read after the peer's abortive close: %v, want a reset", err)
	}
}

// TestCloseEndsEveryWaiter: several goroutines blocked in Accept on one listener, or in Read
// on one connection, all return once it is closed (net's TestTCPConcurrentAccept), although
// one state change wakes one waiter.
func TestCloseEndsEveryWaiter(t *testing.T) {
	a, b := pair(t, nil, tcp.Options{})
	l, _ := b.tp.Listen(netip.AddrPortFrom(addrB, 7), 0, 0)
	const n = 8
	errs := make(chan error, 2*n)
	for range n {
		go func() {
			_, err := l.Accept()
			errs <- err
		}()
	}
	c := dial(t, a, netip.AddrPortFrom(addrB, 7))
	got := <-errs // one Accept takes the connection
	if got != nil {
		t.Fatalf("accept: %v", got)
	}
	for range n {
		go func() {
			_, err := c.Read(make([]byte, 1))
			errs <- err
		}()
	}
	time.Sleep(50 * time.Millisecond) // all waiting
	l.Close()
	c.Close()
	deadline := time.After(5 * time.Second)
	for i := range 2*n - 1 {
		select {
		case err := <-errs:
			if err == nil {
				t.Fatalf("waiter %d: no error after close", i)
			}
		case <-deadline:
			t.Fatalf("%d of %d waiters still blocked 5 s after close", 2*n-1-i, 2*n-1)
		}
	}
}

// TestBulkUnderFaults sends a few MB each way through 5% loss plus reordering and
// duplication on B's link (both directions) and checks the bytes by hash.
// TestBulkUnderFaults moves data both ways at once under loss, duplication and reordering:
// with SACK and timestamps (CUBIC) and RACK's loss detection or RFC 6675's DupThresh, and
// without either (NewReno recovery, Reno).
func TestBulkUnderFaults(t *testing.T) {
	t.Run("sack-cubic", func(t *testing.T) { bulkUnderFaults(t, tcp.Options{}) })
	t.Run("sack-dupthresh", func(t *testing.T) { bulkUnderFaults(t, tcp.Options{NoRACK: true}) })
	t.Run("newreno", func(t *testing.T) {
		bulkUnderFaults(t, tcp.Options{NoSACK: true, NoTimestamps: true, CongestionControl: tcp.CCReno})
	})
	// Segments sent from the send queue in place (buffer.Packet.SetFrag) while the link
	// holds, duplicates and drops them and retransmissions go out: every byte still arrives
	// as sent.
	t.Run("frags", func(t *testing.T) { bulkUnderFaults(t, tcp.Options{}, link.Offloads{Frags: true}) })
}

func bulkUnderFaults(t *testing.T, opts tcp.Options, offloads ...link.Offloads) {
	size := 2 << 20
	if testing.Short() || raceEnabled {
		size = 1 << 20
	}
	var fe *fault.Endpoint
	wrap := func(l link.Endpoint) link.Endpoint {
		for _, o := range offloads {
			l.(*channel.Endpoint).SetOffloads(o)
		}
		fe = fault.New(l, fault.Config{Drop: 0.05, Duplicate: 0.02, Reorder: 0.02, Seed: 6})
		return fe
	}
	a, b := pair(t, wrap, opts)
	l, _ := b.tp.Listen(netip.AddrPortFrom(addrB, 9), 0, 0)
	defer l.Close()
	data := make([]byte, size)
	rand.New(rand.NewSource(2)).Read(data)
	want := sha256.Sum256(data)

	c := dial(t, a, netip.AddrPortFrom(addrB, 9))
	s := accept(t, l)
	start := time.Now()
	var wg sync.WaitGroup
	check := func(name string, r *tcp.Endpoint) {
		defer wg.Done()
		r.SetReadDeadline(time.Now().Add(60 * time.Second))
		h := sha256.New()
		n, err := io.Copy(h, r)
		if err != nil || n != int64(size) || !bytes.Equal(h.Sum(nil), want[:]) {
			t.Errorf("%s: %d bytes, %v, hash ok %v", name, n, err, bytes.Equal(h.Sum(nil), want[:]))
		}
	}
	wg.Add(2)
	go check("a->b", s)
	go check("b->a", c)
	for _, w := range []*tcp.Endpoint{c, s} {
		go func() {
			if _, err := w.Write(data); err != nil {
				t.Error(err)
			}
			w.CloseWrite()
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.Logf("A: %v\nB: %v", c, s)
	}
	st := fe.Stats()
	t.Logf("%d bytes each way in %v; faults %+v; A %+v; B %+v", size, time.Since(start), st, a.tp.Stats(), b.tp.Stats())
	if st.Dropped == 0 {
		t.Fatal("no drops injected")
	}
	// Each side sent 1-2 MB through 5% loss: both recovered by fast retransmit, with SACK
	// when it was on.
	for _, h := range []*host{a, b} {
		s := h.tp.Stats()
		if s.FastRetrans == 0 || (s.SACKRecoveries > 0) == opts.NoSACK || (s.PAWSDrops > 0 && opts.NoTimestamps) {
			t.Errorf("stats %+v", s)
		}
	}
}

// exchange sends size pseudo-random bytes (from seed) each way at once over a new
// connection from a to b's port 9 and checks what each side reads by its hash.
func exchange(t *testing.T, a, b *host, size int, seed int64) {
	t.Helper()
	data := make([]byte, size)
	rand.New(rand.NewSource(seed)).Read(data)
	want := sha256.Sum256(data)
	l, _ := b.tp.Listen(netip.AddrPortFrom(addrB, 9), 0, 0)
	defer l.Close()
	cl := dial(t, a, netip.AddrPortFrom(addrB, 9))
	sv := accept(t, l)
	var wg sync.WaitGroup
	for _, r := range []*tcp.Endpoint{cl, sv} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.SetReadDeadline(time.Now().Add(60 * time.Second))
			h := sha256.New()
			n, err := io.Copy(h, r)
			if err != nil || n != int64(size) || !bytes.Equal(h.Sum(nil), want[:]) {
				t.Errorf("%d bytes, %v, hash ok %v", n, err, bytes.Equal(h.Sum(nil), want[:]))
			}
		}()
		go func() {
			if _, err := r.Write(data); err != nil {
				t.Error(err)
			}
			r.CloseWrite()
		}()
	}
	wg.Wait()
}

// TestManyConnections runs 300 concurrent echo connections through one listener.
func TestManyConnections(t *testing.T) {
	a, b := pair(t, nil, tcp.Options{Backlog: 512})
	l, _ := b.tp.Listen(netip.AddrPortFrom(addrB, 7), 0, 0)
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				io.Copy(c, c)
				c.Close()
			}()
		}
	}()
	const n = 300
	errs := make(chan error, n)
	for i := range n {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c, err := a.tp.Connect(ctx, netip.AddrPort{}, netip.AddrPortFrom(addrB, 7), 0)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			msg := bytes.Repeat([]byte{byte(i)}, 1000+i)
			c.SetDeadline(time.Now().Add(20 * time.Second))
			if _, err := c.Write(msg); err != nil {
				errs <- err
				return
			}
			c.CloseWrite()
			got, err := io.ReadAll(c)
			if err == nil && !bytes.Equal(got, msg) {
				err = errors.New("echo mismatch")
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
