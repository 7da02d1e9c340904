package stack

import (
	"net/netip"
	"time"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
)

// Fragment reassembly (RFC 791 3.2, RFC 815; IPv6: RFC 8200 4.5). A datagram's fragments are copied into one
// growing buffer; the received byte ranges are kept sorted. Limits keep a hostile peer from
// exhausting memory: a per-datagram timeout, a cap on datagrams in progress, on bytes held in
// all of them and on fragments per datagram. Overlapping fragments drop the whole datagram
// (as Linux does since 4.19 and RFC 5722 requires for IPv6) except exact duplicates, which
// are ignored.

type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8 // IPv4's protocol; 0 for IPv6, whose key is addresses and ID (RFC 8200 4.5)
}

type span struct{ off, end int }

type fragDatagram struct {
	key   fragKey
	nic   *NIC
	data  []byte
	spans []span
	total int    // payload length once the last fragment is seen, else -1
	hdr   []byte // the first fragment's header (IPv6: the fixed header, Next Header the fragment's)
	v6    bool
	frags int
	timer *time.Timer
}

type reassembler struct {
	s     *Stack
	dgs   map[fragKey]*fragDatagram
	bytes int
}

func (r *reassembler) init(s *Stack) {
	r.s = s
	r.dgs = make(map[fragKey]*fragDatagram)
}

func (r *reassembler) flush() {
	for _, d := range r.dgs {
		r.drop(d)
	}
}

func (r *reassembler) drop(d *fragDatagram) {
	if d.timer != nil {
		d.timer.Stop()
	}
	r.bytes -= cap(d.data)
	r.s.budget.Release(cap(d.data))
	delete(r.dgs, d.key)
}

func (r *reassembler) fail(d *fragDatagram) {
	r.s.stats.IP.ReasmFails.Inc()
	r.drop(d)
}

// add takes one IPv4 fragment (p holds the whole IPv4 packet, validated) and returns the
// reassembled packet when it is complete, else nil. It owns p.
func (r *reassembler) add(n *NIC, p *buffer.Packet) *buffer.Packet {
	defer p.Release()
	h := header.IPv4(p.Bytes())
	key := fragKey{h.Src(), h.Dst(), uint32(h.ID()), h.Protocol()}
	var hdr []byte
	if h.FragmentOffset() == 0 {
		hdr = h[:h.HeaderLen()]
	}
	d := r.collect(n, key, int(h.FragmentOffset()), h.More(), h.Payload(), hdr, false)
	if d == nil {
		return nil
	}
	s := r.s
	if len(d.hdr)+d.total > header.IPv4MaxTotalLen {
		s.stats.IP.ReasmFails.Inc()
		return nil
	}
	out := buffer.New(buffer.Headroom, len(d.hdr)+d.total)
	out.Append(d.hdr)
	out.Append(d.data[:d.total])
	oh := header.IPv4(out.Bytes())
	oh.SetTotalLen(uint16(len(d.hdr) + d.total))
	oh[6], oh[7] = oh[6]&0x40, 0 // keep DF, clear MF and the offset
	oh.SetChecksum()
	s.stats.IP.ReasmOKs.Inc()
	return out
}

// add6 takes one IPv6 fragment: fixed is the packet's fixed header, fh its fragment header
// and payload the fragmentable part after it. It returns the reassembled packet (the fixed
// header, Next Header taken from the first fragment's fragment header, then the data) when
// complete, else nil. The headers before the fragment header were processed with each
// fragment and are not kept.
func (r *reassembler) add6(n *NIC, fixed header.IPv6, fh header.IPv6FragmentHeader, payload []byte) *buffer.Packet {
	key := fragKey{src: fixed.Src(), dst: fixed.Dst(), id: fh.ID()}
	var hdr []byte
	if fh.Offset() == 0 {
		hdr = append([]byte(nil), fixed[:header.IPv6MinSize]...)
		header.IPv6(hdr).SetNextHeader(fh.NextHeader())
	}
	d := r.collect(n, key, fh.Offset(), fh.More(), payload, hdr, true)
	if d == nil {
		return nil
	}
	s := r.s
	if d.total > header.IPv6MaxPayloadLen {
		s.stats.IP.ReasmFails.Inc()
		return nil
	}
	out := buffer.New(buffer.Headroom, len(d.hdr)+d.total)
	out.Append(d.hdr)
	out.Append(d.data[:d.total])
	header.IPv6(out.Bytes()).SetPayloadLen(uint16(d.total))
	s.stats.IPv6.ReasmOKs.Inc()
	return out
}

