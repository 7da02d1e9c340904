package tcp

import (
	"context"
	"io"
	"math"
	"net/netip"
	"testing"
	"time"

	"goxen/netstack/header"
	"goxen/netstack/link/channel"
	"goxen/netstack/stack"
)

// connectedOpts is connected with options for each side (A: client, B: server).
func connectedOpts(t *testing.T, oa, ob Options) (c, s *Endpoint, ea *channel.Endpoint) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pa, ea := testProto(t, macA, "10.3.0.1/24", oa, 256)
	pb, eb := testProto(t, macB, "10.3.0.2/24", ob, 256)
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

// testProto is TCP on a stack of its own with one NIC at addr over a channel endpoint
// queueing up to qlen frames.
func testProto(t *testing.T, mac header.LinkAddr, addr string, o Options, qlen int) (*Protocol, *channel.Endpoint) {
	st := stack.New(stack.Options{})
	ep := channel.New(qlen, 1500, mac)
	st.AddNIC(1, "eth0", ep)
	st.AddAddress(1, netip.MustParsePrefix(addr))
	t.Cleanup(st.Close)
	return NewWithOptions(st, o), ep
}

// lastSent returns the options of the last segment e queued (call with mu held) and drops
// it from the queue.
func lastSent(t *testing.T, e *Endpoint) (header.TCP, header.TCPOptions) {
	t.Helper()
	q := e.pr.outq
	if len(q) == 0 {
		t.Fatal("nothing queued")
	}
	h := header.TCP(append([]byte(nil), q[len(q)-1].p.Bytes()...))
	q[len(q)-1].p.Release()
	e.pr.outq = q[:len(q)-1]
	o, ok := header.ParseTCPOptions(h.Options())
	if !ok {
		t.Fatalf("our own options do not parse: %x", h.Options())
	}
	return h, o
}

func TestSYNOptions(t *testing.T) {
	c, _, _ := connected(t)
	pr := c.pr
	for _, tc := range []struct {
		nosack, nots bool
	}{{false, false}, {true, false}, {false, true}, {true, true}} {
		pr.mu.Lock()
		pr.opts.NoSACK, pr.opts.NoTimestamps = tc.nosack, tc.nots
		e := pr.newEndpoint()
		e.state, e.local, e.remote, e.route = SynSent, c.local, c.remote, c.route
		e.iss = 1000
		e.sndUna, e.sndNxt, e.sndMax = e.iss, e.iss, e.iss
		e.rcvScale = wantScale(e.rcvBufMax)
		e.sendSYN()
		e.cancelRTO()
		h, o := lastSent(t, e)
		pr.opts.NoSACK, pr.opts.NoTimestamps = false, false
		pr.mu.Unlock()
		if h.Flags() != header.TCPFlagSYN || o.MSS != 1460 || o.WindowScale != 5 {
			t.Errorf("%+v: flags %#x MSS %d scale %d", tc, h.Flags(), o.MSS, o.WindowScale)
		}
		if o.SACKPermitted == tc.nosack || o.TS == tc.nots || (o.TS && o.TSEcr != 0) {
			t.Errorf("%+v: SYN options %+v", tc, o)
		}
		if len(h.Options()) > header.TCPMaxOptions {
			t.Errorf("%d option bytes", len(h.Options()))
		}
	}
}

