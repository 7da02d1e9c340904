package stack

import (
	"goxen/netstack/buffer"
	"goxen/netstack/header"
)

// ICMPv6 (RFC 4443): echo, errors about what we sent (passed to the transports), errors about
// what we received (rate-limited with ICMP's bucket), and neighbour discovery (ndp.go).

// icmp6ErrorMax bounds an error's quote so the error fits in the IPv6 minimum MTU (RFC 4443 2.4 c).
const icmp6ErrorMax = header.IPv6MinMTU - header.IPv6MinSize - header.ICMPv6MinSize

// handleICMPv6 handles one ICMPv6 message; p starts at it. Called with s.mu held; owns p.
func (s *Stack) handleICMPv6(n *NIC, info PacketInfo, p *buffer.Packet) {
	defer p.Release()
	st := &s.stats.ICMPv6
	st.InMsgs.Inc()
	m := header.ICMPv6(p.Bytes())
	if !m.Valid() {
		st.InErrors.Inc()
		return
	}
	if !m.ChecksumValid(info.Src, info.Dst) {
		st.InCsumErrors.Inc()
		st.InErrors.Inc()
		return
	}
	switch m.Type() {
	case header.ICMPv6EchoRequest:
		st.InEchos.Inc()
		src := info.Dst
		if src.IsMulticast() { // answered from our address, as Linux does for ping ff02::1
			if src = n.src6(info.Src); !src.IsValid() {
				return
			}
		}
		q := buffer.New(buffer.Headroom, p.Len())
		r := header.ICMPv6(q.Extend(p.Len()))
		copy(r, m)
		r.SetTypeCode(header.ICMPv6EchoReply, 0)
		r.SetChecksum(src, info.Src)
		st.OutMsgs.Inc()
		st.OutEchoReplies.Inc()
		s.writeIPv6Locked(PacketInfo{NIC: n.id, Src: src, Dst: info.Src, Protocol: header.ICMPv6ProtocolNumber, TOS: info.TOS}, q)
	case header.ICMPv6EchoReply:
		st.InEchoReplies.Inc()
		s.echoReply(m.Ident(), m.Payload())
	case header.ICMPv6DstUnreachable:
		st.InDestUnreachs.Inc()
		s.deliverICMPv6Error(m)
	case header.ICMPv6PacketTooBig:
		st.InPktTooBigs.Inc()
	case header.ICMPv6TimeExceeded:
		st.InTimeExcds.Inc()
		s.deliverICMPv6Error(m)
	case header.ICMPv6ParamProblem:
		st.InParmProblems.Inc()
	case mldQuery:
		st.InMLDQueries.Inc()
		n.handleMLDQuery(info, m)
	case header.ICMPv6RouterSolicit, header.ICMPv6RouterAdvert, header.ICMPv6NeighborSolicit,
		header.ICMPv6NeighborAdvert, header.ICMPv6Redirect:
		n.handleNDP(info, m)
	default:
		st.InOther.Inc()
	}
}

// deliverICMPv6Error passes an error about a datagram we sent to its transport, in ICMPv4's
// terms (RFC 7915 5.2's mapping): port unreachable as port unreachable, the other
// destination-unreachable codes as host unreachable, time exceeded as time exceeded. Only a
// quote whose transport header follows the fixed header directly is matched.
func (s *Stack) deliverICMPv6Error(m header.ICMPv6) {
	q := header.IPv6(m.Payload())
	if len(q) < header.IPv6MinSize+8 || q[0]>>4 != 6 {
		s.stats.ICMPv6.InErrors.Inc()
		return
	}
	e := ICMPError{Type: header.ICMPv4TimeExceeded, Src: q.Src(), Dst: q.Dst(), Transport: q[header.IPv6MinSize : header.IPv6MinSize+8]}
	if m.Type() == header.ICMPv6DstUnreachable {
		e.Type, e.Code = header.ICMPv4DstUnreachable, header.ICMPv4HostUnreachable
		if m.Code() == header.ICMPv6PortUnreachable {
			e.Code = header.ICMPv4PortUnreachable
		}
	}
	if h, ok := s.transports[q.NextHeader()].(ErrorHandler); ok {
		h.HandleError(e)
	}
}

// icmp6Error sends an ICMPv6 error of type typ and code with the 32-bit word (pointer, MTU)
// about a received packet, orig being that packet from its IPv6 header on. Per RFC 4443 2.4
// (e) no error is sent about an ICMPv6 error or redirect, about a packet to a multicast
// address (except a parameter problem about an option that asks for one), or from a source
// that is not a unicast address; errors are rate-limited (2.4 f) with ICMP's bucket.
func (s *Stack) icmp6Error(n *NIC, info PacketInfo, typ, code uint8, word uint32, orig []byte) {
	if !info.Src.IsValid() || info.Src.IsUnspecified() || info.Src.IsMulticast() || n.v6 == nil {
		return
	}
	if info.Dst.IsMulticast() && !(typ == header.ICMPv6ParamProblem && code == header.ICMPv6UnknownOption) {
		return
	}
	if h := header.IPv6(orig); len(orig) >= header.IPv6MinSize+header.ICMPv6MinSize &&
		h.NextHeader() == header.ICMPv6ProtocolNumber {
		if t := orig[header.IPv6MinSize]; t < 128 || t == header.ICMPv6Redirect {
			return
		}
	}
	src := info.Dst
	if src.IsMulticast() || !n.hasAddr(src) {
		if src = n.src6(info.Src); !src.IsValid() {
			return
		}
	}
	if !s.icmpAllow() {
		s.stats.ICMPv6.OutRateLimited.Inc()
		return
	}
	body := orig[:min(len(orig), icmp6ErrorMax)]
	size := header.ICMPv6MinSize + len(body)
	q := buffer.New(buffer.Headroom, size)
	b := header.ICMPv6(q.Extend(size))
	copy(b[header.ICMPv6MinSize:], body)
	b.SetTypeCode(typ, code)
	b.SetWord(word)
	b.SetChecksum(src, info.Src)
	st := &s.stats.ICMPv6
	st.OutMsgs.Inc()
	switch typ {
	case header.ICMPv6DstUnreachable:
		st.OutDestUnreachs.Inc()
	case header.ICMPv6ParamProblem:
		st.OutParmProblems.Inc()
	case header.ICMPv6TimeExceeded:
		st.OutTimeExcds.Inc()
	}
	s.writeIPv6Locked(PacketInfo{NIC: n.id, Src: src, Dst: info.Src, Protocol: header.ICMPv6ProtocolNumber}, q)
}
