package tcp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"goxen/netstack/header"
	"goxen/netstack/link/channel"
	"goxen/netstack/stack"
	"goxen/netstack/transport/tcp"
)

// budgetPair is pair with B's stack on a memory budget of limit bytes and B's TCP options.
func budgetPair(t *testing.T, limit int64, opts tcp.Options) (*host, *host) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	a := newHost(t, 1, addrA, nil, tcp.Options{})
	s := stack.New(stack.Options{MemoryBudget: limit})
	ch := channel.New(1024, 1500, header.LinkAddr{2, 0, 0, 0, 0, 2})
	s.AddNIC(1, "eth0", ch)
	s.AddAddress(1, netip.PrefixFrom(addrB, 24))
	t.Cleanup(s.Close)
	b := &host{s, tcp.NewWithOptions(s, opts), ch}
	channel.Wire(ctx, a.ch, b.ch)
	return a, b
}

// TestIdleConnectionsHoldNoBuffers: established connections with nothing queued hold no
// buffer memory at all.
func TestIdleConnectionsHoldNoBuffers(t *testing.T) {
	a, b := budgetPair(t, 1<<20, tcp.Options{})
	l, _ := b.tp.Listen(netip.AddrPortFrom(addrB, 7), 0, 200)
	defer l.Close()
	var cs []*tcp.Endpoint
	for range 100 {
		c := dial(t, a, netip.AddrPortFrom(addrB, 7))
		cs = append(cs, c, accept(t, l))
	}
	if used := b.s.Budget().Used(); used != 0 {
		t.Fatalf("100 idle connections hold %d bytes of buffers", used)
	}
	// One exchange each way, read: the buffers go back.
	for i := 0; i < len(cs); i += 2 {
		cs[i].Write([]byte("ping"))
		buf := make([]byte, 4)
		if _, err := io.ReadFull(readerOf(cs[i+1]), buf); err != nil {
			t.Fatal(err)
		}
		cs[i+1].Write(buf)
		if _, err := io.ReadFull(readerOf(cs[i]), buf); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { return b.s.Budget().Used() == 0 }, "buffers given back after the exchange")
	for _, c := range cs {
		c.Close()
	}
}

// TestBudgetHoldsWithUnreadData: 40 peers each send 256 KiB to a server that does not read,
// on a 1 MiB budget. The budget holds (its peak never passes the limit: the receive windows
// close as it fills), and once the server reads, every byte arrives intact.
func TestBudgetHoldsWithUnreadData(t *testing.T) {
	const limit, conns, size = 1 << 20, 40, 256 << 10
	a, b := budgetPair(t, limit, tcp.Options{})
	l, _ := b.tp.Listen(netip.AddrPortFrom(addrB, 7), 0, conns)
	defer l.Close()
	var servers, clients []*tcp.Endpoint
	for range conns {
		c := dial(t, a, netip.AddrPortFrom(addrB, 7))
		defer c.Close()
		clients = append(clients, c)
		servers = append(servers, accept(t, l))
	}
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Write(pattern(i, size)) // the readers check what arrived
		}()
	}
	// The windows close as the budget fills: the peers wait (zero-window probes).
	waitFor(t, func() bool { return b.s.Budget().Used() > limit/2 }, "the budget filling")
	time.Sleep(300 * time.Millisecond)
	if peak := b.s.Budget().Peak(); peak > limit {
		t.Fatalf("budget peak %d > limit %d", peak, limit)
	}
	// Then the server reads every connection at once (retransmissions backed off while the
	// windows were shut resume as memory comes back).
	errs := make(chan error, conns)
	for i, s := range servers {
		go func() {
			defer s.Close()
			s.SetReadDeadline(time.Now().Add(60 * time.Second))
			got := make([]byte, size)
			if _, err := io.ReadFull(readerOf(s), got); err != nil {
				errs <- fmt.Errorf("conn %d: %v\nserver %v\nclient %v\nbudget used %d", i, err, s, clients[i], b.s.Budget().Used())
				return
			}
			if !bytes.Equal(got, pattern(i, size)) {
				errs <- fmt.Errorf("conn %d: data differs", i)
				return
			}
			errs <- nil
		}()
	}
	for range servers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if peak := b.s.Budget().Peak(); peak > limit {
		t.Fatalf("budget peak %d > limit %d", peak, limit)
	}
	t.Logf("budget peak %d of %d, %d segments dropped for memory, %d charges refused",
		b.s.Budget().Peak(), limit, b.tp.Stats().MemoryDrops, b.s.Budget().Refused())
	waitFor(t, func() bool { return b.s.Budget().Used() == 0 }, "every buffer given back")
}

