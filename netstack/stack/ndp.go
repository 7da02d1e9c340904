package stack

import (
	"net/netip"
	"slices"
	"time"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
)

// Neighbour discovery (RFC 4861) and stateless address autoconfiguration (RFC 4862) for a
// host: the link-local address, duplicate address detection for every address, neighbour
// solicitations and advertisements (the neighbour entries share ARP's cache, arp.go), router
// solicitations, and from router advertisements the default routers, on-link prefixes, SLAAC
// addresses and the link MTU, each kept for its advertised lifetime.

// IPv6Config turns IPv6 on for a NIC (EnableIPv6).
type IPv6Config struct {
	// Autoconf solicits routers and takes default routes, on-link prefixes, addresses (SLAAC)
	// and the MTU from their advertisements. Without it advertisements are ignored.
	Autoconf bool
}

// NDP's protocol constants (RFC 4861 10, RFC 4862 5.1).
const (
	ndpMaxRtrSolicitations = 3
	ndpRtrSolicitInterval  = 4 * time.Second
	ndpHopLimit            = 255 // sent and required on every NDP message (RFC 4861 6.1, 7.1)
	infiniteLifetime       = 0xffffffff
	twoHours               = 2 * time.Hour

	// What router advertisements may make a NIC hold, so that a hostile node on the link
	// cannot exhaust memory with made-up routers and prefixes (RFC 4861 6.3.4 lets a host
	// limit its lists): beyond these, advertisements are counted (RxIgnored) and dropped.
	ndpMaxRouters   = 8
	ndpMaxPrefixes  = 16
	ndpMaxAutoAddrs = 16
)

// ipv6State is a NIC's IPv6 configuration.
type ipv6State struct {
	cfg      IPv6Config
	addrs    []*addr6
	mtu      int // from a router advertisement, 0 if none
	rsLeft   int
	rsTimer  *time.Timer
	routers  map[netip.Addr]*time.Timer   // default routers learned, with their expiry
	prefixes map[netip.Prefix]*time.Timer // on-link prefixes learned, with their expiry
}

// addr6 is one IPv6 address of a NIC.
type addr6 struct {
	prefix    netip.Prefix
	tentative bool // duplicate address detection is running: not used, not answered for
	auto      bool // formed by SLAAC
	dadLeft   int
	dadTimer  *time.Timer
	expire    *time.Timer // SLAAC's valid lifetime
	deadline  time.Time
}

// EnableIPv6 turns IPv6 on for NIC id: it forms the link-local address (fe80::/64 with the
// MAC's modified EUI-64; a loopback NIC gets ::1), checks it with duplicate address
// detection and, with cfg.Autoconf, then solicits routers. Enabling it again changes cfg.
func (s *Stack) EnableIPv6(id NICID, cfg IPv6Config) error {
	s.mu.Lock()
	defer s.unlock()
	n := s.nics[id]
	if n == nil {
		return ErrUnknownNIC
	}
	if n.v6 != nil {
		n.v6.cfg = cfg
		return nil
	}
	n.enableIPv6(cfg)
	return nil
}

func (n *NIC) enableIPv6(cfg IPv6Config) {
	n.v6 = &ipv6State{cfg: cfg, routers: map[netip.Addr]*time.Timer{}, prefixes: map[netip.Prefix]*time.Timer{}}
	if n.loopback {
		n.v6.addrs = append(n.v6.addrs, &addr6{prefix: netip.PrefixFrom(netip.IPv6Loopback(), 128)})
		n.s.addRouteLocked(Route{Dest: netip.PrefixFrom(netip.IPv6Loopback(), 128), NIC: n.id})
		return
	}
	n.addAddr6(netip.PrefixFrom(header.LinkLocalAddr(n.ep.LinkAddr()), 64), false, 0)
}

// addr6 returns the NIC's address a (tentative or not), or nil.
func (n *NIC) addr6(a netip.Addr) *addr6 {
	if n.v6 == nil {
		return nil
	}
	a = a.WithZone("")
	for _, x := range n.v6.addrs {
		if x.prefix.Addr() == a {
			return x
		}
	}
	return nil
}

