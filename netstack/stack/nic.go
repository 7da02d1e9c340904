package stack

import (
	"net/netip"
	"slices"
	"sync/atomic"
	"time"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
	"goxen/netstack/link"
)

// NIC is one link endpoint attached to the stack with its IPv4 addresses, its IPv6 state
// once EnableIPv6 ran (ndp.go) and its neighbour cache (ARP and NDP entries alike).
type NIC struct {
	s     *Stack
	id    NICID
	name  string
	ep    link.Endpoint
	addrs []netip.Prefix // IPv4
	v6    *ipv6State     // nil: IPv6 is off on this NIC and its packets are not taken
	arp   map[netip.Addr]*arpEntry
	// loopback: the endpoint reports Loopback() true (link/loopback). Such a NIC accepts
	// every address of its subnets and any of the stack's own addresses, sends no ARP, and
	// carries the packets the stack sends to itself.
	loopback bool
	gro      groTable // TCP segments held during a batch (gro.go)
}

// offloads is what the device does on send now (link.Offloader): asked at every packet, as a
// device's may change (netfront connecting to a new backend after a restore).
func (n *NIC) offloads() link.Offloads { return link.OffloadsOf(n.ep) }

// loopbacker is implemented by loopback link endpoints.
type loopbacker interface{ Loopback() bool }

// NICInfo describes a NIC for callers (net.Interfaces-style).
type NICInfo struct {
	ID       NICID
	Name     string
	MTU      int
	LinkAddr header.LinkAddr
	Addrs    []netip.Prefix
	Loopback bool
	Offloads link.Offloads
}

// AddNIC attaches ep as NIC id and starts taking its frames.
func (s *Stack) AddNIC(id NICID, name string, ep link.Endpoint) error {
	s.mu.Lock()
	if _, ok := s.nics[id]; ok {
		s.mu.Unlock()
		return ErrDuplicateNIC
	}
	n := &NIC{s: s, id: id, name: name, ep: ep, arp: make(map[netip.Addr]*arpEntry)}
	if lb, ok := ep.(loopbacker); ok && lb.Loopback() {
		n.loopback = true
	}
	s.nics[id] = n
	s.setPoller()
	s.mu.Unlock()
	ep.Attach(n)
	return nil
}

// setPoller picks the device that waiting goroutines read themselves (link.Poller): the only
// NIC that is not a loopback, if its endpoint can be polled. With several, the devices' own
// goroutines read them. Called with mu held.
func (s *Stack) setPoller() {
	var p link.Poller
	for _, n := range s.nics {
		if n.loopback {
			continue
		}
		if p != nil {
			p = nil
			break
		}
		var ok bool
		if p, ok = n.ep.(link.Poller); !ok {
			break
		}
	}
	s.poller.Store(&pollerRef{p})
}

type pollerRef struct{ p link.Poller }

// PollWaiters is what the blocking calls of one transport endpoint share to read the stack's
// device themselves while they wait (link.Poller): how many of them are doing so now, so
// that whatever changes what they wait for otherwise than by a frame kicks them.
type PollWaiters struct{ n atomic.Int32 }

// Wait has the caller, about to wait on ready until deadline (zero: none), read the device
// itself meanwhile (link.Poller.PollWait): true means look again at what it waits for; false,
// that it cannot read here (no such device, or another goroutine reads it), and should wait
// on ready as it would have.
func (w *PollWaiters) Wait(s *Stack, ready <-chan struct{}, deadline time.Time) bool {
	p := s.Poller()
	if p == nil {
		return false
	}
	w.n.Add(1)
	again := p.PollWait(ready, deadline)
	w.n.Add(-1)
	return again
}

// Kick makes those reading the device look again: call it after signalling their channel.
func (w *PollWaiters) Kick(s *Stack) {
	if w.n.Load() > 0 {
		if p := s.Poller(); p != nil {
			p.Kick()
		}
	}
}

// Poller returns the device a goroutine about to wait for the network should read itself
// (link.Poller), or nil.
func (s *Stack) Poller() link.Poller {
	if r := s.poller.Load(); r != nil {
		return r.p
	}
	return nil
}

// NICs lists the NICs.
func (s *Stack) NICs() []NICInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []NICInfo
	for _, n := range s.nics {
		addrs := slices.Clone(n.addrs)
		if n.v6 != nil {
			for _, a := range n.v6.addrs {
				if !a.tentative {
					addrs = append(addrs, a.prefix)
				}
			}
		}
		out = append(out, NICInfo{ID: n.id, Name: n.name, MTU: n.ep.MTU(), LinkAddr: n.ep.LinkAddr(), Addrs: addrs, Loopback: n.loopback,
			Offloads: n.offloads()})
	}
	slices.SortFunc(out, func(a, b NICInfo) int { return int(a.ID - b.ID) })
	return out
}

// AddAddress assigns addr (with its prefix length) to the NIC and adds the connected route.
// An IPv4 address is announced with a gratuitous ARP; an IPv6 one turns IPv6 on for the NIC
// if it was off (without autoconfiguration) and is usable once duplicate address detection
// passed (ndp.go).
func (s *Stack) AddAddress(id NICID, addr netip.Prefix) error {
	s.mu.Lock()
	defer s.unlock()
	n := s.nics[id]
	if n == nil {
		return ErrUnknownNIC
	}
	if addr.Addr().Is6() && !addr.Addr().Is4In6() {
		if n.v6 == nil {
			n.enableIPv6(IPv6Config{})
		}
		n.addAddr6(addr, false, 0)
		return nil
	}
	if !addr.Addr().Is4() {
		return ErrNoAddress
	}
	if slices.Contains(n.addrs, addr) {
		return nil
	}
	n.addrs = append(n.addrs, addr)
	s.addRouteLocked(Route{Dest: addr.Masked(), NIC: id})
	if n.loopback {
		return nil
	}
	n.sendARP(header.ARPRequest, header.BroadcastLinkAddr, addr.Addr(), addr.Addr(), header.LinkAddr{})
	return nil
}

