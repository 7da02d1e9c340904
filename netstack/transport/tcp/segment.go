package tcp

import (
	"net/netip"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
	"goxen/netstack/stack"
)

// segment is a received segment, validated and parsed.
type segment struct {
	h     header.TCP
	opts  header.TCPOptions
	data  []byte
	flags uint8
	seq   uint32
	ack   uint32
	wnd   uint16
	info  stack.PacketInfo
}

func (s *segment) has(f uint8) bool { return s.flags&f != 0 }

// seqLen is the sequence space the segment occupies (data, SYN and FIN).
func (s *segment) seqLen() uint32 {
	n := uint32(len(s.data))
	if s.has(header.TCPFlagSYN) {
		n++
	}
	if s.has(header.TCPFlagFIN) {
		n++
	}
	return n
}

// queue builds a segment from the given parts and queues it for sending. Called with mu
// held.
func (pr *Protocol) queue(info stack.PacketInfo, f *header.TCPFields, data []byte) {
	pr.queueSeg(info, f, data, nil, 0)
}

// minFrag is the least data sent from the send queue in place (buffer.Packet.SetFrag) when
// the device takes fragments: below it, copying costs less than the reference.
const minFrag = 1024

// queueSeg is queue for a segment whose data may be larger than one MSS, gsoMSS (0: it is
// not): the device, or the stack in software, cuts it into gsoMSS-byte segments
// (buffer.Offload). The checksum is left partial when the NIC completes it. Data that lies
// in a send queue's array comes with its block: for a device that takes fragments, the
// packet then points at it instead of holding a copy.
func (pr *Protocol) queueSeg(info stack.PacketInfo, f *header.TCPFields, data []byte, blk *block, gsoMSS int) {
	hl := header.TCPMinSize + len(f.Options)
	n := hl + len(data)
	gso := gsoMSS > 0 && len(data) > gsoMSS
	offl := pr.offl[info.NIC]
	partial := gso || len(data) > 0 && offl.TxCsum
	frag := blk != nil && offl.Frags && len(data) >= minFrag
	var p *buffer.Packet
	if frag {
		p = buffer.New(buffer.Headroom, hl)
	} else {
		p = buffer.New(buffer.Headroom, n)
	}
	t := header.TCP(p.Extend(hl)) // zeroed: Encode leaves reserved bits alone
	t.Encode(f)
	if frag {
		p.SetFrag(data, blk.ref())
	} else {
		p.Append(data)
	}
	if partial {
		t.SetPartialChecksumLen(info.Src, info.Dst, n)
		p.Offload = buffer.Offload{CsumPartial: true, L4Len: n, CsumOffset: header.TCPChecksumOffset, L4HdrLen: hl}
		if gso {
			p.Offload.GSOType, p.Offload.GSOSize = buffer.GSOTCPv4, uint16(gsoMSS)
			if ipHeaderLen(info.Dst) == header.IPv6MinSize {
				p.Offload.GSOType = buffer.GSOTCPv6
			}
		}
	} else if frag {
		t.SetChecksumPayload(info.Src, info.Dst, data)
	} else {
		header.TCP(p.Bytes()).SetChecksum(info.Src, info.Dst) // the header and data
	}
	info.Protocol = header.TCPProtocolNumber
	pr.outq = append(pr.outq, outSeg{info, p})
	pr.stats.OutSegs++
	if f.Flags&header.TCPFlagRST != 0 {
		pr.stats.OutRsts++
	}
}

// replyRST answers a segment for which no connection exists (RFC 9293 3.10.7.1): a RST is
// never answered; otherwise <SEQ=SEG.ACK><CTL=RST> if it had an ACK, else
// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
func (pr *Protocol) replyRST(s *segment) {
	if s.has(header.TCPFlagRST) {
		return
	}
	f := header.TCPFields{SrcPort: s.h.DstPort(), DstPort: s.h.SrcPort()}
	if s.has(header.TCPFlagACK) {
		f.Seq, f.Flags = s.ack, header.TCPFlagRST
	} else {
		f.Ack, f.Flags = s.seq+s.seqLen(), header.TCPFlagRST|header.TCPFlagACK
	}
	pr.queue(stack.PacketInfo{NIC: s.info.NIC, Src: s.info.Dst, Dst: s.info.Src}, &f, nil)
}

// send queues a segment of e's connection with sequence number seq, the given flags and
// data; every segment but the first SYN carries an ACK of rcvNxt and the current window.
func (e *Endpoint) send(seq uint32, flags uint8, data []byte) { e.sendFrom(seq, flags, data, nil) }

// sendQueued is send for n bytes of the send queue from off, which the segment may send in
// place (queueSeg).
func (e *Endpoint) sendQueued(seq uint32, flags uint8, off, n int) {
	e.sendFrom(seq, flags, e.sndBuf.Slice(off, n), e.sndBuf.Block())
}

