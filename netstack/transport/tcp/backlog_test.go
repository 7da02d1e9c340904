package tcp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
	"goxen/netstack/link/channel"
)

// A listener's two queues (accept.go, cookie.go): the accept queue bounded by Listen's
// backlog, the SYN queue by Options.SynBacklog. The tests hold the server's IPv4 frames
// back (gatedPair) so that every SYN arrives before any handshake completes: which
// connections are half-open, which get cookies and which ACK finds the accept queue full
// is then fixed by the order of the SYNs, not by scheduling.

// gate is the server-to-client direction of a wire: while shut, IPv4 frames wait (ARP
// passes); open delivers them in order and lets the rest through.
type gate struct {
	mu   sync.Mutex
	shut bool
	held []*buffer.Packet
	to   *channel.Endpoint
}

func (g *gate) pass(p *buffer.Packet) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.shut && header.Ethernet(p.Bytes()).Type() == header.EtherTypeIPv4 {
		g.held = append(g.held, p)
		return
	}
	g.to.InjectPacket(p)
}

func (g *gate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range g.held {
		g.to.InjectPacket(p)
	}
	g.held, g.shut = nil, false
}

var backlogSrv = netip.MustParseAddrPort("10.3.0.2:80")

// gatedPair returns a client protocol (options oa), a server protocol (ob) with a listener
// on backlogSrv, and the shut gate in front of the client. A ping first resolves the
// addresses: SYNs queued behind ARP would be dropped past stack.Options.ARPMaxPending.
func gatedPair(t *testing.T, oa, ob Options, backlog int) (pa *Protocol, l *Endpoint, g *gate) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pa, ea := testProto(t, macA, "10.3.0.1/24", oa, 1024)
	pb, eb := testProto(t, macB, "10.3.0.2/24", ob, 1024)
	g = &gate{to: ea}
	pump := func(from <-chan *buffer.Packet, deliver func(*buffer.Packet)) {
		for {
			select {
			case p := <-from:
				deliver(p)
			case <-ctx.Done():
				return
			}
		}
	}
	go pump(ea.C(), eb.InjectPacket)
	go pump(eb.C(), g.pass)
	pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
	defer pcancel()
	if _, err := pa.s.Ping(pctx, backlogSrv.Addr(), nil); err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	g.shut = true
	g.mu.Unlock()
	l, err := pb.Listen(backlogSrv, 0, backlog)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return pa, l, g
}

// queues returns l's accept queue length and half-open count.
func (l *Endpoint) queues() (accept, pending int) {
	l.pr.mu.Lock()
	defer l.pr.mu.Unlock()
	return len(l.acceptQ), l.pending
}

type dialed struct {
	c   *Endpoint
	err error
}

// dialAsync connects from pa to backlogSrv in the background.
func dialAsync(pa *Protocol) <-chan dialed {
	ch := make(chan dialed, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c, err := pa.Connect(ctx, netip.AddrPort{}, backlogSrv, 0)
		ch <- dialed{c, err}
	}()
	return ch
}

func connectedTo(t *testing.T, ch <-chan dialed) *Endpoint {
	t.Helper()
	d := <-ch
	if d.err != nil {
		t.Fatalf("connect: %v", d.err)
	}
	t.Cleanup(func() { d.c.Close() })
	return d.c
}

// greet accepts n connections on l and writes each a line; readGreeting reads it on the
// client: a server that speaks first, so that a client whose handshake ACK was dropped
// sends nothing that would retry it.
func greet(l *Endpoint, n int) <-chan error {
	errs := make(chan error, 1)
	go func() {
		for range n {
			l.SetReadDeadline(time.Now().Add(10 * time.Second))
			s, err := l.Accept()
			if err != nil {
				errs <- err
				return
			}
			s.Write([]byte("hello\n"))
		}
		errs <- nil
	}()
	return errs
}

func readGreeting(c *Endpoint) error {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, 6)
	if _, err := io.ReadFull(c, b); err != nil {
		return err
	}
	if string(b) != "hello\n" {
		return fmt.Errorf("greeting %q", b)
	}
	return nil
}

