package stack

import (
	"net/netip"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
)

// handleIPv4 validates an incoming IPv4 packet, reassembles fragments and dispatches the
// payload. Called with s.mu held; owns p.
func (s *Stack) handleIPv4(n *NIC, p *buffer.Packet) {
	s.stats.IP.InReceives.Inc()
	h := header.IPv4(p.Bytes())
	switch h.Validate() {
	case header.IPv4OK:
	case header.IPv4BadChecksum:
		s.stats.IP.InChecksumErrors.Inc()
		s.stats.IP.InHdrErrors.Inc()
		p.Release()
		return
	case header.IPv4TooShort, header.IPv4BadTotalLen:
		s.stats.IP.InTruncated.Inc()
		s.stats.IP.InHdrErrors.Inc()
		p.Release()
		return
	case header.IPv4BadOptions:
		s.stats.IP.InBadOptions.Inc()
		s.stats.IP.InHdrErrors.Inc()
		p.Release()
		return
	default:
		s.stats.IP.InHdrErrors.Inc()
		p.Release()
		return
	}
	p.Trim(int(h.TotalLen()))
	src, dst := h.Src(), h.Dst()
	bcast := n.isBroadcast(dst)
	forUs := n.hasAddr(dst) || (n.loopback && (n.inSubnet(dst) || s.isLocalLocked(dst)))
	if src.IsMulticast() || n.isBroadcast(src) || (!forUs && !bcast && len(n.addrs) > 0) || dst.IsMulticast() {
		s.stats.IP.InAddrErrors.Inc()
		p.Release()
		return
	}
	if h.IsFragment() {
		s.stats.IP.ReasmReqds.Inc()
		if p = s.reasm.add(n, p); p == nil {
			return
		}
		h = header.IPv4(p.Bytes())
	}
	info := PacketInfo{NIC: n.id, Src: src, Dst: dst, Protocol: h.Protocol(), TTL: h.TTL(), TOS: h.TOS(), Broadcast: bcast}
	// The header stays in p's array in front of the payload (nothing pushes onto a received
	// packet): an ICMP error quotes it from there.
	ipHdr := p.Bytes()[:h.HeaderLen()]
	p.Consume(h.HeaderLen())
	if info.Protocol == header.ICMPv4ProtocolNumber {
		s.stats.IP.InDelivers.Inc()
		s.handleICMP(n, info, p)
		return
	}
	t := s.transports[info.Protocol]
	if t == nil {
		s.stats.IP.InUnknownProtos.Inc()
		s.icmpError(n, info, header.ICMPv4DstUnreachable, header.ICMPv4ProtoUnreachable, ipHdr, p)
		return
	}
	s.stats.IP.InDelivers.Inc()
	if !t.HandlePacket(info, p) {
		s.icmpError(n, info, header.ICMPv4DstUnreachable, header.ICMPv4PortUnreachable, ipHdr, p)
	}
}

// WriteIPv4 sends p (a transport header and payload with buffer.Headroom in front) to
// info.Dst. Fields left zero in info are filled from FindRoute. The stack owns p afterwards.
func (s *Stack) WriteIPv4(info PacketInfo, p *buffer.Packet) error {
	s.mu.Lock()
	defer s.unlock()
	return s.writeIPv4Locked(info, p)
}