// TestDropsWhenTheBudgetIsSpent: data a peer sends within the window offered before the
// budget ran out (here: other holders take all of it) is dropped and counted, never held past
// the limit, and arrives by retransmission once memory comes back.
func TestDropsWhenTheBudgetIsSpent(t *testing.T) {
	const limit, size = 64 << 10, 32 << 10
	a, b := budgetPair(t, limit, tcp.Options{})
	l, _ := b.tp.Listen(netip.AddrPortFrom(addrB, 7), 0, 0)
	defer l.Close()
	c := dial(t, a, netip.AddrPortFrom(addrB, 7))
	defer c.Close()
	s := accept(t, l)
	defer s.Close()
	taken := limit - int(b.s.Budget().Used())
	if !b.s.Budget().TryCharge(taken) { // what other holders would hold
		t.Fatal("charge refused")
	}
	go c.Write(pattern(1, size))
	waitFor(t, func() bool { return b.tp.Stats().MemoryDrops > 0 }, "drops once the budget is spent")
	if used := b.s.Budget().Used(); used > limit {
		t.Fatalf("budget used %d > limit %d", used, limit)
	}
	b.s.Budget().Release(taken)
	s.SetReadDeadline(time.Now().Add(30 * time.Second))
	got := make([]byte, size)
	if _, err := io.ReadFull(readerOf(s), got); err != nil || !bytes.Equal(got, pattern(1, size)) {
		t.Fatalf("read %v, data equal %v", err, bytes.Equal(got, pattern(1, size)))
	}
	if peak := b.s.Budget().Peak(); peak > limit {
		t.Fatalf("budget peak %d > limit %d", peak, limit)
	}
	t.Logf("%d segments dropped for memory", b.tp.Stats().MemoryDrops)
}

// TestMaxConnections: past MaxConnections a SYN is refused with a reset and counted; closing
// one makes room. TIME-WAIT does not count.
func TestMaxConnections(t *testing.T) {
	a, b := budgetPair(t, 0, tcp.Options{MaxConnections: 5})
	l, _ := b.tp.Listen(netip.AddrPortFrom(addrB, 7), 0, 0)
	defer l.Close()
	var cs, ss []*tcp.Endpoint
	for range 5 {
		cs = append(cs, dial(t, a, netip.AddrPortFrom(addrB, 7)))
		ss = append(ss, accept(t, l))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := a.tp.Connect(ctx, netip.AddrPort{}, netip.AddrPortFrom(addrB, 7), 0); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("connect past the cap: %v, want ECONNREFUSED", err)
	}
	if n := b.tp.Stats().ConnsRefused; n != 1 {
		t.Fatalf("ConnsRefused = %d, want 1", n)
	}
	// B closes first (B's side ends in TIME-WAIT, which does not count).
	ss[0].Close()
	cs[0].Close()
	waitFor(t, func() bool { return b.tp.Connections() == 4 }, "a closed connection uncounted")
	c := dial(t, a, netip.AddrPortFrom(addrB, 7))
	defer c.Close()
	defer accept(t, l).Close()
	for i := 1; i < 5; i++ {
		cs[i].Close()
		ss[i].Close()
	}
}

// TestMemoryPressureRefusesConnections: while Options.MemoryPressure says memory is short, a
// SYN is refused with a reset and a Connect fails with ENOBUFS, both counted; connections
// already open go on working, and new ones are taken again once the pressure is gone.
func TestMemoryPressureRefusesConnections(t *testing.T) {
	var short atomic.Bool
	var asked atomic.Int64
	a, b := budgetPair(t, 0, tcp.Options{MemoryPressure: func(open int) bool {
		asked.Store(int64(open))
		return short.Load()
	}})
	l, _ := b.tp.Listen(netip.AddrPortFrom(addrB, 7), 0, 0)
	defer l.Close()
	c := dial(t, a, netip.AddrPortFrom(addrB, 7))
	defer c.Close()
	s := accept(t, l)
	defer s.Close()
	short.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := a.tp.Connect(ctx, netip.AddrPort{}, netip.AddrPortFrom(addrB, 7), 0); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("connect under pressure: %v, want ECONNREFUSED", err)
	}
	if st := b.tp.Stats(); st.ConnsRefused != 1 || st.PressureRefused != 1 {
		t.Fatalf("ConnsRefused %d PressureRefused %d, want 1 and 1", st.ConnsRefused, st.PressureRefused)
	}
	if n := asked.Load(); n != 1 {
		t.Fatalf("asked with %d connections open, want 1 (the one accepted)", n)
	}
	if _, err := b.tp.Connect(ctx, netip.AddrPort{}, netip.AddrPortFrom(addrA, 9), 0); !errors.Is(err, syscall.ENOBUFS) {
		t.Fatalf("outgoing connect under pressure: %v, want ENOBUFS", err)
	}
	if _, err := c.Write([]byte("still here")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 10)
	s.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(readerOf(s), got); err != nil || string(got) != "still here" {
		t.Fatalf("open connection under pressure: %q %v", got, err)
	}
	short.Store(false)
	d := dial(t, a, netip.AddrPortFrom(addrB, 7))
	defer d.Close()
	defer accept(t, l).Close()
}

