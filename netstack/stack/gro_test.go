package stack_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
	"goxen/netstack/stack"
)

// tcpSeg describes a TCP segment from the peer for the coalescing tests; seg fills in the
// usual values (ACK, ports 4000 -> 80, timestamps).
type tcpSeg struct {
	v6           bool
	sport        uint16
	seq          uint32
	flags        uint8
	ack          uint32
	wnd          uint16
	tsval        uint32
	noTS         bool
	tos, ttl     uint8
	df           bool
	payload      []byte
	badChecksum  bool
	dst          header.LinkAddr
	ipFragmentMF bool
	pad          bool // to Ethernet's 60-byte minimum
}

func seg(seq uint32, n int) tcpSeg {
	return tcpSeg{sport: 4000, seq: seq, flags: header.TCPFlagACK, ack: 7, wnd: 1000, tsval: 100, ttl: 64,
		payload: pattern(int(seq) + n)[seq:]}
}

func (s tcpSeg) frame() []byte {
	src, dst := peerAddr, ourAddr
	if s.v6 {
		src, dst = peerG6, ourG6
	}
	var opts []byte
	if !s.noTS {
		opts = header.AppendTCPOptions(nil, &header.TCPOptions{WindowScale: -1, TS: true, TSVal: s.tsval, TSEcr: 55})
	}
	t := make(header.TCP, header.TCPMinSize+len(opts)+len(s.payload))
	t.Encode(&header.TCPFields{SrcPort: s.sport, DstPort: 80, Seq: s.seq, Ack: s.ack, Flags: s.flags, Window: s.wnd, Options: opts})
	copy(t[header.TCPMinSize+len(opts):], s.payload)
	t.SetChecksum(src, dst)
	if s.badChecksum {
		t[len(t)-1] ^= 0xff
	}
	mac := ourMAC
	if s.dst != (header.LinkAddr{}) {
		mac = s.dst
	}
	if s.v6 {
		ip := ip6Packet(src, dst, header.TCPProtocolNumber, s.ttl, t)
		ip[0], ip[1] = 0x60|s.tos>>4, s.tos<<4 // traffic class (RFC 8200 3)
		return ethFrame(mac, peerMAC, header.EtherTypeIPv6, ip)
	}
	f := header.IPv4Fields{TOS: s.tos, TTL: s.ttl, Protocol: header.TCPProtocolNumber, Src: src, Dst: dst}
	if s.df {
		f.Flags = header.IPv4FlagDF
	}
	if s.ipFragmentMF {
		f.Flags |= header.IPv4FlagMF
	}
	b := ethFrame(mac, peerMAC, header.EtherTypeIPv4, ipPacket(f, t))
	if s.pad && len(b) < 60 {
		b = append(b, make([]byte, 60-len(b))...)
	}
	return b
}

// received is a segment as TCP got it.
type received struct {
	info      stack.PacketInfo
	seg       header.TCP
	csumValid bool
}

func (r received) String() string {
	return fmt.Sprintf("seq %d len %d flags %#x", r.seg.Seq(), len(r.seg.Payload()), r.seg.Flags())
}

// tcpRecorder stands in for TCP: it keeps a copy of every segment the stack hands it, but
// drops and counts one with a bad checksum (where the device did not check it) as TCP does.
type tcpRecorder struct {
	got []received
	bad int
}

func (r *tcpRecorder) HandlePacket(info stack.PacketInfo, p *buffer.Packet) bool {
	defer p.Release()
	t := header.TCP(p.Bytes())
	if !p.Offload.CsumValid && (!t.Valid() || !t.ChecksumValid(info.Src, info.Dst)) {
		r.bad++
		return true
	}
	r.got = append(r.got, received{info, append(header.TCP(nil), t...), p.Offload.CsumValid})
	return true
}

// groEnv is newEnv (or newEnv6 for v6) with a recorder as TCP.
func groEnv(t *testing.T, v6 bool) (*env, *tcpRecorder) {
	e := newEnv(t, stack.Options{})
	if v6 {
		e = newEnv6(t, stack.IPv6Config{}, true, false)
	}
	r := &tcpRecorder{}
	e.s.RegisterTransport(header.TCPProtocolNumber, r)
	return e, r
}

// batch delivers the segments' frames as one batch.
func (e *env) batch(segs ...tcpSeg) {
	ps := make([]*buffer.Packet, len(segs))
	for i, s := range segs {
		ps[i] = buffer.FromBytes(s.frame())
	}
	e.ep.InjectPackets(ps)
}

