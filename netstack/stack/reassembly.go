package stack

import (
	"time"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
)

// Fragment reassembly (RFC 791 3.2, RFC 815). A datagram's fragments are copied into one
// growing buffer; the received byte ranges are kept sorted. Limits keep a hostile peer from
// exhausting memory: a per-datagram timeout, a cap on datagrams in progress, on bytes held in
// all of them and on fragments per datagram. Overlapping fragments drop the whole datagram
// (as Linux does since 4.19 and RFC 5722 requires for IPv6) except exact duplicates, which
// are ignored.

type fragKey struct {
	src, dst [4]byte
	id       uint16
	proto    uint8
}

type span struct{ off, end int }

type fragDatagram struct {
	key   fragKey
	nic   *NIC
	data  []byte
	spans []span
	total int // payload length once the last fragment is seen, else -1
	hdr   []byte
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

// add takes one fragment (p holds the whole IPv4 packet, validated) and returns the
// reassembled packet when it is complete, else nil. It owns p.
func (r *reassembler) add(n *NIC, p *buffer.Packet) *buffer.Packet {
	s := r.s
	defer p.Release()
	h := header.IPv4(p.Bytes())
	key := fragKey{h.SrcBytes(), h.DstBytes(), h.ID(), h.Protocol()}
	off := int(h.FragmentOffset())
	payload := h.Payload()
	end := off + len(payload)
	d := r.dgs[key]
	if (h.More() && len(payload)%8 != 0) || len(payload) == 0 {
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
		d = &fragDatagram{key: key, nic: n, total: -1}
		r.dgs[key] = d
		d.timer = time.AfterFunc(s.opts.ReasmTimeout, func() { r.timeout(d) })
	}
	d.frags++
	if d.frags > s.opts.ReasmMaxFragments {
		s.stats.IP.ReasmLimitDrops.Inc()
		r.fail(d)
		return nil
	}
	if !h.More() {
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
		d.hdr = append([]byte(nil), h[:h.HeaderLen()]...)
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
	if d.hdr != nil {
		h := header.IPv4(d.hdr)
		info := PacketInfo{NIC: d.nic.id, Src: h.Src(), Dst: h.Dst(), Protocol: h.Protocol()}
		var first []byte
		if len(d.spans) > 0 && d.spans[0].off == 0 {
			first = d.data[:d.spans[0].end]
		}
		s.icmpError(d.nic, info, header.ICMPv4TimeExceeded, header.ICMPv4ReassemblyTimeout, d.hdr, buffer.FromBytes(first))
	}
}