// addAddr6 adds an address and starts duplicate address detection on it (RFC 4862 5.4). A
// SLAAC address (auto) lives for lifetime (0: forever).
func (n *NIC) addAddr6(p netip.Prefix, auto bool, lifetime time.Duration) {
	if n.addr6(p.Addr()) != nil {
		return
	}
	a := &addr6{prefix: p, auto: auto, tentative: true, dadLeft: max(n.s.opts.DADTransmits, 0)}
	n.v6.addrs = append(n.v6.addrs, a)
	n.mldChanged() // its solicited-node group, joined before the probes (RFC 4862 5.4.2)
	if lifetime > 0 {
		n.setLifetime(a, lifetime)
	}
	if !p.Addr().IsLinkLocalUnicast() && !auto {
		n.s.addRouteLocked(Route{Dest: p.Masked(), NIC: n.id})
	}
	// The first probe waits a random moment up to DADMaxDelay (RFC 4862 5.4.2), so that
	// nodes starting together do not probe at once and a link that just came up carries it.
	if d := n.s.opts.DADMaxDelay; a.dadLeft > 0 && d > 0 {
		a.dadTimer = time.AfterFunc(time.Duration(uint64(time.Now().UnixNano())%uint64(d)), func() {
			n.s.mu.Lock()
			defer n.s.unlock()
			if n.addr6(a.prefix.Addr()) == a && a.tentative {
				n.dad(a)
			}
		})
		return
	}
	n.dad(a)
}

// setLifetime (re)arms a SLAAC address's expiry.
func (n *NIC) setLifetime(a *addr6, d time.Duration) {
	if a.expire != nil {
		a.expire.Stop()
	}
	a.deadline = time.Now().Add(d)
	var tm *time.Timer
	tm = time.AfterFunc(d, func() {
		n.s.mu.Lock()
		defer n.s.unlock()
		if n.addr6(a.prefix.Addr()) == a && a.expire == tm {
			n.s.stats.NDP.AddrsExpired.Inc()
			n.s.logf(n.name + ": " + a.prefix.String() + " expired (SLAAC valid lifetime)")
			n.removeAddr6(a)
		}
	})
	a.expire = tm
}

// removeAddr6 forgets an address, its timers and its connected route.
func (n *NIC) removeAddr6(a *addr6) {
	for _, t := range []*time.Timer{a.dadTimer, a.expire} {
		if t != nil {
			t.Stop()
		}
	}
	n.v6.addrs = slices.DeleteFunc(n.v6.addrs, func(x *addr6) bool { return x == a })
	n.mldChanged()
	dest := a.prefix.Masked()
	for _, x := range n.v6.addrs {
		if x.prefix.Masked() == dest {
			return // another address keeps the route
		}
	}
	if _, learned := n.v6.prefixes[dest]; !learned {
		n.s.routes = slices.DeleteFunc(n.s.routes, func(r Route) bool {
			return r.NIC == n.id && r.Dest == dest && !r.Gateway.IsValid()
		})
	}
}

// dad sends the next duplicate address detection probe for a, or ends detection when none
// is left: the address becomes usable (and a link-local one starts router solicitation).
func (n *NIC) dad(a *addr6) {
	if a.dadLeft <= 0 {
		a.tentative = false
		a.dadTimer = nil
		n.s.stats.NDP.DADDone.Inc()
		if a.prefix.Addr().IsLinkLocalUnicast() && n.v6.cfg.Autoconf {
			n.v6.rsLeft = ndpMaxRtrSolicitations
			n.sendRS()
		}
		return
	}
	a.dadLeft--
	// A probe: from the unspecified address to the solicited-node group, no link-layer
	// address option (RFC 4862 5.4.2).
	n.sendNeighbor(header.ICMPv6NeighborSolicit, 0, a.prefix.Addr(), netip.IPv6Unspecified(),
		header.SolicitedNodeAddr(a.prefix.Addr()), 0)
	a.dadTimer = time.AfterFunc(n.s.opts.ARPRetransmit, func() {
		n.s.mu.Lock()
		defer n.s.unlock()
		if n.addr6(a.prefix.Addr()) == a && a.tentative {
			n.dad(a)
		}
	})
}

// dadFailed gives a tentative address up: another node on the link has it (RFC 4862 5.4.5).
func (n *NIC) dadFailed(a *addr6) {
	n.s.stats.NDP.DADConflicts.Inc()
	n.s.logf(n.name + ": " + a.prefix.Addr().String() +
		" is in use by another node on the link (duplicate address detection): not configured")
	n.removeAddr6(a)
}

