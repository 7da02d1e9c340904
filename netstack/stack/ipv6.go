package stack

import (
	"net/netip"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
)

// IPv6 (RFC 8200) as a host: the fixed header, the extension headers a host must process
// (hop-by-hop and destination options, routing, fragment), reassembly, fragmentation of what
// it sends, and dispatch to ICMPv6 (icmpv6.go, ndp.go) and the transports. Packets to a
// multicast group are taken for the groups a host joins on its own: all-nodes (ff02::1) and
// the solicited-node group of each of its addresses.

// joined reports whether the NIC listens to multicast address a.
func (n *NIC) joined(a netip.Addr) bool {
	if a == header.IPv6AllNodes {
		return true
	}
	for _, x := range n.v6.addrs {
		if header.SolicitedNodeAddr(x.prefix.Addr()) == a {
			return true
		}
	}
	return false
}

// handleIPv6 validates an incoming IPv6 packet, walks its extension headers, reassembles
// fragments and dispatches the payload. Called with s.mu held; owns p.
func (s *Stack) handleIPv6(n *NIC, p *buffer.Packet) {
	st := &s.stats.IPv6
	st.InReceives.Inc()
	h := header.IPv6(p.Bytes())
	if !h.Valid() {
		st.InTruncated.Inc()
		st.InHdrErrors.Inc()
		p.Release()
		return
	}
	p.Trim(header.IPv6MinSize + int(h.PayloadLen()))
	src, dst := h.Src(), h.Dst()
	forUs := n.hasAddr(dst) || (dst.IsMulticast() && n.joined(dst)) ||
		(n.loopback && (n.inSubnet(dst) || s.isLocalLocked(dst)))
	if src.IsMulticast() || !forUs {
		st.InAddrErrors.Inc()
		p.Release()
		return
	}
	next, nextAt := h.NextHeader(), 6 // the Next Header value and where it sits
	off := header.IPv6MinSize
	for done := false; !done; {
		b := p.Bytes()
		switch next {
		case header.IPv6HopByHop, header.IPv6DestOptions:
			l := header.IPv6ExtLen(b[off:])
			if l == 0 || (next == header.IPv6HopByHop && off != header.IPv6MinSize) {
				st.InHdrErrors.Inc()
				s.icmp6Error(n, PacketInfo{NIC: n.id, Src: src, Dst: dst}, header.ICMPv6ParamProblem,
					header.ICMPv6UnknownNextHeader, uint32(nextAt), b)
				p.Release()
				return
			}
			if ptr, icmp, drop := header.IPv6OptionAction(b[off:off+l], dst.IsMulticast()); drop {
				st.InDiscards.Inc()
				if icmp {
					s.icmp6Error(n, PacketInfo{NIC: n.id, Src: src, Dst: dst}, header.ICMPv6ParamProblem,
						header.ICMPv6UnknownOption, uint32(off+ptr), b)
				}
				p.Release()
				return
			}
			next, nextAt, off = b[off], off, off+l
		case header.IPv6Routing:
			l := header.IPv6ExtLen(b[off:])
			if l == 0 {
				st.InHdrErrors.Inc()
				p.Release()
				return
			}
			if b[off+3] != 0 { // segments left: this host routes nothing (RFC 8200 4.4, RFC 5095)
				st.InHdrErrors.Inc()
				s.icmp6Error(n, PacketInfo{NIC: n.id, Src: src, Dst: dst}, header.ICMPv6ParamProblem,
					header.ICMPv6ErroneousHeader, uint32(off+2), b)
				p.Release()
				return
			}
			next, nextAt, off = b[off], off, off+l
		case header.IPv6Fragment:
			if len(b) < off+header.IPv6FragmentSize {
				st.InTruncated.Inc()
				st.InHdrErrors.Inc()
				p.Release()
				return
			}
			fh := header.IPv6FragmentHeader(b[off : off+header.IPv6FragmentSize])
			payload := b[off+header.IPv6FragmentSize:]
			if fh.Offset() == 0 && !fh.More() { // an atomic fragment (RFC 6946): no reassembly
				next, nextAt, off = fh.NextHeader(), off, off+header.IPv6FragmentSize
				continue
			}
			st.ReasmReqds.Inc()
			if fh.More() && len(payload)%8 != 0 { // RFC 8200 4.5: point at the payload length
				st.InHdrErrors.Inc()
				s.icmp6Error(n, PacketInfo{NIC: n.id, Src: src, Dst: dst}, header.ICMPv6ParamProblem,
					header.ICMPv6ErroneousHeader, 4, b)
				p.Release()
				return
			}
			q := s.reasm.add6(n, h, fh, payload)
			p.Release()
			if q == nil {
				return
			}
			p, h = q, header.IPv6(q.Bytes())
			next, nextAt, off = h.NextHeader(), 6, header.IPv6MinSize
		default:
			done = true
		}
	}
	info := PacketInfo{NIC: n.id, Src: src, Dst: dst, Protocol: next, TTL: h.HopLimit(), TOS: h.TrafficClass(),
		Broadcast: dst.IsMulticast()}
	if next == header.IPv6NoNextHeader {
		st.InDelivers.Inc()
		p.Release()
		return
	}
	if next == header.ICMPv6ProtocolNumber {
		st.InDelivers.Inc()
		p.Consume(off)
		s.handleICMPv6(n, info, p)
		return
	}
	t := s.transports[next]
	if t == nil {
		st.InUnknownProtos.Inc()
		s.icmp6Error(n, info, header.ICMPv6ParamProblem, header.ICMPv6UnknownNextHeader, uint32(nextAt), p.Bytes())
		p.Release()
		return
	}
	// What an ICMPv6 error quotes if no endpoint wants the packet (the transport owns p once
	// it takes it).
	// The headers stay in p's array in front of the payload (nothing pushes onto a received
	// packet), so the quote is the array from there.
	hdrs := p.Bytes()[:off]
	p.Consume(off)
	st.InDelivers.Inc()
	if !t.HandlePacket(info, p) {
		s.icmp6Error(n, info, header.ICMPv6DstUnreachable, header.ICMPv6PortUnreachable, 0, hdrs[:off+p.Len()])
		p.Release()
	}
}