func TestNegotiation(t *testing.T) {
	for _, tc := range []struct {
		name      string
		oa, ob    Options
		sack, ts  bool
		cc        string
		mssWithTS bool
	}{
		{"both", Options{}, Options{}, true, true, CCCubic, true},
		{"server-nosack", Options{}, Options{NoSACK: true}, false, true, CCCubic, true},
		{"client-nots", Options{NoTimestamps: true, CongestionControl: CCReno}, Options{}, true, false, CCReno, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, s, _ := connectedOpts(t, tc.oa, tc.ob)
			for _, e := range []*Endpoint{c, s} {
				in := e.Info()
				if in.SACK != tc.sack || in.Timestamps != tc.ts || !in.WindowScale {
					t.Errorf("info %+v", in)
				}
				want := 1460
				if tc.ts {
					want -= tsOptionLen
				}
				if in.MSS != want {
					t.Errorf("MSS %d, want %d", in.MSS, want)
				}
			}
			if c.Info().CongestionControl != tc.cc {
				t.Errorf("cc %s", c.Info().CongestionControl)
			}
			// Data flows and RTT samples come from timestamps when they are on.
			go func() { c.Write(make([]byte, 200000)); c.CloseWrite() }()
			s.SetReadDeadline(time.Now().Add(10 * time.Second))
			n, err := io.Copy(io.Discard, s)
			if n != 200000 || err != nil {
				t.Fatalf("%d %v", n, err)
			}
			if got := c.pr.Stats().TSRTTSamples > 0; got != tc.ts {
				t.Errorf("TSRTTSamples %d", c.pr.Stats().TSRTTSamples)
			}
		})
	}
}

// TestPAWS injects segments with old timestamps: dropped and counted, unless TS.Recent
// has aged past 24 days of idleness.
func TestPAWS(t *testing.T) {
	c, _, ea := connected(t)
	rcvNxt, sndNxt := c.vars()
	c.pr.mu.Lock()
	recent := c.tsRecent
	c.pr.mu.Unlock()
	injectData := func(tsval uint32, data string) {
		o := header.AppendTCPOptions(nil, &header.TCPOptions{WindowScale: -1, TS: true, TSVal: tsval, TSEcr: 1})
		c.pr.mu.Lock()
		local, remote := c.local, c.remote
		c.pr.mu.Unlock()
		f := frame(macB, macA, remote, local, header.TCPFields{Seq: rcvNxt, Ack: sndNxt,
			Flags: header.TCPFlagACK | header.TCPFlagPSH, Window: 1000, Options: o}, nil)
		// frame sizes the segment from its fields; append the payload and fix lengths.
		f = withPayload(f, remote, local, []byte(data))
		ea.Inject(f)
	}
	injectData(recent-100, "old")
	waitFor(t, func() bool { return c.pr.Stats().PAWSDrops == 1 })
	if n, _ := c.vars(); n != rcvNxt {
		t.Fatal("a PAWS-failing segment was accepted")
	}
	injectData(recent+5, "new")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 10)
	if n, err := c.Read(b); err != nil || string(b[:n]) != "new" {
		t.Fatalf("%q %v", b[:n], err)
	}
	c.pr.mu.Lock()
	if c.tsRecent != recent+5 {
		t.Errorf("TS.Recent %d, want %d", c.tsRecent, recent+5)
	}
	c.tsRecentAt = time.Now().Add(-pawsIdle - time.Hour) // idle for more than 24 days
	c.pr.mu.Unlock()
	rcvNxt += 3
	injectData(recent-100, "aged")
	if n, err := c.Read(b); err != nil || string(b[:n]) != "aged" {
		t.Fatalf("%q %v", b[:n], err)
	}
	if d := c.pr.Stats().PAWSDrops; d != 1 {
		t.Fatalf("PAWSDrops %d", d)
	}
}

// withPayload appends data to the TCP segment in an Ethernet frame built by frame and
// fixes the IPv4 length and both checksums.
func withPayload(f []byte, src, dst netip.AddrPort, data []byte) []byte {
	f = append(f, data...)
	ip := header.IPv4(f[header.EthernetMinSize:])
	tcpLen := len(f) - header.EthernetMinSize - header.IPv4MinSize
	ip.Encode(&header.IPv4Fields{TotalLen: uint16(header.IPv4MinSize + tcpLen), TTL: 64,
		Protocol: header.TCPProtocolNumber, Src: src.Addr(), Dst: dst.Addr()})
	tcp := header.TCP(f[header.EthernetMinSize+header.IPv4MinSize:])
	tcp.SetChecksum(src.Addr(), dst.Addr())
	return f
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not reached")
}