// sendRS solicits routers (RFC 4861 6.3.7) and arms the next solicitation.
func (n *NIC) sendRS() {
	v := n.v6
	if v.rsLeft <= 0 {
		return
	}
	v.rsLeft--
	src := n.src6(header.IPv6AllRouters)
	size := header.NDPRSSize
	if src.IsValid() {
		size += 8
	} else {
		src = netip.IPv6Unspecified()
	}
	p := buffer.New(buffer.Headroom, size)
	m := header.ICMPv6(p.Extend(size))
	m.SetTypeCode(header.ICMPv6RouterSolicit, 0)
	m.SetWord(0)
	if size > header.NDPRSSize {
		header.AppendLinkAddrOption(m[:header.NDPRSSize], header.NDPOptSourceLinkAddr, n.ep.LinkAddr())
	}
	m.SetChecksum(src, header.IPv6AllRouters)
	n.s.stats.ICMPv6.OutMsgs.Inc()
	n.s.stats.ICMPv6.OutRouterSolicits.Inc()
	n.s.writeIPv6Locked(PacketInfo{NIC: n.id, Src: src, Dst: header.IPv6AllRouters, Protocol: header.ICMPv6ProtocolNumber,
		TTL: ndpHopLimit}, p)
	if v.rsTimer != nil {
		v.rsTimer.Stop()
	}
	v.rsTimer = time.AfterFunc(n.s.opts.RouterSolicitInterval, func() {
		n.s.mu.Lock()
		defer n.s.unlock()
		if n.v6 == v {
			n.sendRS()
		}
	})
}

// sendNS solicits the link address of target (address resolution, RFC 4861 7.2.2): to its
// solicited-node group, from our address of the same scope, with our link address.
func (n *NIC) sendNS(target netip.Addr) {
	src := n.src6(target)
	if !src.IsValid() {
		if src = n.src6(netip.AddrFrom16([16]byte{0xfe, 0x80, 15: 1})); !src.IsValid() {
			return // no usable address yet: the retries and the queue limit apply
		}
	}
	n.sendNeighbor(header.ICMPv6NeighborSolicit, 0, target, src, header.SolicitedNodeAddr(target), header.NDPOptSourceLinkAddr)
}

// sendNeighbor sends a neighbour solicitation or advertisement about target from src to dst,
// with our link address in an option of type opt (0: none).
func (n *NIC) sendNeighbor(typ, flags uint8, target, src, dst netip.Addr, opt uint8) {
	size := header.NDPNSSize
	if opt != 0 {
		size += 8
	}
	p := buffer.New(buffer.Headroom, size)
	m := header.ICMPv6(p.Extend(size))
	header.EncodeNeighbor(m, typ, flags, target)
	if opt != 0 {
		header.AppendLinkAddrOption(m[:header.NDPNSSize], opt, n.ep.LinkAddr())
	}
	m.SetChecksum(src, dst)
	st := &n.s.stats.ICMPv6
	st.OutMsgs.Inc()
	if typ == header.ICMPv6NeighborSolicit {
		st.OutNeighborSolicits.Inc()
	} else {
		st.OutNeighborAdverts.Inc()
	}
	n.s.writeIPv6Locked(PacketInfo{NIC: n.id, Src: src, Dst: dst, Protocol: header.ICMPv6ProtocolNumber, TTL: ndpHopLimit}, p)
}

