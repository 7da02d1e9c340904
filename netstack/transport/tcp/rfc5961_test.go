package tcp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/netip"
	"testing"
	"time"

	"goxen/netstack/header"
	"goxen/netstack/link/channel"
	"goxen/netstack/stack"
)

var macA, macB = header.LinkAddr{2, 0, 0, 0, 0, 1}, header.LinkAddr{2, 0, 0, 0, 0, 2}

// connected returns an established client endpoint on stack A (whose link is ea) and the
// server endpoint on B, over a wire.
func connected(t testing.TB) (c, s *Endpoint, ea *channel.Endpoint) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	mk := func(mac header.LinkAddr, addr string) (*Protocol, *channel.Endpoint) {
		st := stack.New(stack.Options{})
		ep := channel.New(256, 1500, mac)
		st.AddNIC(1, "eth0", ep)
		st.AddAddress(1, netip.MustParsePrefix(addr))
		t.Cleanup(st.Close)
		return New(st), ep
	}
	pa, ea := mk(macA, "10.3.0.1/24")
	pb, eb := mk(macB, "10.3.0.2/24")
	channel.Wire(ctx, ea, eb)
	l, err := pb.Listen(netip.MustParseAddrPort("10.3.0.2:80"), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
	defer ccancel()
	c, err = pa.Connect(cctx, netip.AddrPort{}, netip.MustParseAddrPort("10.3.0.2:80"), 0)
	if err != nil {
		t.Fatal(err)
	}
	l.SetReadDeadline(time.Now().Add(5 * time.Second))
	s, err = l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	return c, s, ea
}

// inject delivers a segment from c's peer to c's stack, as the peer would send it; mangle,
// if set, edits the TCP bytes after the checksum is computed.
func inject(ea *channel.Endpoint, c *Endpoint, f header.TCPFields, mangle func(header.TCP)) {
	c.pr.mu.Lock()
	local, remote := c.local, c.remote
	c.pr.mu.Unlock()
	ea.Inject(frame(macB, macA, remote, local, f, mangle))
}

// frame builds an Ethernet frame carrying a TCP segment from src to dst.
func frame(smac, dmac header.LinkAddr, src, dst netip.AddrPort, f header.TCPFields, mangle func(header.TCP)) []byte {
	f.SrcPort, f.DstPort = src.Port(), dst.Port()
	n := header.TCPMinSize + len(f.Options)
	b := make([]byte, header.EthernetMinSize+header.IPv4MinSize+n)
	header.Ethernet(b).Encode(&header.EthernetFields{Dst: dmac, Src: smac, Type: header.EtherTypeIPv4})
	header.IPv4(b[header.EthernetMinSize:]).Encode(&header.IPv4Fields{TotalLen: uint16(header.IPv4MinSize + n),
		TTL: 64, Protocol: header.TCPProtocolNumber, Src: src.Addr(), Dst: dst.Addr()})
	t := header.TCP(b[header.EthernetMinSize+header.IPv4MinSize:])
	t.Encode(&f)
	t.SetChecksum(src.Addr(), dst.Addr())
	if mangle != nil {
		mangle(t)
	}
	return b
}

func (e *Endpoint) vars() (rcvNxt, sndNxt uint32) {
	e.pr.mu.Lock()
	defer e.pr.mu.Unlock()
	return e.rcvNxt, e.sndMax
}

// TestChallengeACK checks RFC 5961: an in-window RST that is not exactly at RCV.NXT, a SYN
// on an established connection and an ACK of unsent data each draw a challenge ACK and
// leave the connection up; an exact RST resets it.
func TestChallengeACK(t *testing.T) {
	c, _, ea := connected(t)
	rcv, snd := c.vars()
	inject(ea, c, header.TCPFields{Seq: rcv + 1000, Flags: header.TCPFlagRST}, nil)
	inject(ea, c, header.TCPFields{Seq: rcv + 10, Flags: header.TCPFlagSYN, Window: 1000}, nil)
	inject(ea, c, header.TCPFields{Seq: rcv, Ack: snd + 5000, Flags: header.TCPFlagACK, Window: 1000}, nil)
	st := c.pr.Stats()
	if st.ChallengeACKs != 3 || c.State() != Established {
		t.Fatalf("challenge ACKs %d, state %v", st.ChallengeACKs, c.State())
	}
	// An out-of-window RST is ignored altogether.
	inject(ea, c, header.TCPFields{Seq: rcv - 100000, Flags: header.TCPFlagRST}, nil)
	if c.State() != Established {
		t.Fatalf("state %v after an out-of-window RST", c.State())
	}
	inject(ea, c, header.TCPFields{Seq: rcv, Flags: header.TCPFlagRST}, nil)
	if c.State() != Closed {
		t.Fatalf("state %v after an exact RST", c.State())
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, ErrConnReset) {
		t.Fatalf("read after RST: %v", err)
	}
}