// TestSACKBlocks checks the blocks our ACKs carry: the most recent first, then the ones
// reported before, merged as holes fill, dropped once delivered; at most three beside
// timestamps.
func TestSACKBlocks(t *testing.T) {
	c, _, _ := connected(t)
	pr := c.pr
	pr.mu.Lock()
	defer pr.mu.Unlock()
	base := c.rcvNxt
	blk := func(a, b uint32) header.TCPSACKBlock { return header.TCPSACKBlock{Start: base + a, End: base + b} }
	seg := func(off, n uint32) {
		c.queueOOO(base+off, make([]byte, n), false)
		c.updateSACKList(base+off, true)
	}
	check := func(want ...header.TCPSACKBlock) {
		t.Helper()
		if len(c.sackList) != len(want) {
			t.Fatalf("list %v, want %v", c.sackList, want)
		}
		for i := range want {
			if c.sackList[i] != want[i] {
				t.Fatalf("list %v, want %v", c.sackList, want)
			}
		}
	}
	seg(1000, 100)
	check(blk(1000, 1100))
	seg(3000, 100)
	check(blk(3000, 3100), blk(1000, 1100))
	seg(1100, 100) // extends the older block, which becomes the most recent
	check(blk(1000, 1200), blk(3000, 3100))
	seg(5000, 100)
	seg(7000, 100)
	check(blk(7000, 7100), blk(5000, 5100), blk(1000, 1200), blk(3000, 3100))
	seg(9000, 100) // a fifth block: the oldest reported falls off the list
	check(blk(9000, 9100), blk(7000, 7100), blk(5000, 5100), blk(1000, 1200))

	// An ACK carries three of them beside the timestamps, in order.
	c.sendACK()
	_, o := lastSent(t, c)
	if !o.TS || len(o.SACK) != 3 || o.SACK[0] != blk(9000, 9100) || o.SACK[2] != blk(5000, 5100) {
		t.Fatalf("ACK options %+v", o)
	}

	// Filling the first hole delivers [0,1200): that block disappears.
	c.receiveData(&segment{data: make([]byte, 1000), seq: base, flags: header.TCPFlagACK})
	pr.outq = nil
	check(blk(9000, 9100), blk(7000, 7100), blk(5000, 5100), blk(3000, 3100))
	if c.rcvNxt != base+1200 {
		t.Fatalf("rcvNxt %d", c.rcvNxt-base)
	}
}

// sbEndpoint is a sender with sndUna=0 and n bytes sent, MSS 1000, SACK on.
func sbEndpoint(n int) *Endpoint {
	pr := &Protocol{s: stack.New(stack.Options{}), opts: Options{NoRACK: true}} // RFC 6675's rules
	pr.opts.setDefaults()
	e := pr.newEndpoint()
	e.sackOK, e.mss, e.state = true, 1000, Established
	fillSndBuf(e, n)
	e.sndMax, e.sndNxt = uint32(n), uint32(n)
	e.sndWnd = 1 << 20
	return e
}

