package stack

import (
	"bytes"
	"encoding/binary"
	"net/netip"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
)

// Receive coalescing (GRO), after Linux's GRO for TCP (net/ipv4/tcp_offload.c): when a link
// endpoint hands over frames in batches (link.BatchDispatcher), consecutive in-order TCP
// segments of one flow in the batch are joined into one before IP and TCP see it, so that a
// bulk transfer over a device without GSO (netfront without GSO towards the guest, a TAP
// without a vnet header) pays IP's, TCP's and the reader's wake-up's per-segment costs once
// per run instead of once per 1448 bytes. The joined segment looks to TCP like one a device
// received with GSO and checked: the first segment's headers, an IP length covering the
// whole, buffer.Offload.CsumValid.
//
// Held: a plain data segment (ACK and a payload, perhaps ECE, CWR or PSH; no SYN, FIN, RST or
// URG) in IPv4 without options and not a fragment, or in IPv6 with TCP as the next header,
// sent to the NIC's own MAC address, whose TCP checksum is correct: one with a bad checksum
// is never merged but handed on, for TCP to drop and count (InCsumErrors) as ever. A segment
// with PSH is not held, as nothing may join it.
//
// Joined to the held segment of its flow (addresses and ports): a segment starting at the
// held one's end, with no more payload than the first (a shorter one ends the run, as the
// last piece of a GSO segment does), within a 64 KiB IP packet, and with everything else
// equal: the Ethernet header; IPv4 TOS, TTL and DF, or IPv6 traffic class, flow label and
// hop limit; TCP ACK number, window, data offset, flags (CWR may open a run only; PSH ends
// it) and options, but for the timestamp's TSval, which may grow: the joined segment keeps
// the first's, the one a receiver echoes when it acknowledges the lot (RFC 7323 4.3). The
// IPv4 ID is not compared: the stack is the segments' destination and never cuts them again.
//
// Bounds and order: at most groMaxFlows flows are held per NIC (a new one hands the oldest
// on), each within a 64 KiB IP packet, and all is handed on when the batch ends: nothing is
// held between batches. A TCP segment that does not join hands its flow's held one on first;
// an IP packet that may carry a held flow's data but cannot be looked into (a fragment, IPv4
// options, IPv6 extension headers, a bad IP header, a group MAC address) hands on the flows
// between its addresses first: nothing in a flow is reordered. Each byte of payload is
// copied once, into a pooled 64 KiB packet, when a second segment joins the first.

const (
	groMaxFlows = 8
	groMaxFrame = header.EthernetMinSize + header.IPv4MaxTotalLen // also for IPv6: the 64 KiB pool class
	ethLen      = header.EthernetMinSize
)

// groFlow is a segment held for its flow.
type groFlow struct {
	p     *buffer.Packet // the frame: Ethernet, IP and TCP headers, the payload joined so far
	v6    bool
	tcp   int    // where the TCP header starts in the frame
	mss   int    // the first segment's payload length
	next  uint32 // the sequence number a joining segment carries
	ts    int    // where the timestamp option's TSval is in the frame, -1 for none
	tsval uint32 // the last joined segment's TSval
}

// groTable is a NIC's held flows, oldest first; empty outside DeliverFrames.
type groTable struct {
	flows [groMaxFlows]groFlow
	n     int
}

// groKind says what a received frame is to coalescing.
type groKind uint8

const (
	groPass groKind = iota // not a TCP segment for this NIC: on at once
	groIP                  // IP that may carry TCP but cannot be looked into: flows between its addresses first
	groTCP                 // a TCP segment that is not held: its flow first
	groData                // a data segment that can be held
)

// groSeg is where a frame's parts are, for a groIP frame's addresses up to a groData
// frame's payload.
type groSeg struct {
	v6      bool
	tcp     int // the TCP header
	payload int // the payload
	end     int // the end of the IP packet (link padding follows)
}