// TestConnectOnAFullStack: Connect past MaxConnections fails at once with ENOBUFS.
func TestConnectOnAFullStack(t *testing.T) {
	a, b := pair(t, nil, tcp.Options{MaxConnections: 1})
	l, _ := b.tp.Listen(netip.AddrPortFrom(addrB, 7), 0, 0)
	defer l.Close()
	c := dial(t, a, netip.AddrPortFrom(addrB, 7))
	defer c.Close()
	_, err := a.tp.Connect(context.Background(), netip.AddrPort{}, netip.AddrPortFrom(addrB, 7), 0)
	if !errors.Is(err, syscall.ENOBUFS) {
		t.Fatalf("second connect: %v, want ENOBUFS", err)
	}
	if n := a.tp.Stats().ConnsRefused; n != 1 {
		t.Fatalf("ConnsRefused = %d, want 1", n)
	}
}

// TestReceiveWindowAutoTuning: the window starts at 64 KiB and grows with a reader that
// keeps up; SetReceiveBuffer fixes it.
func TestReceiveWindowAutoTuning(t *testing.T) {
	a, b := pair(t, nil, tcp.Options{})
	l, _ := b.tp.Listen(netip.AddrPortFrom(addrB, 7), 0, 0)
	defer l.Close()
	c := dial(t, a, netip.AddrPortFrom(addrB, 7))
	defer c.Close()
	s := accept(t, l)
	defer s.Close()
	if w := s.ReceiveBuffer(); w != 64<<10 {
		t.Fatalf("initial window %d, want 64 KiB", w)
	}
	go func() {
		buf := make([]byte, 64<<10)
		for i := 0; i < 200; i++ {
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
		c.CloseWrite()
	}()
	n, err := io.Copy(io.Discard, readerOf(s))
	if err != nil || n != 200*64<<10 {
		t.Fatalf("copied %d, %v", n, err)
	}
	if w := s.ReceiveBuffer(); w <= 64<<10 {
		t.Fatalf("window %d after 12.5 MiB read as fast as it came: not grown", w)
	}
	s.SetReceiveBuffer(8 << 10)
	if w := s.ReceiveBuffer(); w != 8<<10 {
		t.Fatalf("SetReceiveBuffer(8 KiB): window %d", w)
	}
}

func pattern(seed, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + seed*13 + i>>8)
	}
	return b
}

type endpointReader struct{ e *tcp.Endpoint }

func (r endpointReader) Read(b []byte) (int, error) { return r.e.Read(b) }

func readerOf(e *tcp.Endpoint) io.Reader { return endpointReader{e} }

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestTightBudgetRefusesConnections: with more than three quarters of the budget in use, a SYN
// is answered with a reset; once memory comes back, connections are accepted again.
func TestTightBudgetRefusesConnections(t *testing.T) {
	const limit = 64 << 10
	a, b := budgetPair(t, limit, tcp.Options{})
	l, _ := b.tp.Listen(netip.AddrPortFrom(addrB, 7), 0, 0)
	defer l.Close()
	if !b.s.Budget().TryCharge(limit / 8 * 7) { // what other holders would hold
		t.Fatal("charge refused")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := a.tp.Connect(ctx, netip.AddrPort{}, netip.AddrPortFrom(addrB, 7), 0); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("connect with the budget tight: %v, want ECONNREFUSED", err)
	}
	if n := b.tp.Stats().ConnsRefused; n != 1 {
		t.Fatalf("ConnsRefused = %d, want 1", n)
	}
	b.s.Budget().Release(limit / 8 * 7)
	c := dial(t, a, netip.AddrPortFrom(addrB, 7))
	defer c.Close()
	defer accept(t, l).Close()
}