// expect checks the segments TCP got: each is seq/payload-length, with the payload the
// pattern's bytes from seq on, a valid checksum (or one a coalescer verified).
func (r *tcpRecorder) expect(t *testing.T, want ...[2]int) {
	t.Helper()
	var got []string
	for _, x := range r.got {
		got = append(got, fmt.Sprintf("%d/%d", x.seg.Seq(), len(x.seg.Payload())))
	}
	var w []string
	for _, x := range want {
		w = append(w, fmt.Sprintf("%d/%d", x[0], x[1]))
	}
	if strings.Join(got, " ") != strings.Join(w, " ") {
		t.Fatalf("TCP got %v, want %v", got, w)
	}
	for _, x := range r.got {
		src, dst := x.info.Src, x.info.Dst
		if seq := int(x.seg.Seq()); !bytes.Equal(x.seg.Payload(), pattern(seq + len(x.seg.Payload()))[seq:]) {
			t.Fatalf("%v: payload corrupted", x)
		}
		if !x.csumValid && !x.seg.ChecksumValid(src, dst) {
			t.Fatalf("%v: bad checksum handed on", x)
		}
	}
}

func (e *env) stats(names ...string) string {
	m := e.s.Stats().Snapshot()
	var out []string
	for _, n := range names {
		out = append(out, fmt.Sprintf("%s=%d", n, m[n]))
	}
	return strings.Join(out, " ")
}

// Consecutive segments of a batch reach TCP as one: the first's headers, the payloads in
// order, an IP length covering them, marked checked; the counters say so.
func TestGROInOrder(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		t.Run(fmt.Sprint("v6=", v6), func(t *testing.T) {
			e, r := groEnv(t, v6)
			s := []tcpSeg{seg(0, 1000), seg(1000, 1000), seg(2000, 1000), seg(3000, 1000), seg(4000, 1000)}
			for i := range s {
				s[i].v6 = v6
			}
			s[4].flags |= header.TCPFlagPSH
			e.batch(s...)
			r.expect(t, [2]int{0, 5000})
			if x := r.got[0]; !x.csumValid || x.seg.Flags() != header.TCPFlagACK|header.TCPFlagPSH || x.info.TTL != 64 {
				t.Fatalf("%v: checked %v, ttl %d", x, x.csumValid, x.info.TTL)
			}
			in := "IP.InReceives"
			if v6 {
				in = "IPv6.InReceives"
			}
			if got, want := e.stats("Link.RxFrames", "Link.GROMerged", "Link.GROFlushed", in),
				"Link.RxFrames=5 Link.GROMerged=4 Link.GROFlushed=1 "+in+"=1"; got != want {
				t.Fatalf("%s, want %s", got, want)
			}
		})
	}
}

// A frame delivered on its own (DeliverFrame) is never held: no coalescing without batches.
func TestGRONotWithoutBatch(t *testing.T) {
	e, r := groEnv(t, false)
	e.ep.Inject(seg(0, 1000).frame())
	e.ep.Inject(seg(1000, 1000).frame())
	r.expect(t, [2]int{0, 1000}, [2]int{1000, 1000})
	if got := e.stats("Link.GROMerged", "Link.GROFlushed"); got != "Link.GROMerged=0 Link.GROFlushed=0" {
		t.Fatal(got)
	}
}

// A gap, a longer segment, a shorter one (which ends the run), PSH (likewise) and link
// padding behind a tiny segment.
func TestGRORuns(t *testing.T) {
	e, r := groEnv(t, false)
	psh := seg(5000, 1000)
	psh.flags |= header.TCPFlagPSH
	e.batch(seg(0, 1000), seg(1000, 1000), seg(3000, 1000), seg(4000, 1000), psh, seg(6000, 1000),
		seg(7000, 1200), seg(8200, 1200), seg(9400, 500), seg(9900, 1200), seg(11100, 6), seg(11106, 1200))
	r.expect(t, [2]int{0, 2000}, [2]int{3000, 3000}, [2]int{6000, 1000}, [2]int{7000, 2900}, [2]int{9900, 1206},
		[2]int{11106, 1200})
	r.got = nil
	var tiny []tcpSeg
	for i := range 3 {
		s := seg(uint32(20000+i), 1)
		s.noTS, s.pad = true, true
		tiny = append(tiny, s)
	}
	e.batch(tiny...)
	r.expect(t, [2]int{20000, 3})
}

