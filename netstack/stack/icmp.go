package stack

import (
	"time"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
)

// icmpErrorMax bounds an ICMP error's quoted datagram so the error fits in 576 bytes
// (RFC 1812 4.3.2.3).
const icmpErrorMax = 576 - header.IPv4MinSize - header.ICMPv4MinSize

// handleICMP answers echo requests and counts everything else. p starts at the ICMP header.
func (s *Stack) handleICMP(n *NIC, info PacketInfo, p *buffer.Packet) {
	defer p.Release()
	s.stats.ICMP.InMsgs.Inc()
	m := header.ICMPv4(p.Bytes())
	if !m.Valid() {
		s.stats.ICMP.InErrors.Inc()
		return
	}
	if !m.ChecksumValid() {
		s.stats.ICMP.InCsumErrors.Inc()
		s.stats.ICMP.InErrors.Inc()
		return
	}
	switch m.Type() {
	case header.ICMPv4Echo:
		s.stats.ICMP.InEchos.Inc()
		if info.Broadcast || len(n.addrs) == 0 { // like Linux's icmp_echo_ignore_broadcasts
			return
		}
		q := buffer.New(buffer.Headroom, p.Len())
		r := header.ICMPv4(q.Extend(p.Len()))
		copy(r, m)
		r.Encode(&header.ICMPv4Fields{Type: header.ICMPv4EchoReply, Ident: m.Ident(), Seq: m.Seq()})
		s.stats.ICMP.OutMsgs.Inc()
		s.stats.ICMP.OutEchoReps.Inc()
		s.writeIPv4Locked(PacketInfo{NIC: n.id, Src: info.Dst, Dst: info.Src, Protocol: header.ICMPv4ProtocolNumber, TOS: info.TOS}, q)
	case header.ICMPv4EchoReply:
		s.stats.ICMP.InEchoReps.Inc()
		s.echoReply(m.Ident(), m.Payload())
	case header.ICMPv4DstUnreachable:
		s.stats.ICMP.InDestUnreachs.Inc()
		s.deliverICMPError(m)
	case header.ICMPv4TimeExceeded:
		s.stats.ICMP.InTimeExcds.Inc()
		s.deliverICMPError(m)
	default:
		s.stats.ICMP.InOther.Inc()
	}
}

// deliverICMPError passes an error about a datagram we sent to its transport protocol.
func (s *Stack) deliverICMPError(m header.ICMPv4) {
	q := header.IPv4(m.Payload())
	if len(q) < header.IPv4MinSize || q[0]>>4 != 4 || q.HeaderLen() < header.IPv4MinSize || len(q) < q.HeaderLen()+8 {
		s.stats.ICMP.InErrors.Inc()
		return
	}
	if h, ok := s.transports[q.Protocol()].(ErrorHandler); ok {
		h.HandleError(ICMPError{Type: m.Type(), Code: m.Code(), Src: q.Src(), Dst: q.Dst(),
			Transport: q[q.HeaderLen() : q.HeaderLen()+8]})
	}
}

// icmpAllow takes a token from the ICMP error bucket.
func (s *Stack) icmpAllow() bool {
	now := time.Now()
	s.icmpTokens += now.Sub(s.icmpLast).Seconds() * float64(s.opts.ICMPErrorRate)
	s.icmpLast = now
	if max := float64(s.opts.ICMPErrorBurst); s.icmpTokens > max {
		s.icmpTokens = max
	}
	if s.icmpTokens < 1 {
		s.stats.ICMP.OutRateLimited.Inc()
		return false
	}
	s.icmpTokens--
	return true
}

// icmpError sends an ICMP error about a received datagram whose IP header was ipHdr and whose
// payload is p (owned; released here). Per RFC 1122 3.2.2 no error is sent about an ICMP
// error, a broadcast or multicast datagram, a non-initial fragment, or a source that is not
// a unicast host.
func (s *Stack) icmpError(n *NIC, info PacketInfo, typ, code uint8, ipHdr []byte, p *buffer.Packet) {
	defer p.Release()
	h := header.IPv4(ipHdr)
	if info.Broadcast || h.FragmentOffset() != 0 || !info.Src.IsValid() || info.Src.IsUnspecified() ||
		info.Src.IsMulticast() || n.isBroadcast(info.Src) || len(n.addrs) == 0 || !n.hasAddr(info.Dst) {
		return
	}
	if info.Protocol == header.ICMPv4ProtocolNumber {
		m := header.ICMPv4(p.Bytes())
		if !m.Valid() || (m.Type() != header.ICMPv4Echo && m.Type() != header.ICMPv4EchoReply) {
			return
		}
	}
	if !s.icmpAllow() {
		return
	}
	body := p.Bytes()[:min(p.Len(), icmpErrorMax-len(ipHdr))]
	size := header.ICMPv4MinSize + len(ipHdr) + len(body)
	q := buffer.New(buffer.Headroom, size)
	b := q.Extend(size)
	copy(b[header.ICMPv4MinSize:], ipHdr)
	copy(b[header.ICMPv4MinSize+len(ipHdr):], body)
	header.ICMPv4(b).Encode(&header.ICMPv4Fields{Type: typ, Code: code})
	s.stats.ICMP.OutMsgs.Inc()
	switch typ {
	case header.ICMPv4DstUnreachable:
		s.stats.ICMP.OutDestUnreachs.Inc()
	case header.ICMPv4TimeExceeded:
		s.stats.ICMP.OutTimeExcds.Inc()
	}
	s.writeIPv4Locked(PacketInfo{NIC: n.id, Src: info.Dst, Dst: info.Src, Protocol: header.ICMPv4ProtocolNumber}, q)
}