func (s *Stack) writeIPv4Locked(info PacketInfo, p *buffer.Packet) error {
	s.stats.IP.OutRequests.Inc()
	var r PacketInfo
	n := s.loopbackForLocked(info.Dst)
	if n != nil { // to ourselves: through the loopback NIC, in order, with no ARP
		r = PacketInfo{NIC: n.id, Src: info.Dst, Dst: info.Dst, NextHop: info.Dst}
		if n.inSubnet(info.Dst) {
			r.Src = n.primary()
		}
	} else {
		var err error
		if r, err = s.findRouteLocked(info.Dst, info.NIC); err != nil {
			s.stats.IP.OutNoRoutes.Inc()
			p.Release()
			return err
		}
		n = s.nics[r.NIC]
	}
	if !info.Src.IsValid() || (n.loopback && info.Src.IsUnspecified()) {
		info.Src = r.Src
	}
	if info.TTL == 0 {
		info.TTL = s.opts.DefaultTTL
	}
	s.ipID++
	f := header.IPv4Fields{TOS: info.TOS, ID: s.ipID, TTL: info.TTL, Protocol: info.Protocol, Src: info.Src, Dst: info.Dst}
	if info.DontFrag {
		f.Flags = header.IPv4FlagDF
	}
	if p.Offload.GSOType != buffer.GSONone && !n.takesGSO(header.IPv4MinSize+p.Len(), false) {
		// A segment larger than the MTU for a device that cannot cut it: cut it here.
		return s.softwareGSO(info, p, s.writeIPv4Locked)
	}
	if n.hasAddr(info.Dst) && !n.loopback { // to ourselves without a loopback NIC: asynchronously
		p.Offload.ReceivedLocally()
		f.TotalLen = uint16(header.IPv4MinSize + p.Len())
		if p.Len() > header.IPv4MaxTotalLen-header.IPv4MinSize {
			p.Release()
			return ErrMessageTooBig
		}
		header.IPv4(p.Push(header.IPv4MinSize)).Encode(&f)
		go func() {
			s.mu.Lock()
			defer s.unlock()
			s.handleIPv4(n, p)
		}()
		return nil
	}
	mtu := n.ep.MTU()
	send := func(q *buffer.Packet) {
		if n.loopback {
			s.writeFrame(n, n.ep.LinkAddr(), header.EtherTypeIPv4, q)
		} else if r.Broadcast || info.Broadcast {
			s.writeFrame(n, header.BroadcastLinkAddr, header.EtherTypeIPv4, q)
		} else {
			n.resolveAndSend(r.NextHop, q)
		}
	}
	n.completeChecksum(p)
	if header.IPv4MinSize+p.Len() <= mtu || p.Offload.GSOType != buffer.GSONone {
		f.TotalLen = uint16(header.IPv4MinSize + p.Len())
		header.IPv4(p.Push(header.IPv4MinSize)).Encode(&f)
		send(p)
		return nil
	}
	defer p.Release()
	if info.DontFrag || p.Len() > header.IPv4MaxTotalLen-header.IPv4MinSize {
		s.stats.IP.FragFails.Inc()
		return ErrMessageTooBig
	}
	// Fragment (RFC 791 3.2): every piece but the last carries a multiple of 8 bytes.
	chunk := (mtu - header.IPv4MinSize) &^ 7
	data := p.Bytes()
	for off := 0; off < len(data); off += chunk {
		end := min(off+chunk, len(data))
		q := buffer.New(buffer.Headroom, end-off)
		q.Append(data[off:end])
		g := f
		g.FragmentOffset = uint16(off)
		if end < len(data) {
			g.Flags |= header.IPv4FlagMF
		}
		g.TotalLen = uint16(header.IPv4MinSize + end - off)
		header.IPv4(q.Push(header.IPv4MinSize)).Encode(&g)
		s.stats.IP.FragCreates.Inc()
		send(q)
	}
	s.stats.IP.FragOKs.Inc()
	return nil
}

// LocalAddrs returns every configured address.
func (s *Stack) LocalAddrs() []netip.Prefix {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []netip.Prefix
	for _, n := range s.nics {
		out = append(out, n.addrs...)
	}
	return out
}

// IsLocal reports whether a is one of the stack's addresses.
func (s *Stack) IsLocal(a netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.isLocalLocked(a)
}

func (s *Stack) isLocalLocked(a netip.Addr) bool {
	for _, n := range s.nics {
		if n.hasAddr(a) {
			return true
		}
	}
	return false
}

// loopbackForLocked returns the loopback NIC (the one with the lowest ID) when dst is in one
// of its subnets or is any of the stack's own addresses, and nil otherwise.
func (s *Stack) loopbackForLocked(dst netip.Addr) *NIC {
	var lo *NIC
	for _, n := range s.nics {
		if n.loopback && (lo == nil || n.id < lo.id) {
			lo = n
		}
	}
	if lo == nil || !(lo.inSubnet(dst) || s.isLocalLocked(dst)) {
		return nil
	}
	return lo
}