// sendFrom is send for data that lies in blk (nil: anywhere).
func (e *Endpoint) sendFrom(seq uint32, flags uint8, data []byte, blk *block) {
	f := header.TCPFields{SrcPort: e.local.Port(), DstPort: e.remote.Port(), Seq: seq, Flags: flags}
	var opts [header.TCPMaxOptions]byte // the options are copied into the packet: no allocation
	if e.state != SynSent {
		f.Flags |= header.TCPFlagACK
		f.Ack = e.rcvNxt
	}
	win := e.rcvWindow()
	if flags&header.TCPFlagSYN != 0 {
		// Windows in SYNs are never scaled (RFC 7323 2.2).
		f.Window = uint16(min(win, 65535))
		if e.state != SynSent {
			e.rcvAdv = e.rcvNxt + uint32(f.Window)
		}
		o := header.TCPOptions{MSS: uint16(e.ourMSS()), WindowScale: int8(e.rcvScale)}
		if e.state == SynRcvd && !e.wsOK {
			o.WindowScale = -1
		}
		// SACK-permitted and timestamps: offered on our SYN unless turned off, echoed on a
		// SYN-ACK only when the peer's SYN offered them (RFC 2018 2, RFC 7323 3.2).
		if e.state == SynSent {
			o.SACKPermitted, o.TS = !e.pr.opts.NoSACK, !e.pr.opts.NoTimestamps
		} else {
			o.SACKPermitted, o.TS = e.sackOK, e.tsOK
		}
		if o.TS {
			o.TSVal = e.tsNow()
			if e.state != SynSent {
				o.TSEcr = e.tsRecent
			}
		}
		f.Options = header.AppendTCPOptions(opts[:0], &o)
	} else {
		w := min(win>>e.rcvScale, 65535)
		// Never shrink the window already offered (RFC 9293 3.8.6.2.2).
		if edge := e.rcvNxt + uint32(w<<e.rcvScale); seqLT(edge, e.rcvAdv) && e.rcvAdv-e.rcvNxt <= 65535<<e.rcvScale {
			w = int((e.rcvAdv - e.rcvNxt) >> e.rcvScale)
		}
		f.Window = uint16(w)
		e.rcvAdv = e.rcvNxt + uint32(w<<e.rcvScale)
		var o header.TCPOptions
		o.WindowScale = -1
		if e.tsOK {
			o.TS, o.TSVal, o.TSEcr = true, e.tsNow(), e.tsRecent
		}
		if e.sackOK && (len(e.sackList) > 0 || e.dsackOn) {
			// As many blocks as fit beside the data in the peer's MSS (the MSS less the
			// options we always send being e.mss).
			if o.SACK = e.ackBlocks((e.mss - len(data) - 4) / 8); len(o.SACK) > 0 {
				e.pr.stats.SACKBlocksSent++
			}
		}
		if o.TS || len(o.SACK) > 0 {
			f.Options = header.AppendTCPOptions(opts[:0], &o)
		}
	}
	if f.Flags&header.TCPFlagACK != 0 {
		e.ackPending = 0
		e.lastAckSent = f.Ack
		e.cancelDelack()
	}
	gso := 0
	if len(data) > e.mss {
		gso = e.mss
	}
	if n := len(data) + int(flags&header.TCPFlagFIN); n > 0 && flags&header.TCPFlagSYN == 0 && e.rackOn() {
		e.rackSent(seq, n, monoNow())
	}
	e.pr.queueSeg(e.route, &f, data, blk, gso)
}

// segLimit is the most data one segment may carry: the MSS, or, when the route's device cuts
// segments itself (GSO), as many whole MSS as fit in its largest packet.
func (e *Endpoint) segLimit() int {
	o := e.pr.offl[e.route.NIC]
	ip := ipHeaderLen(e.route.Dst)
	if v6 := ip == header.IPv6MinSize; o.GSOMaxSize == 0 || v6 && !o.GSOv6 || !v6 && !o.GSOv4 {
		return e.mss
	}
	k := (o.GSOMaxSize - ip - header.TCPMinSize - header.TCPMaxOptions) / e.mss
	return max(1, k) * e.mss
}

// sendACK sends a bare ACK. Its sequence number is the highest sent (SND.MAX), not SND.NXT,
// which go-back-N after a timeout moves back: the peer may already hold everything up to
// SND.MAX and would find an ACK below it outside its window, drop it and answer with an
// ACK of its own, which we in turn would drop.
func (e *Endpoint) sendACK() { e.send(e.sndMax, 0, nil) }

// ourMSS is the MSS we announce: the route's MTU less the IP and TCP headers.
func (e *Endpoint) ourMSS() int {
	mtu := e.pr.mtus[e.route.NIC]
	if mtu == 0 {
		mtu = 1500
	}
	return mtu - ipHeaderLen(e.route.Dst) - header.TCPMinSize
}

// ipHeaderLen is the IP header's length towards a: IPv6's fixed header or IPv4's.
func ipHeaderLen(a netip.Addr) int {
	if a.Is6() && !a.Is4In6() {
		return header.IPv6MinSize
	}
	return header.IPv4MinSize
}

// learnMTUs records the NICs' MTUs for ourMSS and their offloads for segLimit and queueSeg. Called without mu (the stack's mutex may
// not be taken under it: the stack holds its own while calling HandlePacket, which takes mu).
func (pr *Protocol) learnMTUs() {
	nics := pr.s.NICs()
	pr.mu.Lock()
	for _, n := range nics {
		pr.mtus[n.ID] = n.MTU
		pr.offl[n.ID] = n.Offloads
	}
	pr.mu.Unlock()
}