// collect adds the fragment [off, off+len(payload)) of the datagram key to its buffer
// (creating it within the limits) and returns the datagram, no longer tracked, once it is
// complete; else nil. hdr is the header to keep, from the fragment at offset 0.
func (r *reassembler) collect(n *NIC, key fragKey, off int, more bool, payload, hdr []byte, v6 bool) *fragDatagram {
	s := r.s
	end := off + len(payload)
	d := r.dgs[key]
	if (more && len(payload)%8 != 0) || len(payload) == 0 {
		s.stats.IP.InHdrErrors.Inc()
		if d != nil {
			r.fail(d)
		} else {
			s.stats.IP.ReasmFails.Inc()
		}
		return nil
	}
	if d == nil {
		if len(r.dgs) >= s.opts.ReasmMaxDatagrams {
			s.stats.IP.ReasmLimitDrops.Inc()
			s.stats.IP.ReasmFails.Inc()
			return nil
		}
		d = &fragDatagram{key: key, nic: n, total: -1, v6: v6}
		r.dgs[key] = d
		d.timer = time.AfterFunc(s.opts.ReasmTimeout, func() { r.timeout(d) })
	}
	d.frags++
	if d.frags > s.opts.ReasmMaxFragments {
		s.stats.IP.ReasmLimitDrops.Inc()
		r.fail(d)
		return nil
	}
	if !more {
		if (d.total >= 0 && d.total != end) || (len(d.spans) > 0 && d.spans[len(d.spans)-1].end > end) {
			r.fail(d)
			return nil
		}
		d.total = end
	} else if d.total >= 0 && end > d.total {
		r.fail(d)
		return nil
	}
	// Find the insertion point and check for overlap.
	i := 0
	for i < len(d.spans) && d.spans[i].end <= off {
		i++
	}
	if i < len(d.spans) && d.spans[i].off < end {
		if d.spans[i].off == off && d.spans[i].end == end && string(d.data[off:end]) == string(payload) {
			return nil // exact duplicate
		}
		s.stats.IP.ReasmOverlaps.Inc()
		r.fail(d)
		return nil
	}
	if end > len(d.data) {
		if end > header.IPv4MaxTotalLen { // also IPv6's largest payload without jumbograms
			r.fail(d)
			return nil
		}
		grow := max(end, 2*len(d.data))
		grow = min(grow, header.IPv4MaxTotalLen)
		if r.bytes-cap(d.data)+grow > s.opts.ReasmMaxBytes || !s.budget.TryCharge(grow-cap(d.data)) {
			s.stats.IP.ReasmLimitDrops.Inc()
			r.fail(d)
			return nil
		}
		nd := make([]byte, end, grow)
		copy(nd, d.data)
		r.bytes += cap(nd) - cap(d.data) // charged to the stack's budget just above
		d.data = nd
	}
	copy(d.data[off:end], payload)
	d.spans = append(d.spans, span{})
	copy(d.spans[i+1:], d.spans[i:])
	d.spans[i] = span{off, end}
	if off == 0 {
		d.hdr = append([]byte(nil), hdr...)
	}
	// Complete when the ranges cover [0, total) without gaps.
	if d.total < 0 || d.hdr == nil {
		return nil
	}
	at := 0
	for _, sp := range d.spans {
		if sp.off != at {
			return nil
		}
		at = sp.end
	}
	if at != d.total {
		return nil
	}
	r.drop(d)
	return d
}

// timeout abandons a datagram; if its first fragment arrived, the sender gets ICMP time
// exceeded (code 1, RFC 792).
func (r *reassembler) timeout(d *fragDatagram) {
	s := r.s
	s.mu.Lock()
	defer s.unlock()
	if r.dgs[d.key] != d {
		return
	}
	s.stats.IP.ReasmTimeouts.Inc()
	r.fail(d)
	if d.hdr != nil && d.v6 {
		var first []byte
		if len(d.spans) > 0 && d.spans[0].off == 0 {
			first = d.data[:d.spans[0].end]
		}
		h := header.IPv6(d.hdr)
		info := PacketInfo{NIC: d.nic.id, Src: h.Src(), Dst: h.Dst(), Protocol: h.NextHeader()}
		s.icmp6Error(d.nic, info, header.ICMPv6TimeExceeded, header.ICMPv6ReassemblyTimeout, 0, append(d.hdr, first...))
	} else if d.hdr != nil {
		h := header.IPv4(d.hdr)
		info := PacketInfo{NIC: d.nic.id, Src: h.Src(), Dst: h.Dst(), Protocol: h.Protocol()}
		var first []byte
		if len(d.spans) > 0 && d.spans[0].off == 0 {
			first = d.data[:d.spans[0].end]
		}
		s.icmpError(d.nic, info, header.ICMPv4TimeExceeded, header.ICMPv4ReassemblyTimeout, d.hdr, buffer.FromBytes(first))
	}
}