func TestScoreboard(t *testing.T) {
	b := func(a, z uint32) header.TCPSACKBlock { return header.TCPSACKBlock{Start: a, End: z} }
	e := sbEndpoint(10000)
	// Merging, and ignoring blocks outside (SND.UNA, SND.MAX].
	if !e.sbUpdate([]header.TCPSACKBlock{b(2000, 2500), b(2500, 3000)}) {
		t.Fatal("no news")
	}
	if e.sbUpdate([]header.TCPSACKBlock{b(2000, 3000), b(0, 0), b(12000, 13000), b(3000, 2000)}) {
		t.Fatal("old or invalid blocks counted as news")
	}
	e.sbUpdate([]header.TCPSACKBlock{b(6000, 7000), b(4000, 5000)})
	if len(e.sb) != 3 || e.sb[0] != b(2000, 3000) || e.sb[1] != b(4000, 5000) || e.sb[2] != b(6000, 7000) {
		t.Fatalf("scoreboard %v", e.sb)
	}
	// IsLost: three discontiguous SACKed ranges above 0 and 1999; not above 3000.
	for seq, want := range map[uint32]bool{0: true, 1999: true, 2500: false, 3000: false, 5500: false, 9000: false} {
		if e.isLost(seq) != want {
			t.Errorf("IsLost(%d) = %v", seq, !want)
		}
	}
	// pipe: holes [0,2000) lost, [3000,4000) [5000,6000) [7000,10000) not: 5000 bytes.
	e.highRxt = 0
	if p := e.pipe(); p != 5000 {
		t.Fatalf("pipe %d", p)
	}
	// NextSeg rule 1: the lost bytes, one segment at a time above HighRxt.
	if s, n, ok := e.nextSeg(); !ok || s != 0 || n != 1000 {
		t.Fatalf("NextSeg %d %d %v", s, n, ok)
	}
	e.highRxt = 1000
	if p := e.pipe(); p != 6000 { // the retransmitted segment counts once
		t.Fatalf("pipe %d", p)
	}
	if s, n, ok := e.nextSeg(); !ok || s != 1000 || n != 1000 {
		t.Fatalf("NextSeg %d %d %v", s, n, ok)
	}
	e.highRxt = 2000
	// Rule 2 with unsent data.
	fillSndBuf(e, 12000)
	if s, n, ok := e.nextSeg(); !ok || s != 10000 || n != 0 {
		t.Fatalf("NextSeg %d %d %v (want new data)", s, n, ok)
	}
	// Rule 3 without: the first unSACKed bytes above HighRxt, though not lost.
	fillSndBuf(e, 10000)
	if s, n, ok := e.nextSeg(); !ok || s != 3000 || n != 1000 {
		t.Fatalf("NextSeg %d %d %v", s, n, ok)
	}
	// The bytes rule: one range of more than 2 SMSS makes what is below it lost.
	e2 := sbEndpoint(10000)
	e2.sbUpdate([]header.TCPSACKBlock{b(5000, 7001)})
	if !e2.isLost(4999) || e2.lostEdge() != 5000 {
		t.Fatalf("edge %d", e2.lostEdge())
	}
	e3 := sbEndpoint(10000)
	e3.sbUpdate([]header.TCPSACKBlock{b(5000, 7000)})
	if e3.isLost(0) {
		t.Fatal("2 SMSS SACKed in one range: lost too early")
	}
	// SND.UNA advancing trims the scoreboard.
	e.sndUna = 4500
	e.sbTrim()
	if len(e.sb) != 2 || e.sb[0] != b(4500, 5000) {
		t.Fatalf("trimmed %v", e.sb)
	}
}