// WriteIP sends p (a transport header and payload with buffer.Headroom in front) to
// info.Dst over IPv4 or IPv6 by the destination's family. The stack owns p afterwards.
func (s *Stack) WriteIP(info PacketInfo, p *buffer.Packet) error {
	s.mu.Lock()
	defer s.unlock()
	if info.Dst.Is6() && !info.Dst.Is4In6() {
		return s.writeIPv6Locked(info, p)
	}
	info.Dst = info.Dst.Unmap()
	info.Src = info.Src.Unmap()
	return s.writeIPv4Locked(info, p)
}

func (s *Stack) writeIPv6Locked(info PacketInfo, p *buffer.Packet) error {
	st := &s.stats.IPv6
	st.OutRequests.Inc()
	var r PacketInfo
	n := s.loopbackForLocked(info.Dst)
	if n != nil {
		r = PacketInfo{NIC: n.id, Src: info.Dst, Dst: info.Dst, NextHop: info.Dst}
	} else if m := s.nics[info.NIC]; m != nil && m.v6 != nil && info.Src.IsValid() &&
		(info.Dst.IsMulticast() || info.Dst.IsLinkLocalUnicast()) {
		// On-link with the source given: NDP's own messages, sent before (DAD) or without
		// a usable address of the NIC.
		n, r = m, PacketInfo{NIC: m.id, Src: info.Src, Dst: info.Dst, NextHop: info.Dst.WithZone("")}
	} else {
		var err error
		if r, err = s.findRouteLocked(info.Dst, info.NIC); err != nil {
			st.OutNoRoutes.Inc()
			p.Release()
			return err
		}
		n = s.nics[r.NIC]
	}
	if !info.Src.IsValid() || info.Src.IsUnspecified() && info.Protocol != header.ICMPv6ProtocolNumber {
		info.Src = r.Src
	}
	if info.TTL == 0 {
		info.TTL = s.opts.DefaultTTL
	}
	f := header.IPv6Fields{TrafficClass: info.TOS, NextHeader: info.Protocol, HopLimit: info.TTL, Src: info.Src, Dst: info.Dst}
	if p.Len() > header.IPv6MaxPayloadLen {
		p.Release()
		return ErrMessageTooBig
	}
	if p.Offload.GSOType != buffer.GSONone && !n.takesGSO(header.IPv6MinSize+p.Len(), true) {
		return s.softwareGSO(info, p, s.writeIPv6Locked)
	}
	if n.hasAddr(info.Dst) && !n.loopback { // to ourselves without a loopback NIC
		p.Offload.ReceivedLocally()
		f.PayloadLen = uint16(p.Len())
		header.IPv6(p.Push(header.IPv6MinSize)).Encode(&f)
		go func() {
			s.mu.Lock()
			defer s.unlock()
			s.handleIPv6(n, p)
		}()
		return nil
	}
	send := func(q *buffer.Packet) {
		switch {
		case n.loopback:
			s.writeFrame(n, n.ep.LinkAddr(), header.EtherTypeIPv6, q)
		case info.Dst.IsMulticast():
			s.writeFrame(n, header.MulticastLinkAddr(info.Dst), header.EtherTypeIPv6, q)
		default:
			n.resolveAndSend(r.NextHop, q)
		}
	}
	mtu := n.linkMTU6()
	n.completeChecksum(p)
	if header.IPv6MinSize+p.Len() <= mtu || p.Offload.GSOType != buffer.GSONone {
		f.PayloadLen = uint16(p.Len())
		header.IPv6(p.Push(header.IPv6MinSize)).Encode(&f)
		send(p)
		return nil
	}
	defer p.Release()
	if info.DontFrag {
		st.FragFails.Inc()
		return ErrMessageTooBig
	}
	// Fragment (RFC 8200 4.5): the whole transport packet is the fragmentable part; every
	// piece but the last carries a multiple of 8 bytes.
	s.ipID6++
	id := s.ipID6
	chunk := (mtu - header.IPv6MinSize - header.IPv6FragmentSize) &^ 7
	data := p.Bytes()
	for o := 0; o < len(data); o += chunk {
		end := min(o+chunk, len(data))
		q := buffer.New(buffer.Headroom, end-o)
		q.Append(data[o:end])
		header.IPv6FragmentHeader(q.Push(header.IPv6FragmentSize)).Encode(info.Protocol, o, end < len(data), id)
		g := f
		g.NextHeader = header.IPv6Fragment
		g.PayloadLen = uint16(q.Len())
		header.IPv6(q.Push(header.IPv6MinSize)).Encode(&g)
		st.FragCreates.Inc()
		send(q)
	}
	st.FragOKs.Inc()
	return nil
}

