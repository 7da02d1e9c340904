package stack

import (
	"net/netip"
	"slices"
)

// Route sends packets for Dest through NIC, via Gateway if it is valid (else Dest is on the
// link).
type Route struct {
	Dest    netip.Prefix
	Gateway netip.Addr
	NIC     NICID
}

// AddRoute adds r (replacing a route with the same destination and NIC).
func (s *Stack) AddRoute(r Route) {
	s.mu.Lock()
	s.addRouteLocked(r)
	s.mu.Unlock()
}

func (s *Stack) addRouteLocked(r Route) {
	r.Dest = r.Dest.Masked()
	s.routes = slices.DeleteFunc(s.routes, func(o Route) bool { return o.Dest == r.Dest && o.NIC == r.NIC })
	s.routes = append(s.routes, r)
}

// RemoveRoutes removes the routes for which match returns true and reports how many.
func (s *Stack) RemoveRoutes(match func(Route) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.routes)
	s.routes = slices.DeleteFunc(s.routes, match)
	return n - len(s.routes)
}

// Routes returns the routing table.
func (s *Stack) Routes() []Route {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.routes)
}

// FindRoute picks the NIC, source and next hop for dst (longest prefix wins; an IPv4-mapped
// IPv6 address is routed as IPv4, findRoute6Locked has IPv6's rules). A nonzero nic
// restricts the choice to that NIC; the limited broadcast goes out of that NIC (or the first
// one) to the link broadcast address with the NIC's address (possibly unspecified) as source.
func (s *Stack) FindRoute(dst netip.Addr, nic NICID) (PacketInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.findRouteLocked(dst, nic)
}

func (s *Stack) findRouteLocked(dst netip.Addr, nic NICID) (PacketInfo, error) {
	if dst.Is6() && !dst.Is4In6() {
		return s.findRoute6Locked(dst, nic)
	}
	dst = dst.Unmap()
	if !dst.Is4() {
		return PacketInfo{}, ErrNoRoute
	}
	if dst == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		n := s.nics[nic]
		if n == nil {
			for _, m := range s.nics {
				if n == nil || m.id < n.id {
					n = m
				}
			}
		}
		if n == nil {
			return PacketInfo{}, ErrNoRoute
		}
		src := n.primary()
		if !src.IsValid() {
			src = netip.IPv4Unspecified()
		}
		return PacketInfo{NIC: n.id, Src: src, Dst: dst, Broadcast: true}, nil
	}
	r, ok := s.longestMatchLocked(dst, nic)
	if !ok {
		return PacketInfo{}, ErrNoRoute
	}
	n := s.nics[r.NIC]
	if n == nil {
		return PacketInfo{}, ErrNoRoute
	}
	src := n.primary()
	for _, p := range n.addrs { // prefer an address on the destination's subnet
		if p.Contains(dst) || (r.Gateway.IsValid() && p.Contains(r.Gateway)) {
			src = p.Addr()
			break
		}
	}
	if !src.IsValid() {
		return PacketInfo{}, ErrNoAddress
	}
	hop := dst
	if r.Gateway.IsValid() {
		hop = r.Gateway
	}
	return PacketInfo{NIC: n.id, Src: src, Dst: dst, NextHop: hop, Broadcast: n.isBroadcast(dst)}, nil
}

// longestMatchLocked is the route for dst with the longest prefix (through nic only, if
// nonzero). A prefix of the other address family never contains dst.
func (s *Stack) longestMatchLocked(dst netip.Addr, nic NICID) (Route, bool) {
	best := -1
	for i, r := range s.routes {
		if (nic != 0 && r.NIC != nic) || !r.Dest.Contains(dst) {
			continue
		}
		if best < 0 || r.Dest.Bits() > s.routes[best].Dest.Bits() {
			best = i
		}
	}
	if best < 0 {
		return Route{}, false
	}
	return s.routes[best], true
}

// Accepts reports whether a socket bound to local takes a packet to dst by address family:
// one bound to 0.0.0.0 or an IPv4 address takes IPv4 only, one bound to an IPv6 address IPv6
// only, and one bound to :: both (dual-stack, as Linux with net.ipv6.bindv6only = 0) unless
// v6only (IPV6_V6ONLY) is set.
func Accepts(local netip.Addr, v6only bool, dst netip.Addr) bool {
	if local.Is6() && local.IsUnspecified() && !v6only {
		return true
	}
	return local.Is4() == dst.Is4()
}

// BindConflict reports whether two sockets' local addresses (with their IPV6_V6ONLY) clash
// on one port: the same address, or a wildcard and an address of a family it takes
// (0.0.0.0 and [::] clash unless [::] is IPv6-only, as on Linux without SO_REUSEADDR).
func BindConflict(a netip.Addr, aV6only bool, b netip.Addr, bV6only bool) bool {
	if a == b {
		return true
	}
	if !a.IsUnspecified() && !b.IsUnspecified() {
		return false
	}
	fam := func(x netip.Addr, v6only bool) (v4, v6 bool) {
		if x.Is4() {
			return true, false
		}
		return x.IsUnspecified() && !v6only, true
	}
	a4, a6 := fam(a, aV6only)
	b4, b6 := fam(b, bV6only)
	return a4 && b4 || a6 && b6
}