// groParse classifies frame b, checking every length it reads.
func (n *NIC) groParse(b []byte) (g groSeg, k groKind) {
	if len(b) < ethLen {
		return g, groPass
	}
	// Held segments are sent to our address; one to a group address is taken too, so it
	// hands on its addresses' flows (below).
	dst := header.Ethernet(b).Dst()
	unicast := dst == n.ep.LinkAddr()
	if !unicast && !dst.IsMulticast() {
		return g, groPass
	}
	ip := b[ethLen:]
	switch header.Ethernet(b).Type() {
	case header.EtherTypeIPv4:
		if len(ip) < header.IPv4MinSize || ip[0]>>4 != 4 || header.IPv4(ip).Protocol() != header.TCPProtocolNumber {
			return g, groPass
		}
		h := header.IPv4(ip)
		tl := int(h.TotalLen())
		if h.HeaderLen() != header.IPv4MinSize || h.IsFragment() || tl < header.IPv4MinSize+header.TCPMinSize ||
			tl > len(ip) || header.Checksum(ip[:header.IPv4MinSize], 0) != 0xffff {
			return g, groIP
		}
		g.tcp, g.end = ethLen+header.IPv4MinSize, ethLen+tl
	case header.EtherTypeIPv6:
		if n.v6 == nil || len(ip) < header.IPv6MinSize || ip[0]>>4 != 6 {
			return g, groPass
		}
		g.v6 = true
		h := header.IPv6(ip)
		switch h.NextHeader() {
		case header.TCPProtocolNumber:
		case header.UDPProtocolNumber, header.ICMPv6ProtocolNumber, header.IPv6NoNextHeader:
			return g, groPass
		default: // an extension header, perhaps followed by TCP
			return g, groIP
		}
		pl := int(h.PayloadLen())
		if pl < header.TCPMinSize || header.IPv6MinSize+pl > len(ip) {
			return g, groIP
		}
		g.tcp, g.end = ethLen+header.IPv6MinSize, ethLen+header.IPv6MinSize+pl
	default:
		return g, groPass
	}
	if !unicast {
		return g, groIP
	}
	t := header.TCP(b[g.tcp:g.end])
	if !t.Valid() {
		return g, groTCP
	}
	g.payload = g.tcp + t.DataOffset()
	const data = header.TCPFlagACK | header.TCPFlagPSH | header.TCPFlagECE | header.TCPFlagCWR
	if f := t.Flags(); f&header.TCPFlagACK == 0 || f&^data != 0 || g.payload == g.end {
		return g, groTCP
	}
	return g, groData
}

// groReceive takes one frame of a batch: holds it, joins it to a held segment, or hands it
// on (after what it must not overtake). Called with s.mu held; owns p.
func (n *NIC) groReceive(p *buffer.Packet) {
	b := p.Bytes()
	g, k := n.groParse(b)
	switch k {
	case groPass:
		n.receive(p)
		return
	case groIP:
		n.groFlushAddrs(b, g.v6)
		n.receive(p)
		return
	case groTCP:
		if i := n.groFind(b, g); i >= 0 {
			n.groFlush(i)
		}
		n.receive(p)
		return
	}
	if !p.Offload.CsumValid && !groChecksumValid(b, g) { // TCP drops it (nothing to reorder)
		n.receive(p)
		return
	}
	p.Trim(g.end)
	p.Offload = buffer.Offload{CsumValid: true}
	if i := n.groFind(b, g); i >= 0 {
		if n.groJoin(i, p, g) {
			return
		}
		n.groFlush(i)
	}
	if b[g.tcp+13]&header.TCPFlagPSH != 0 { // nothing may join it
		n.receive(p)
		return
	}
	if n.gro.n == groMaxFlows {
		n.groFlush(0)
	}
	f := &n.gro.flows[n.gro.n]
	n.gro.n++
	*f = groFlow{p: p, v6: g.v6, tcp: g.tcp, mss: g.end - g.payload, ts: -1,
		next: binary.BigEndian.Uint32(b[g.tcp+4:]) + uint32(g.end-g.payload)}
	if o := tsvalOffset(b[g.tcp+header.TCPMinSize : g.payload]); o >= 0 {
		f.ts = g.tcp + header.TCPMinSize + o
		f.tsval = binary.BigEndian.Uint32(b[f.ts:])
	}
}

// groJoin appends p's payload to held flow i if p continues it (then it owns p).
func (n *NIC) groJoin(i int, p *buffer.Packet, g groSeg) bool {
	f := &n.gro.flows[i]
	h, b := f.p.Bytes(), p.Bytes()
	data := b[g.payload:g.end]
	if binary.BigEndian.Uint32(b[g.tcp+4:]) != f.next || len(data) > f.mss || len(h)+len(data) > groMaxFrame ||
		!f.sameHeaders(h, b, g) {
		return false
	}
	dst, ok := f.p.Grow(len(data))
	if !ok { // the first join: into a 64 KiB packet
		big := buffer.New(buffer.Headroom, groMaxFrame)
		big.Append(h)
		big.Offload = f.p.Offload
		f.p.Release()
		f.p = big
		dst, _ = big.Grow(len(data))
	}
	copy(dst, data)
	flags := b[g.tcp+13]
	f.p.Bytes()[f.tcp+13] |= flags & header.TCPFlagPSH
	f.next += uint32(len(data))
	if f.ts >= 0 {
		f.tsval = binary.BigEndian.Uint32(b[f.ts:])
	}
	p.Release()
	n.s.stats.Link.GROMerged.Inc()
	if flags&header.TCPFlagPSH != 0 || len(data) < f.mss {
		n.groFlush(i)
	}
	return true
}