// TestCubicFormulas checks CUBIC's state against RFC 9438's equations.
func TestCubicFormulas(t *testing.T) {
	const mss = 1000
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	c := &cubic{}
	e := &Endpoint{mss: mss, cwnd: 100 * mss, srtt: 100 * time.Millisecond, cc: c}
	t0 := time.Unix(1000, 0)
	// 4.6: ssthresh = cwnd * beta; W_max = cwnd.
	if ss := c.ssthresh(e, t0); ss != 70*mss || c.wMax != 100 || c.prior != 100 {
		t.Fatalf("ssthresh %d wMax %v", ss, c.wMax)
	}
	e.cwnd = 70 * mss
	c.avoid(e, 0, t0) // epoch start
	// Equation 2: K = cbrt((W_max - cwnd_epoch)/C).
	if k := math.Cbrt(30 / 0.4); !near(c.k, k) {
		t.Fatalf("K %v, want %v", c.k, k)
	}
	// Equation 1 at t=0 and t=K.
	if !near(c.w(0), 70) || !near(c.w(c.k), 100) {
		t.Fatalf("W(0)=%v W(K)=%v", c.w(0), c.w(c.k))
	}
	// An ACK of one segment 1 s later: cwnd grows by (W_cubic(t+RTT)-cwnd)/cwnd segments
	// (4.4), and W_est by alpha_cubic/cwnd (4.3).
	c.avoid(e, mss, t0.Add(time.Second))
	target := 0.4*math.Pow(1.1-c.k, 3) + 100
	want := 70*mss + int((target-70)/70*mss)
	if e.cwnd != want {
		t.Fatalf("cwnd %d, want %d", e.cwnd, want)
	}
	alpha := 3 * (1 - 0.7) / (1 + 0.7)
	if !near(c.wEst, 70+alpha/70) {
		t.Fatalf("W_est %v", c.wEst)
	}
	// The target is capped at 1.5 cwnd (4.5): far past K the curve is steep.
	e.cwnd = 70 * mss
	c.frac = 0
	c.avoid(e, mss, t0.Add(60*time.Second))
	if e.cwnd != 70*mss+int(0.5*mss) {
		t.Fatalf("capped growth: cwnd %d", e.cwnd)
	}
	// Reno-friendly region (4.3): when W_est is above W_cubic(t), cwnd = W_est.
	e.cwnd = 70 * mss
	c.wEst = 90
	c.avoid(e, mss, t0.Add(500*time.Millisecond))
	if w := c.wEst; e.cwnd != int(w*mss) && e.cwnd != int(w*mss)+1 {
		t.Fatalf("cwnd %d, W_est %v", e.cwnd, w)
	}
	// Fast convergence (4.7): a loss below the previous W_max lowers W_max further.
	e.cwnd = 80 * mss
	if ss := c.ssthresh(e, t0); ss != 56*mss || !near(c.wMax, 80*1.7/2) {
		t.Fatalf("ssthresh %d wMax %v", ss, c.wMax)
	}
	// Growth over many round trips reaches W_max near t=K and passes it (convex region).
	e.cwnd = 56 * mss
	now := t0
	c.avoid(e, 0, now)
	for now.Sub(t0) < time.Duration((c.k+2)*float64(time.Second)) {
		now = now.Add(e.srtt)
		for range e.cwnd / mss {
			c.avoid(e, mss, now)
		}
	}
	if got := float64(e.cwnd) / mss; got < c.wMax {
		t.Fatalf("after K+2 s cwnd %v segments, W_max %v", got, c.wMax)
	}
}

func TestRenoFormulas(t *testing.T) {
	e := &Endpoint{mss: 1000, cwnd: 10000, cc: &reno{}, sndMax: 8000, ssthresh: 1000}
	e.growCwnd(1000)
	if e.cwnd != 10100 {
		t.Fatalf("cwnd %d", e.cwnd)
	}
	if ss := e.congestionEvent(); ss != 4000 {
		t.Fatalf("ssthresh %d", ss)
	}
	e.cwnd, e.ssthresh = 3000, 8000
	e.growCwnd(5000) // slow start: at most one SMSS per ACK
	if e.cwnd != 4000 {
		t.Fatalf("slow start cwnd %d", e.cwnd)
	}
}

// TestLostRetransmit: in SACK recovery, once more than 2 SMSS sent after the retransmission
// of SND.UNA's segment are SACKed while it is still missing, HighRxt returns to SND.UNA.
func TestLostRetransmit(t *testing.T) {
	b := func(a, z uint32) header.TCPSACKBlock { return header.TCPSACKBlock{Start: a, End: z} }
	e := sbEndpoint(14000)
	e.inRecovery = true
	e.sbUpdate([]header.TCPSACKBlock{b(1000, 10000)})
	e.highRxt = 1000
	e.rxtUna, e.rxtSeq, e.rxtMark = true, 0, 10000
	e.sbUpdate([]header.TCPSACKBlock{b(10000, 12000)}) // exactly 2 SMSS after it: not yet
	e.lostRetransmit()
	if e.highRxt != 1000 || e.pr.stats.LostRetransmits != 0 {
		t.Fatalf("HighRxt %d", e.highRxt)
	}
	e.sbUpdate([]header.TCPSACKBlock{b(10000, 12001)})
	e.lostRetransmit()
	if e.highRxt != 0 || e.pr.stats.LostRetransmits != 1 || e.rxtUna {
		t.Fatalf("HighRxt %d lost %d", e.highRxt, e.pr.stats.LostRetransmits)
	}
	if s, n, ok := e.nextSeg(); !ok || s != 0 || n != 1000 {
		t.Fatalf("NextSeg %d %d %v", s, n, ok)
	}
}