// Segments differing in what must not differ are not joined: the run ends there and the
// differing segment starts its own (if it may be held at all). TSval may grow, not shrink;
// CWR may open a run, not join one.
func TestGROHeaderDifferences(t *testing.T) {
	three := [][2]int{{0, 1000}, {1000, 1000}, {2000, 1000}}
	newRun := [][2]int{{0, 1000}, {1000, 2000}} // the third joins the second
	for _, c := range []struct {
		name string
		v6   bool
		mod  func(*tcpSeg)
		want [][2]int
	}{
		{"tsval grows", false, func(s *tcpSeg) { s.tsval++ }, [][2]int{{0, 3000}}}, // and the third's by 2
		{"tsval shrinks", false, func(s *tcpSeg) { s.tsval-- }, newRun},
		{"no timestamps", false, func(s *tcpSeg) { s.noTS = true }, three},
		{"ack", false, func(s *tcpSeg) { s.ack++ }, three},
		{"window", false, func(s *tcpSeg) { s.wnd++ }, three},
		{"ECE", false, func(s *tcpSeg) { s.flags |= header.TCPFlagECE }, three},
		{"CWR", false, func(s *tcpSeg) { s.flags |= header.TCPFlagCWR }, newRun},
		{"FIN", false, func(s *tcpSeg) { s.flags |= header.TCPFlagFIN }, three},
		{"URG", false, func(s *tcpSeg) { s.flags |= header.TCPFlagURG }, three},
		{"RST", false, func(s *tcpSeg) { s.flags |= header.TCPFlagRST }, three},
		{"SYN", false, func(s *tcpSeg) { s.flags |= header.TCPFlagSYN }, three},
		{"no ACK", false, func(s *tcpSeg) { s.flags = 0 }, three},
		{"TOS", false, func(s *tcpSeg) { s.tos = 4 }, three},
		{"TTL", false, func(s *tcpSeg) { s.ttl = 63 }, three},
		{"DF", false, func(s *tcpSeg) { s.df = true }, three},
		{"other flow", false, func(s *tcpSeg) { s.sport = 4001 }, three},
		{"group MAC", false, func(s *tcpSeg) { s.dst = header.BroadcastLinkAddr }, three},
		{"v6 traffic class", true, func(s *tcpSeg) { s.tos = 4 }, three},
		{"v6 hop limit", true, func(s *tcpSeg) { s.ttl = 63 }, three},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, r := groEnv(t, c.v6)
			a, b, d := seg(0, 1000), seg(1000, 1000), seg(2000, 1000)
			a.v6, b.v6, d.v6 = c.v6, c.v6, c.v6
			c.mod(&b)
			if c.name == "tsval grows" {
				d.tsval += 2
			}
			e.batch(a, b, d)
			r.expect(t, c.want...)
		})
	}
}

// Flows are held side by side; one's segments do not end another's run.
func TestGROFlows(t *testing.T) {
	e, r := groEnv(t, false)
	a0, a1, b0, b1 := seg(0, 1000), seg(1000, 1000), seg(0, 500), seg(500, 500)
	b0.sport, b1.sport = 4001, 4001
	e.batch(a0, b0, a1, b1)
	r.expect(t, [2]int{0, 2000}, [2]int{0, 1000})
	if r.got[0].seg.SrcPort() != 4000 || r.got[1].seg.SrcPort() != 4001 {
		t.Fatalf("got %v", r.got)
	}
}

// At most 8 flows are held: a ninth hands on the oldest at once.
func TestGROFlowBound(t *testing.T) {
	e, r := groEnv(t, false)
	var batch []tcpSeg
	for round := range 2 {
		for f := range 9 {
			s := seg(uint32(round*100), 100)
			s.sport = 5000 + uint16(f)
			batch = append(batch, s)
		}
	}
	e.batch(batch...)
	// Each flow's second segment finds its first handed on already (the ninth flow's
	// arrival pushed out the oldest, and so on down the line): nothing joins.
	if len(r.got) != 18 || r.got[0].seg.SrcPort() != 5000 || r.got[0].seg.Seq() != 0 || r.got[1].seg.SrcPort() != 5001 {
		t.Fatalf("got %d segments: %v", len(r.got), r.got)
	}
	// With eight flows, every pair joins.
	two := append(append([]tcpSeg{}, batch[:8]...), batch[9:17]...)
	r.got = nil
	e.batch(two...)
	if len(r.got) != 8 {
		t.Fatalf("got %d segments: %v", len(r.got), r.got)
	}
	for _, x := range r.got {
		if len(x.seg.Payload()) != 200 {
			t.Fatalf("got %v", r.got)
		}
	}
}

// A segment with a bad checksum is never joined: TCP gets it, and drops and counts it as
// ever; the run ends at the gap it leaves.
func TestGROBadChecksum(t *testing.T) {
	e, r := groEnv(t, false)
	bad := seg(1000, 1000)
	bad.badChecksum = true
	e.batch(seg(0, 1000), bad, seg(1000, 1000), seg(2000, 1000))
	r.expect(t, [2]int{0, 3000})
	bad.seq = 4000
	e.batch(seg(3000, 1000), bad, seg(5000, 1000))
	r.expect(t, [2]int{0, 3000}, [2]int{3000, 1000}, [2]int{5000, 1000})
	if got := e.stats("Link.GROMerged"); got != "Link.GROMerged=2" || r.bad != 2 {
		t.Fatalf("%s, %d bad checksums", got, r.bad)
	}
}