// TestConnectBurstCookies: 300 connects at once to a listener whose SYN queue holds 64 and
// accept queue 512. 64 are half-open, 236 answered with cookies; every cookie ACK joins the
// accept queue (before, the SYN and accept queues shared one bound, and a cookie ACK that
// found the accept queue at it was dropped: the client believed it connected and the
// server never learned of it). Every connection is accepted and echoes data.
func TestConnectBurstCookies(t *testing.T) {
	const n, synQ = 300, 64
	slow := Options{InitialRTO: 5 * time.Second} // no SYN retransmitted while the gate is shut
	pa, l, g := gatedPair(t, slow, Options{SynBacklog: synQ, InitialRTO: 5 * time.Second}, 512)
	pb := l.pr
	dials := make([]<-chan dialed, n)
	for i := range dials {
		dials[i] = dialAsync(pa)
	}
	waitFor(t, func() bool { st := pb.Stats(); return st.PassiveOpens+st.SynCookiesSent == n })
	if st := pb.Stats(); st.PassiveOpens != synQ || st.SynCookiesSent != n-synQ {
		t.Fatalf("half-open %d, cookies %d", st.PassiveOpens, st.SynCookiesSent)
	}
	g.open()
	cs := make([]*Endpoint, n)
	for i, ch := range dials {
		cs[i] = connectedTo(t, ch)
	}
	waitFor(t, func() bool { q, _ := l.queues(); return q == n })
	if st := pb.Stats(); st.SynCookiesRecv != n-synQ || st.ListenDrops != 0 || st.OutRsts != 0 {
		t.Fatalf("stats %+v", st)
	}
	go func() {
		for {
			s, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				io.Copy(s, s)
				s.Close()
			}()
		}
	}()
	errs := make(chan error, n)
	for i, c := range cs {
		go func() {
			msg := bytes.Repeat([]byte{byte(i)}, 1000+i)
			c.SetDeadline(time.Now().Add(20 * time.Second))
			if _, err := c.Write(msg); err != nil {
				errs <- err
				return
			}
			c.CloseWrite()
			got, err := io.ReadAll(c)
			if err == nil && !bytes.Equal(got, msg) {
				err = fmt.Errorf("connection %d: echo differs", i)
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

// TestAcceptQueueFull: three handshakes complete at once on a listener whose accept queue
// holds two. The third ACK is dropped and that connection stays half-open while its client
// believes it established; once the server accepts, the connection joins: drawn by the
// SYN-ACK retransmission when the client is silent, by the client's retransmitted data
// when it speaks first.
func TestAcceptQueueFull(t *testing.T) {
	for _, speaksFirst := range []bool{false, true} {
		t.Run(fmt.Sprint("clientSpeaksFirst=", speaksFirst), func(t *testing.T) {
			pa, l, g := gatedPair(t, Options{InitialRTO: 5 * time.Second}, Options{InitialRTO: 100 * time.Millisecond}, 2)
			pb := l.pr
			var dials []<-chan dialed
			for i := range 3 {
				dials = append(dials, dialAsync(pa))
				waitFor(t, func() bool { _, p := l.queues(); return p == i+1 })
			}
			g.open()
			var cs []*Endpoint
			for _, ch := range dials {
				c := connectedTo(t, ch)
				if speaksFirst {
					c.Write([]byte("ping\n"))
				}
				cs = append(cs, c)
			}
			waitFor(t, func() bool { return pb.Stats().ListenOverflows > 0 })
			if q, p := l.queues(); q != 2 || p != 1 {
				t.Fatalf("accept queue %d, half-open %d", q, p)
			}
			if !speaksFirst {
				errs := greet(l, 3)
				for _, c := range cs {
					if err := readGreeting(c); err != nil {
						t.Fatal(err)
					}
				}
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
				return
			}
			for range 3 {
				l.SetReadDeadline(time.Now().Add(10 * time.Second))
				s, err := l.Accept()
				if err != nil {
					t.Fatal(err)
				}
				go func() {
					io.Copy(s, s)
					s.Close()
				}()
			}
			for _, c := range cs {
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				b := make([]byte, 5)
				if _, err := io.ReadFull(c, b); err != nil || string(b) != "ping\n" {
					t.Fatalf("echo %q, %v", b, err)
				}
			}
		})
	}
}

// TestAcceptQueueFullReset: if the server never makes room, the connection whose ACK was
// dropped gives up after its SYN-ACK retries and resets the client, which would otherwise
// wait forever on a connection the server has forgotten.
func TestAcceptQueueFullReset(t *testing.T) {
	pa, l, g := gatedPair(t, Options{InitialRTO: 5 * time.Second},
		Options{InitialRTO: 100 * time.Millisecond, SynRetries: 3}, 1) // gives up 1.5 s after the SYN
	var dials []<-chan dialed
	for i := range 2 {
		dials = append(dials, dialAsync(pa))
		waitFor(t, func() bool { _, p := l.queues(); return p == i+1 })
	}
	g.open()
	errs := make(chan error, 2)
	for _, ch := range dials {
		c := connectedTo(t, ch)
		go func() {
			c.SetReadDeadline(time.Now().Add(4 * time.Second))
			_, err := c.Read(make([]byte, 1))
			errs <- err
		}()
	}
	var reset, waiting int
	for range 2 {
		switch err := <-errs; {
		case errors.Is(err, ErrConnReset):
			reset++
		case errors.Is(err, os.ErrDeadlineExceeded):
			waiting++ // the queued one, established on both sides
		default:
			t.Fatalf("read: %v", err)
		}
	}
	if reset != 1 || waiting != 1 {
		t.Fatalf("%d reset, %d waiting", reset, waiting)
	}
	if q, p := l.queues(); q != 1 || p != 0 {
		t.Fatalf("accept queue %d, half-open %d", q, p)
	}
}

// TestCookieAcceptQueueFull: accept queue 1, SYN queue 1. The first SYN is queued half-open,
// the next two get cookies. The first ACK fills the accept queue; the first cookie ACK then
// becomes a half-open connection (the SYN queue has room again), joining once the server
// accepts although its client never sends; the second finds both queues full and is reset.
func TestCookieAcceptQueueFull(t *testing.T) {
	pa, l, g := gatedPair(t, Options{InitialRTO: 5 * time.Second},
		Options{SynBacklog: 1, InitialRTO: 100 * time.Millisecond}, 1)
	pb := l.pr
	var dials []<-chan dialed
	for i := range 3 {
		dials = append(dials, dialAsync(pa))
		waitFor(t, func() bool { st := pb.Stats(); return st.PassiveOpens+st.SynCookiesSent == uint64(i+1) })
	}
	if st := pb.Stats(); st.SynCookiesSent != 2 {
		t.Fatalf("cookies %d", st.SynCookiesSent)
	}
	g.open() // the SYN-ACKs, hence the ACKs, in the order of the SYNs
	cs := []*Endpoint{connectedTo(t, dials[0]), connectedTo(t, dials[1])}
	// The third client connected, then is reset: Connect fails if the reset comes before
	// its goroutine runs, else the first Read does.
	d := <-dials[2]
	err := d.err
	if err == nil {
		defer d.c.Close()
		d.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = d.c.Read(make([]byte, 1))
	}
	if !errors.Is(err, ErrConnReset) {
		t.Fatalf("third client: %v", err)
	}
	if q, p := l.queues(); q != 1 || p != 1 {
		t.Fatalf("accept queue %d, half-open %d", q, p)
	}
	if st := pb.Stats(); st.SynCookiesRecv != 1 || st.ListenOverflows < 2 || st.OutRsts != 1 {
		t.Fatalf("stats %+v", st)
	}
	errs := greet(l, 2)
	for _, c := range cs {
		if err := readGreeting(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}