// TestPTO checks when a tail loss probe is scheduled and for how long (RFC 8985 7.2).
func TestPTO(t *testing.T) {
	e := sbEndpoint(5000)
	e.rttSampled, e.srtt, e.rto = true, 30*time.Millisecond, 300*time.Millisecond
	if d, ok := e.pto(); !ok || d != 60*time.Millisecond {
		t.Fatalf("PTO %v %v", d, ok)
	}
	e.srtt = time.Millisecond
	if d, _ := e.pto(); d != minPTO {
		t.Fatalf("PTO %v, want the 10 ms floor", d)
	}
	e.sndMax = 1000 // one segment in flight: allow for a delayed ACK, bounded by the RTO
	if d, _ := e.pto(); d != minPTO+wcDelAckT {
		t.Fatalf("PTO %v", d)
	}
	e.rto = 150 * time.Millisecond
	if d, _ := e.pto(); d != e.rto {
		t.Fatalf("PTO %v, want the RTO", d)
	}
	e.sndMax = 5000
	for name, f := range map[string]func(*Endpoint){
		"in recovery":     func(e *Endpoint) { e.inRecovery = true },
		"probe out":       func(e *Endpoint) { e.tlpOut = true },
		"after a timeout": func(e *Endpoint) { e.retries = 1 },
		"no RTT sample":   func(e *Endpoint) { e.rttSampled = false },
		"nothing sent":    func(e *Endpoint) { e.sndMax = 0 },
		"turned off":      func(e *Endpoint) { e.pr.opts.NoTLP = true },
	} {
		c := sbEndpoint(5000)
		c.rttSampled, c.srtt, c.rto = true, 30*time.Millisecond, 300*time.Millisecond
		f(c)
		if _, ok := c.pto(); ok {
			t.Errorf("%s: probe scheduled", name)
		}
	}
}

// fillSndBuf replaces e's send buffer with n zero bytes (charged to the budget).
func fillSndBuf(e *Endpoint, n int) {
	e.sndBuf.Reset(e.pr.s.Budget())
	for b := make([]byte, n); len(b) > 0; {
		k := e.sndBuf.Append(b, 1<<30, e.pr.s.Budget())
		if k == 0 {
			panic("fillSndBuf: budget spent")
		}
		b = b[k:]
	}
}

// TestScoreboardBounded: a peer SACKing every other byte of 1 MiB in flight leaves at most
// maxScoreboard blocks, sorted and disjoint, and each update stays cheap.
func TestScoreboardBounded(t *testing.T) {
	b := func(a, z uint32) header.TCPSACKBlock { return header.TCPSACKBlock{Start: a, End: z} }
	e := sbEndpoint(1 << 20)
	for i := 0; i < 1<<19; i += 2 {
		e.sbUpdate([]header.TCPSACKBlock{b(uint32(2*i+1), uint32(2*i+2))})
	}
	if len(e.sb) != maxScoreboard {
		t.Fatalf("%d blocks, want %d", len(e.sb), maxScoreboard)
	}
	for k := 1; k < len(e.sb); k++ {
		if !seqLT(e.sb[k-1].End, e.sb[k].Start) {
			t.Fatalf("blocks %v and %v not sorted and disjoint", e.sb[k-1], e.sb[k])
		}
	}
	// A block covering them all merges the scoreboard into one.
	e.sbUpdate([]header.TCPSACKBlock{b(1, 1<<20)})
	if len(e.sb) != 1 || e.sb[0] != b(1, 1<<20) {
		t.Fatalf("after a covering block: %v", e.sb)
	}
}

// Snapshot names every counter "TCP.X" and carries the connection gauges.
func TestSnapshot(t *testing.T) {
	c, _, _ := connectedOpts(t, Options{MaxConnections: 7}, Options{})
	m := c.pr.Snapshot()
	if m["TCP.ActiveOpens"] != 1 || m["TCP.Connections"] != 1 || m["TCP.MaxConnections"] != 7 {
		t.Fatalf("snapshot %v", m)
	}
	if _, ok := m["TCP.SynCookiesSent"]; !ok {
		t.Fatalf("no TCP.SynCookiesSent in %v", m)
	}
}