// sameHeaders reports whether frame b of the flow's addresses and ports has the headers to
// join held frame h (the sequence number and lengths aside).
func (f *groFlow) sameHeaders(h, b []byte, g groSeg) bool {
	if !bytes.Equal(h[:ethLen], b[:ethLen]) {
		return false
	}
	if f.v6 {
		// Version, traffic class and flow label; hop limit.
		if !bytes.Equal(h[ethLen:ethLen+4], b[ethLen:ethLen+4]) || h[ethLen+7] != b[ethLen+7] {
			return false
		}
	} else if h[ethLen+1] != b[ethLen+1] || h[ethLen+6] != b[ethLen+6] || h[ethLen+8] != b[ethLen+8] { // TOS; DF (no fragments); TTL
		return false
	}
	ht, bt := h[f.tcp:], b[g.tcp:]
	// ACK number, data offset (before the options are compared), window; flags but CWR
	// (first only) and PSH (last only).
	hf, bf := ht[13], bt[13]
	if !bytes.Equal(ht[8:13], bt[8:13]) || !bytes.Equal(ht[14:16], bt[14:16]) || bf&header.TCPFlagCWR != 0 ||
		(hf^bf)&^(header.TCPFlagCWR|header.TCPFlagPSH) != 0 {
		return false
	}
	ho, bo := h[f.tcp+header.TCPMinSize:f.tcp+g.payload-g.tcp], b[g.tcp+header.TCPMinSize:g.payload]
	if f.ts < 0 {
		return bytes.Equal(ho, bo)
	}
	t := f.ts - f.tcp - header.TCPMinSize
	return bytes.Equal(ho[:t], bo[:t]) && bytes.Equal(ho[t+4:], bo[t+4:]) &&
		int32(binary.BigEndian.Uint32(bo[t:])-f.tsval) >= 0
}

// tsvalOffset returns where the timestamp option's TSval is in TCP options o, or -1.
func tsvalOffset(o []byte) int {
	for i := 0; i < len(o); {
		switch o[i] {
		case header.TCPOptEnd:
			return -1
		case header.TCPOptNOP:
			i++
			continue
		}
		if i+1 >= len(o) || o[i+1] < 2 || i+int(o[i+1]) > len(o) {
			return -1
		}
		if o[i] == header.TCPOptTimestamps && o[i+1] == 10 {
			return i + 2
		}
		i += int(o[i+1])
	}
	return -1
}

// groChecksumValid verifies a groData frame's TCP checksum.
func groChecksumValid(b []byte, g groSeg) bool {
	var src, dst netip.Addr
	if g.v6 {
		src, dst = netip.AddrFrom16([16]byte(b[ethLen+8:ethLen+24])), netip.AddrFrom16([16]byte(b[ethLen+24:ethLen+40]))
	} else {
		src, dst = netip.AddrFrom4([4]byte(b[ethLen+12:ethLen+16])), netip.AddrFrom4([4]byte(b[ethLen+16:ethLen+20]))
	}
	return header.TCP(b[g.tcp:g.end]).ChecksumValid(src, dst)
}

// addrs returns an IP frame's source and destination address bytes (its header checked).
func groAddrs(b []byte, v6 bool) []byte {
	if v6 {
		return b[ethLen+8 : ethLen+40]
	}
	return b[ethLen+12 : ethLen+20]
}

// groFind returns the index of the flow held for TCP frame b, or -1.
func (n *NIC) groFind(b []byte, g groSeg) int {
	for i := range n.gro.n {
		f := &n.gro.flows[i]
		h := f.p.Bytes()
		if f.v6 == g.v6 && bytes.Equal(groAddrs(h, f.v6), groAddrs(b, g.v6)) && bytes.Equal(h[f.tcp:f.tcp+4], b[g.tcp:g.tcp+4]) {
			return i
		}
	}
	return -1
}

// groFlushAddrs hands on the flows between IP frame b's addresses.
func (n *NIC) groFlushAddrs(b []byte, v6 bool) {
	for i := 0; i < n.gro.n; {
		f := &n.gro.flows[i]
		if f.v6 == v6 && bytes.Equal(groAddrs(f.p.Bytes(), v6), groAddrs(b, v6)) {
			n.groFlush(i)
			continue
		}
		i++
	}
}

// groFlushAll hands on every held flow, oldest first: the end of a batch.
func (n *NIC) groFlushAll() {
	for n.gro.n > 0 {
		n.groFlush(0)
	}
}

// groFlush hands on flow i's segment with its IP length (and IPv4 header checksum) made to
// cover what joined it.
func (n *NIC) groFlush(i int) {
	t := &n.gro
	f := t.flows[i]
	copy(t.flows[i:t.n], t.flows[i+1:t.n])
	t.n--
	t.flows[t.n] = groFlow{}
	ip := f.p.Bytes()[ethLen:]
	if f.v6 {
		header.IPv6(ip).SetPayloadLen(uint16(len(ip) - header.IPv6MinSize))
	} else if int(header.IPv4(ip).TotalLen()) != len(ip) {
		header.IPv4(ip).SetTotalLen(uint16(len(ip)))
		header.IPv4(ip).SetChecksum()
	}
	n.s.stats.Link.GROFlushed.Inc()
	n.receive(f.p)
}