// Announce sends a gratuitous ARP for each of the NIC's IPv4 addresses (an ARP announcement,
// RFC 5227 3) and an unsolicited neighbour advertisement for each IPv6 one, so that peers and
// switches learn where they are now: after the guest moved (restored or migrated behind a
// new port of the bridge).
func (s *Stack) Announce(id NICID) error {
	s.mu.Lock()
	defer s.unlock()
	n := s.nics[id]
	if n == nil {
		return ErrUnknownNIC
	}
	if n.loopback {
		return nil
	}
	for _, a := range n.addrs {
		n.sendARP(header.ARPRequest, header.BroadcastLinkAddr, a.Addr(), a.Addr(), header.LinkAddr{})
	}
	if n.v6 != nil {
		// IPv6's equivalent: an unsolicited advertisement per address (RFC 4861 7.2.6), and
		// the groups reported again for the snooping bridges of the new port.
		for _, a := range n.v6.addrs {
			if !a.tentative {
				n.sendNeighbor(header.ICMPv6NeighborAdvert, header.NDPNAOverride, a.prefix.Addr(), a.prefix.Addr(),
					header.IPv6AllNodes, header.NDPOptTargetLinkAddr)
			}
		}
		n.mldChanged()
	}
	return nil
}

// RemoveAddress removes addr from the NIC together with its connected route.
func (s *Stack) RemoveAddress(id NICID, addr netip.Prefix) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nics[id]
	if n == nil {
		return ErrUnknownNIC
	}
	n.addrs = slices.DeleteFunc(n.addrs, func(p netip.Prefix) bool { return p == addr })
	if n.v6 != nil {
		if a := n.addr6(addr.Addr()); a != nil {
			n.removeAddr6(a)
		}
	}
	s.routes = slices.DeleteFunc(s.routes, func(r Route) bool { return r.NIC == id && r.Dest == addr.Masked() && !r.Gateway.IsValid() })
	return nil
}

// hasAddr reports whether a is one of the NIC's addresses (IPv6: one that passed DAD).
func (n *NIC) hasAddr(a netip.Addr) bool {
	if a.Is6() {
		x := n.addr6(a)
		return x != nil && !x.tentative
	}
	for _, p := range n.addrs {
		if p.Addr() == a {
			return true
		}
	}
	return false
}

// inSubnet reports whether a lies in one of the NIC's subnets.
func (n *NIC) inSubnet(a netip.Addr) bool {
	if a.Is6() && n.v6 != nil {
		for _, x := range n.v6.addrs {
			if x.prefix.Contains(a) {
				return true
			}
		}
		return false
	}
	for _, p := range n.addrs {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// isBroadcast reports whether a is the limited broadcast or a directed broadcast of one of
// the NIC's subnets.
func (n *NIC) isBroadcast(a netip.Addr) bool {
	if a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return true
	}
	for _, p := range n.addrs {
		if p.Bits() < 31 && p.Contains(a) && a == lastAddr(p) {
			return true
		}
	}
	return false
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	host := ^uint32(0) >> p.Bits()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v |= host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// primary returns the NIC's first address, or the zero Addr.
func (n *NIC) primary() netip.Addr {
	if len(n.addrs) == 0 {
		return netip.Addr{}
	}
	return n.addrs[0].Addr()
}

// DeliverFrame is the NIC's link.Dispatcher: validate the Ethernet header and hand the
// payload to ARP, IPv4 or IPv6.
func (n *NIC) DeliverFrame(p *buffer.Packet) {
	s := n.s
	s.mu.Lock()
	defer s.unlock()
	s.stats.Link.RxFrames.Inc()
	n.receive(p)
}

// DeliverFrames is the NIC's link.BatchDispatcher: the frames of one batch, in order, with
// consecutive TCP segments of a flow coalesced (gro.go). The frames sent in answer go out
// once the batch is done.
func (n *NIC) DeliverFrames(ps []*buffer.Packet) {
	s := n.s
	s.mu.Lock()
	defer s.unlock()
	for _, p := range ps {
		s.stats.Link.RxFrames.Inc()
		n.groReceive(p)
	}
	n.groFlushAll()
}

// receive takes one frame (or a coalesced segment) past the Ethernet header. Called with
// s.mu held; owns p.
func (n *NIC) receive(p *buffer.Packet) {
	s := n.s
	h, ok := p.Consume(header.EthernetMinSize)
	if !ok {
		s.stats.Link.RxMalformed.Inc()
		p.Release()
		return
	}
	eth := header.Ethernet(h)
	if dst := eth.Dst(); dst != n.ep.LinkAddr() && !dst.IsMulticast() {
		s.stats.Link.RxNotForUs.Inc()
		p.Release()
		return
	}
	switch eth.Type() {
	case header.EtherTypeARP:
		n.handleARP(p)
	case header.EtherTypeIPv4:
		s.handleIPv4(n, p)
	case header.EtherTypeIPv6:
		if n.v6 == nil {
			s.stats.Link.RxUnknownType.Inc()
			p.Release()
			return
		}
		s.handleIPv6(n, p)
	default:
		s.stats.Link.RxUnknownType.Inc()
		p.Release()
	}
}