// TestMalformedSegments checks that bad checksums, data offsets and option lists are
// dropped and counted without disturbing the connection.
func TestMalformedSegments(t *testing.T) {
	c, s, ea := connected(t)
	rcv, snd := c.vars()
	data := header.TCPFields{Seq: rcv, Ack: snd, Flags: header.TCPFlagACK, Window: 1000}
	inject(ea, c, data, func(h header.TCP) { h[16] ^= 0xff })   // checksum
	inject(ea, c, data, func(h header.TCP) { h[12] = 15 << 4 }) // offset past the end
	inject(ea, c, data, func(h header.TCP) { h[12] = 2 << 4 })  // offset below 20
	bad := data
	bad.Options = []byte{header.TCPOptMSS, 3, 0, header.TCPOptEnd} // MSS of length 3
	inject(ea, c, bad, nil)
	st := c.pr.Stats()
	if st.InCsumErrors != 1 || st.InErrs != 4 {
		t.Fatalf("InCsumErrors %d InErrs %d", st.InCsumErrors, st.InErrs)
	}
	// The connection still works.
	go s.Write([]byte("still here"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "still here" {
		t.Fatalf("%q %v", buf[:n], err)
	}
}

// TestSimultaneousOpen has both ends connect to each other at once (RFC 9293 3.5 figure 8).
func TestSimultaneousOpen(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mk := func(mac header.LinkAddr, addr string) (*Protocol, *channel.Endpoint) {
		st := stack.New(stack.Options{})
		ep := channel.New(256, 1500, mac)
		st.AddNIC(1, "eth0", ep)
		st.AddAddress(1, netip.MustParsePrefix(addr))
		t.Cleanup(st.Close)
		return New(st), ep
	}
	pa, ea := mk(macA, "10.3.0.1/24")
	pb, eb := mk(macB, "10.3.0.2/24")
	// Drop the gratuitous ARPs of the address assignment, so the wait below sees the
	// frames of the connects.
	for _, ep := range []*channel.Endpoint{ea, eb} {
		rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
		if ep.ReadContext(rctx) == nil {
			t.Fatal("no gratuitous ARP")
		}
		rcancel()
	}
	a, b := netip.MustParseAddrPort("10.3.0.1:5000"), netip.MustParseAddrPort("10.3.0.2:6000")
	type res struct {
		e   *Endpoint
		err error
	}
	ra, rb := make(chan res, 1), make(chan res, 1)
	cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
	defer ccancel()
	go func() { e, err := pa.Connect(cctx, a, b, 0); ra <- res{e, err} }()
	go func() { e, err := pb.Connect(cctx, b, a, 0); rb <- res{e, err} }()
	// Join the wire only once both sides have sent (their SYNs wait on ARP), so each SYN
	// meets the other side in SYN-SENT.
	for ea.Len() == 0 || eb.Len() == 0 {
		time.Sleep(time.Millisecond)
	}
	channel.Wire(ctx, ea, eb)
	x, y := <-ra, <-rb
	if x.err != nil || y.err != nil {
		t.Fatalf("%v %v", x.err, y.err)
	}
	go x.e.Write([]byte("ping"))
	y.e.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 8)
	if n, err := y.e.Read(buf); err != nil || string(buf[:n]) != "ping" {
		t.Fatalf("%q %v", buf[:n], err)
	}
}

// TestKeepAlive: probes keep an idle connection up while the peer answers; once the peer is
// gone, the connection fails with ErrTimedOut after Count probes.
func TestKeepAlive(t *testing.T) {
	c, s, _ := connected(t)
	c.SetKeepAlive(KeepAlive{Enable: true, Idle: 30 * time.Millisecond, Interval: 20 * time.Millisecond, Count: 3})
	time.Sleep(200 * time.Millisecond)
	if c.State() != Established {
		t.Fatalf("state %v with a live peer", c.State())
	}
	s.pr.s.Close() // the peer vanishes without a word
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, ErrTimedOut) {
		t.Fatalf("read: %v", err)
	}
}

// TestSYNFloodCookies fills a listener's SYN queue (SynBacklog 4) with spoofed SYNs that are
// never completed; a real client still connects, through a SYN cookie.
func TestSYNFloodCookies(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mk := func(mac header.LinkAddr, addr string) (*Protocol, *channel.Endpoint) {
		st := stack.New(stack.Options{})
		ep := channel.New(1024, 1500, mac)
		st.AddNIC(1, "eth0", ep)
		st.AddAddress(1, netip.MustParsePrefix(addr))
		t.Cleanup(st.Close)
		return NewWithOptions(st, Options{SynBacklog: 4}), ep
	}
	pa, ea := mk(macA, "10.3.0.1/24")
	pb, eb := mk(macB, "10.3.0.2/24")
	channel.Wire(ctx, ea, eb)
	srv := netip.MustParseAddrPort("10.3.0.2:80")
	l, err := pb.Listen(srv, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	spoof := header.LinkAddr{2, 0, 0, 0, 0, 0x99}
	for i := range 50 {
		from := netip.AddrPortFrom(netip.MustParseAddr("10.3.0.99"), uint16(20000+i))
		eb.Inject(frame(spoof, macB, from, srv, header.TCPFields{Seq: uint32(i * 1000), Flags: header.TCPFlagSYN, Window: 1000,
			Options: header.AppendTCPOptions(nil, &header.TCPOptions{MSS: 1460, WindowScale: -1})}, nil))
	}
	st := pb.Stats()
	if st.PassiveOpens != 4 || st.SynCookiesSent != 46 {
		t.Fatalf("after the flood: %+v", st)
	}
	cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
	defer ccancel()
	c, err := pa.Connect(cctx, netip.AddrPort{}, srv, 0)
	if err != nil {
		t.Fatal(err)
	}
	l.SetReadDeadline(time.Now().Add(5 * time.Second))
	s, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if got := pb.Stats().SynCookiesRecv; got != 1 {
		t.Fatalf("SynCookiesRecv %d", got)
	}
	msg := bytes.Repeat([]byte("cookie"), 10000)
	go func() {
		c.Write(msg)
		c.CloseWrite()
	}()
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(s)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("%d bytes, %v", len(got), err)
	}
}