// findRoute6Locked is FindRoute for an IPv6 destination. A link-local or multicast
// destination goes out of nic, the NIC its zone names, or the first NIC with IPv6 on, from
// that NIC's link-local address; any other through the longest matching route from the
// NIC's best address for it (RFC 6724 in short: global scope, then the longest common prefix).
func (s *Stack) findRoute6Locked(dst netip.Addr, nic NICID) (PacketInfo, error) {
	if dst.IsLinkLocalUnicast() || dst.IsMulticast() {
		n := s.nics[nic]
		if n == nil && dst.Zone() != "" {
			for _, m := range s.nics {
				if m.name == dst.Zone() {
					n = m
				}
			}
		}
		if n == nil {
			for _, m := range s.nics {
				if m.v6 != nil && !m.loopback && (n == nil || m.id < n.id) {
					n = m
				}
			}
		}
		if n == nil || n.v6 == nil {
			return PacketInfo{}, ErrNoRoute
		}
		src := n.src6(dst)
		if !src.IsValid() {
			return PacketInfo{}, ErrNoAddress
		}
		return PacketInfo{NIC: n.id, Src: src, Dst: dst, NextHop: dst.WithZone("")}, nil
	}
	r, ok := s.longestMatchLocked(dst.WithZone(""), nic)
	if !ok {
		return PacketInfo{}, ErrNoRoute
	}
	n := s.nics[r.NIC]
	if n == nil || n.v6 == nil {
		return PacketInfo{}, ErrNoRoute
	}
	src := n.src6(dst)
	if !src.IsValid() {
		return PacketInfo{}, ErrNoAddress
	}
	hop := dst
	if r.Gateway.IsValid() {
		hop = r.Gateway
	}
	return PacketInfo{NIC: n.id, Src: src, Dst: dst, NextHop: hop}, nil
}

// src6 picks the source address for dst among the NIC's usable addresses: for a link-local
// or link-scope multicast destination its link-local address, else a global one, the one
// sharing the longest prefix with dst first. The zero Addr if none fits.
func (n *NIC) src6(dst netip.Addr) netip.Addr {
	linkScope := dst.IsLinkLocalUnicast() || dst.IsLinkLocalMulticast() || dst.IsInterfaceLocalMulticast()
	var best netip.Addr
	bestLen := -1
	for _, a := range n.v6.addrs {
		x := a.prefix.Addr()
		if a.tentative || x.IsLinkLocalUnicast() != linkScope && !n.loopback {
			continue
		}
		if l := commonPrefixLen(x, dst); l > bestLen {
			best, bestLen = x, l
		}
	}
	return best
}

func commonPrefixLen(a, b netip.Addr) int {
	x, y := a.As16(), b.As16()
	for i := range x {
		if d := x[i] ^ y[i]; d != 0 {
			n := i * 8
			for d&0x80 == 0 {
				n++
				d <<= 1
			}
			return n
		}
	}
	return 128
}

// linkMTU6 is the MTU for IPv6 on the NIC: the link's, or a smaller one a router advertised.
func (n *NIC) linkMTU6() int {
	mtu := n.ep.MTU()
	if n.v6 != nil && n.v6.mtu >= header.IPv6MinMTU && n.v6.mtu < mtu {
		mtu = n.v6.mtu
	}
	return mtu
}