// handleNDP validates a neighbour discovery message (RFC 4861 6.1.2, 7.1) and acts on it.
func (n *NIC) handleNDP(info PacketInfo, m header.ICMPv6) {
	s := n.s
	hdrLen := header.NDPRedirectSize
	switch m.Type() {
	case header.ICMPv6RouterSolicit:
		hdrLen = header.NDPRSSize
	case header.ICMPv6RouterAdvert:
		hdrLen = header.NDPRASize
	case header.ICMPv6NeighborSolicit, header.ICMPv6NeighborAdvert:
		hdrLen = header.NDPNSSize
	}
	if info.TTL != ndpHopLimit || m.Code() != 0 || len(m) < hdrLen {
		s.stats.NDP.RxMalformed.Inc()
		return
	}
	opts, ok := header.ParseNDPOptions(m[hdrLen:])
	if !ok {
		s.stats.NDP.RxMalformed.Inc()
		return
	}
	var lla header.LinkAddr
	haveLLA := false
	for _, o := range opts {
		if o.Type == header.NDPOptSourceLinkAddr && m.Type() != header.ICMPv6NeighborAdvert ||
			o.Type == header.NDPOptTargetLinkAddr && m.Type() == header.ICMPv6NeighborAdvert {
			if lla, haveLLA = o.LinkAddr(); !haveLLA || lla.IsMulticast() {
				s.stats.NDP.RxMalformed.Inc()
				return
			}
		}
	}
	switch m.Type() {
	case header.ICMPv6NeighborSolicit:
		s.stats.ICMPv6.InNeighborSolicits.Inc()
		target := header.NDPTarget(m)
		if target.IsMulticast() || (info.Src.IsUnspecified() && (haveLLA || header.SolicitedNodeAddr(target) != info.Dst)) {
			s.stats.NDP.RxMalformed.Inc()
			return
		}
		a := n.addr6(target)
		if a == nil {
			return
		}
		if a.tentative { // another node probes the address we probe: neither may have it
			if info.Src.IsUnspecified() {
				n.dadFailed(a)
			}
			return
		}
		if info.Src.IsUnspecified() { // a probe for our address: defend it (RFC 4862 5.4.3)
			n.sendNeighbor(header.ICMPv6NeighborAdvert, header.NDPNAOverride, target, target,
				header.IPv6AllNodes, header.NDPOptTargetLinkAddr)
			return
		}
		if haveLLA {
			n.learnNeighbor(info.Src, lla, true)
		}
		n.sendNeighbor(header.ICMPv6NeighborAdvert, header.NDPNASolicited|header.NDPNAOverride, target, target,
			info.Src, header.NDPOptTargetLinkAddr)
	case header.ICMPv6NeighborAdvert:
		s.stats.ICMPv6.InNeighborAdverts.Inc()
		target := header.NDPTarget(m)
		solicited := m[4]&header.NDPNASolicited != 0
		if target.IsMulticast() || (info.Dst.IsMulticast() && solicited) {
			s.stats.NDP.RxMalformed.Inc()
			return
		}
		if a := n.addr6(target); a != nil {
			if a.tentative {
				n.dadFailed(a)
			} else {
				s.logf(n.name + ": another node advertises our address " + target.String())
			}
			return
		}
		if haveLLA {
			n.learnNeighbor(target, lla, false)
		}
	case header.ICMPv6RouterAdvert:
		s.stats.ICMPv6.InRouterAdverts.Inc()
		if !info.Src.IsLinkLocalUnicast() {
			s.stats.NDP.RxMalformed.Inc()
			return
		}
		if !n.v6.cfg.Autoconf {
			s.stats.NDP.RxIgnored.Inc()
			return
		}
		n.handleRA(info.Src, m, opts)
		if haveLLA {
			n.learnNeighbor(info.Src, lla, true)
		}
	default: // router solicitations are for routers; redirects are not followed
		s.stats.NDP.RxIgnored.Inc()
	}
}

// learnNeighbor records ip -> mac: always for an entry waiting for resolution, and for a new
// neighbour only when create is set (a solicitation or advertisement about the sender itself,
// RFC 4861 7.2.3; an unsolicited advertisement creates nothing, 7.2.5).
func (n *NIC) learnNeighbor(ip netip.Addr, mac header.LinkAddr, create bool) {
	if _, known := n.arp[ip]; known || create {
		n.learn(ip, mac)
	}
}