// A run stops short of 64 KiB of IP packet and goes on in a second one.
func TestGROSizeBound(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		t.Run(fmt.Sprint("v6=", v6), func(t *testing.T) {
			e, r := groEnv(t, v6)
			var batch []tcpSeg
			for i := range 50 {
				s := seg(uint32(i*1448), 1448)
				s.v6 = v6
				batch = append(batch, s)
			}
			e.batch(batch...)
			hl := header.IPv4MinSize
			if v6 {
				hl = header.IPv6MinSize
			}
			n := (header.IPv4MaxTotalLen - hl - 32) / 1448 // segments in the first
			r.expect(t, [2]int{0, n * 1448}, [2]int{n * 1448, (50 - n) * 1448})
		})
	}
}

// An IP packet that may carry a held flow's data but cannot be looked into (a fragment)
// hands on the flows between its addresses first; other protocols pass without.
func TestGROOrderWithOtherPackets(t *testing.T) {
	e, r := groEnv(t, false)
	frag := seg(5000, 1000)
	frag.ipFragmentMF = true
	e.batch(seg(0, 1000), frag, seg(1000, 1000))
	r.expect(t, [2]int{0, 1000}, [2]int{1000, 1000})
	r.got = nil
	udp := buffer.FromBytes(fromPeer(ipPacket(header.IPv4Fields{Protocol: header.UDPProtocolNumber, Src: peerAddr, Dst: ourAddr},
		udpDatagram(peerAddr, ourAddr, 1, 2, []byte("x")))))
	e.ep.InjectPackets([]*buffer.Packet{buffer.FromBytes(seg(0, 1000).frame()), udp, buffer.FromBytes(seg(1000, 1000).frame())})
	r.expect(t, [2]int{0, 2000})
}

// Frames the coalescer does not take are handled as ever, counted where they always were.
// A truncated IP packet cannot be looked into: it hands on the flows between its addresses.
func TestGROMalformed(t *testing.T) {
	e, r := groEnv(t, false)
	short := seg(1000, 1000).frame()
	e.ep.InjectPackets([]*buffer.Packet{buffer.FromBytes(seg(0, 1000).frame()), buffer.FromBytes(short[:500]),
		buffer.FromBytes(short[:20]), buffer.FromBytes(short[:10]), buffer.FromBytes(seg(1000, 1000).frame())})
	r.expect(t, [2]int{0, 1000}, [2]int{1000, 1000}) // the truncated packet's addresses ended the run
	if got := e.stats("IP.InTruncated", "Link.RxMalformed"); got != "IP.InTruncated=2 Link.RxMalformed=1" {
		t.Fatal(got)
	}
}

// Coalescing changes how TCP's bytes are cut, never which bytes it gets: a batch of
// arbitrary frames (length-prefixed in the input) gives TCP, as a batch and one frame at a
// time, the same bytes at the same sequence numbers of the same flows, and as many segments
// with a bad checksum (which TCP drops).
func FuzzGROBatch(f *testing.F) {
	var seed []byte
	add := func(b []byte) { seed = append(append(seed, byte(len(b)>>8), byte(len(b))), b...) }
	psh := seg(3000, 500)
	psh.flags |= header.TCPFlagPSH
	other := seg(0, 700)
	other.sport = 4001
	for _, s := range []tcpSeg{seg(0, 1000), seg(1000, 1000), other, seg(2000, 1000), psh, seg(1000, 1000)} {
		add(s.frame())
	}
	f.Add(seed)
	f.Fuzz(groDifferential)
}

// groDifferential is FuzzGROBatch's body.
func groDifferential(t *testing.T, in []byte) {
	var frames [][]byte
	for len(in) >= 2 {
		n := min(int(in[0])<<8|int(in[1]), len(in)-2)
		frames = append(frames, in[2:2+n])
		in = in[2+n:]
	}
	bytesOf := func(batch bool) map[string]int {
		e, r := groEnv(t, false)
		if batch {
			ps := make([]*buffer.Packet, len(frames))
			for i, b := range frames {
				ps[i] = buffer.FromBytes(b)
			}
			e.ep.InjectPackets(ps)
		} else {
			for _, b := range frames {
				e.ep.Inject(b)
			}
		}
		m := map[string]int{"bad": r.bad}
		for _, x := range r.got {
			for i, c := range x.seg.Payload() {
				m[fmt.Sprint(x.info.Src, x.seg.SrcPort(), x.seg.DstPort(), x.seg.Seq()+uint32(i), c)]++
			}
		}
		return m
	}
	a, b := bytesOf(true), bytesOf(false)
	if len(a) != len(b) {
		t.Fatalf("%d bytes coalesced, %d alone", len(a), len(b))
	}
	for k, v := range b {
		if a[k] != v {
			t.Fatalf("%s: %d coalesced, %d alone", k, a[k], v)
		}
	}
}