// handleRA takes what a router advertisement says (RFC 4861 6.3.4, RFC 4862 5.5.3).
func (n *NIC) handleRA(router netip.Addr, m header.ICMPv6, opts []header.NDPOption) {
	s, v := n.s, n.v6
	if v.rsTimer != nil { // solicited or not, a router answered
		v.rsTimer.Stop()
		v.rsTimer, v.rsLeft = nil, 0
	}
	lifetime := time.Duration(uint16(m[6])<<8|uint16(m[7])) * time.Second
	def := Route{Dest: netip.PrefixFrom(netip.IPv6Unspecified(), 0), Gateway: router, NIC: n.id}
	if t := v.routers[router]; t != nil {
		t.Stop()
		delete(v.routers, router)
	}
	switch {
	case lifetime == 0:
		s.routes = slices.DeleteFunc(s.routes, func(r Route) bool { return r == def })
	case !slices.Contains(s.routes, def) && len(v.routers) >= ndpMaxRouters:
		s.stats.NDP.RxIgnored.Inc()
	default:
		if !slices.Contains(s.routes, def) {
			s.routes = append(s.routes, def)
			s.stats.NDP.RoutersLearned.Inc()
		}
		var tm *time.Timer
		tm = time.AfterFunc(lifetime, func() {
			s.mu.Lock()
			defer s.unlock()
			if v.routers[router] != tm { // stopped too late: a newer advertisement re-armed it
				return
			}
			s.routes = slices.DeleteFunc(s.routes, func(r Route) bool { return r == def })
			delete(v.routers, router)
		})
		v.routers[router] = tm
	}
	for _, o := range opts {
		switch o.Type {
		case header.NDPOptMTU:
			if len(o.Data) == 6 {
				if mtu := int(uint32(o.Data[2])<<24 | uint32(o.Data[3])<<16 | uint32(o.Data[4])<<8 | uint32(o.Data[5])); mtu >= header.IPv6MinMTU {
					v.mtu = mtu
				}
			}
		case header.NDPOptPrefixInfo:
			pi, ok := o.PrefixInfo()
			if !ok || pi.Prefix.Addr().IsLinkLocalUnicast() || pi.PreferredLifetime > pi.ValidLifetime {
				s.stats.NDP.RxIgnored.Inc()
				continue
			}
			if pi.OnLink {
				n.learnPrefix(pi)
			}
			if pi.Autonomous && pi.Prefix.Bits() == 64 {
				n.autoconf(pi)
			}
		}
	}
}

func lifetimeOf(secs uint32) time.Duration {
	if secs == infiniteLifetime {
		return 0
	}
	return time.Duration(secs) * time.Second
}

// learnPrefix adds, refreshes or (lifetime 0) removes an on-link prefix route.
func (n *NIC) learnPrefix(pi header.PrefixInfo) {
	s, v := n.s, n.v6
	r := Route{Dest: pi.Prefix, NIC: n.id}
	if t := v.prefixes[pi.Prefix]; t != nil {
		t.Stop()
	}
	if pi.ValidLifetime == 0 {
		delete(v.prefixes, pi.Prefix)
		s.routes = slices.DeleteFunc(s.routes, func(x Route) bool { return x == r })
		return
	}
	if _, known := v.prefixes[pi.Prefix]; !known && len(v.prefixes) >= ndpMaxPrefixes {
		s.stats.NDP.RxIgnored.Inc()
		return
	}
	if !slices.Contains(s.routes, r) {
		s.routes = append(s.routes, r)
	}
	v.prefixes[pi.Prefix] = nil
	if d := lifetimeOf(pi.ValidLifetime); d > 0 {
		var tm *time.Timer
		tm = time.AfterFunc(d, func() {
			s.mu.Lock()
			defer s.unlock()
			if v.prefixes[pi.Prefix] != tm {
				return
			}
			delete(v.prefixes, pi.Prefix)
			s.routes = slices.DeleteFunc(s.routes, func(x Route) bool { return x == r })
		})
		v.prefixes[pi.Prefix] = tm
	}
}

// autoconf forms or refreshes the SLAAC address of a prefix (RFC 4862 5.5.3 d and e: a
// lifetime is only shortened below two hours by an advertisement saying so for longer).
func (n *NIC) autoconf(pi header.PrefixInfo) {
	addr := header.EUI64Addr(pi.Prefix, n.ep.LinkAddr())
	d := lifetimeOf(pi.ValidLifetime)
	if a := n.addr6(addr); a != nil {
		if !a.auto {
			return
		}
		left := time.Until(a.deadline)
		if a.expire == nil {
			left = infiniteLifetime * time.Second
		}
		switch {
		case d == 0:
			if a.expire != nil {
				a.expire.Stop()
				a.expire = nil
			}
		case d > twoHours || d > left:
			n.setLifetime(a, d)
		case left > twoHours:
			n.setLifetime(a, twoHours)
		}
		return
	}
	if pi.ValidLifetime == 0 {
		return
	}
	auto := 0
	for _, a := range n.v6.addrs {
		if a.auto {
			auto++
		}
	}
	if auto >= ndpMaxAutoAddrs {
		n.s.stats.NDP.RxIgnored.Inc()
		return
	}
	n.s.stats.NDP.AddrsAutoconf.Inc()
	n.s.logf(n.name + ": " + addr.String() + "/64 (SLAAC)")
	n.addAddr6(netip.PrefixFrom(addr, 64), true, d)
}

// logf reports an event through Options.Logf, if set.
func (s *Stack) logf(msg string) {
	if s.opts.Logf != nil {
		s.opts.Logf(msg)
	}
}
