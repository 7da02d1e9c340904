package stack

import (
	"net/netip"
	"time"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
)

// arpEntry is one neighbour, IPv4 (ARP) or IPv6 (neighbour discovery, ndp.go): resolved
// (mac valid until expires) or incomplete (requests or solicitations being retried, IP
// packets queued in pending).
type arpEntry struct {
	mac      header.LinkAddr
	resolved bool
	expires  time.Time
	pending  []*buffer.Packet // IP packets without Ethernet header
	tries    int
	timer    *time.Timer
}

// handleARP answers requests for our addresses and learns senders (RFC 826's merge: update a
// known sender always, add a new one when the packet is for us).
func (n *NIC) handleARP(p *buffer.Packet) {
	s := n.s
	defer p.Release()
	a := header.ARP(p.Bytes())
	if !a.Valid() {
		s.stats.ARP.RxMalformed.Inc()
		return
	}
	sender, target := a.SenderProto(), a.TargetProto()
	switch a.Op() {
	case header.ARPRequest:
		s.stats.ARP.RxRequests.Inc()
	case header.ARPReply:
		s.stats.ARP.RxReplies.Inc()
	default:
		s.stats.ARP.RxMalformed.Inc()
		return
	}
	sha := a.SenderHW()
	if sha.IsMulticast() || sender.IsUnspecified() || n.isBroadcast(sender) || sender.IsMulticast() {
		if a.Op() == header.ARPRequest && sender.IsUnspecified() && n.hasAddr(target) {
			// RFC 5227 probe for our address: defend it.
			n.sendARP(header.ARPReply, sha, target, sender, sha)
		}
		return
	}
	forUs := n.hasAddr(target)
	if e := n.arp[sender]; e != nil || forUs {
		n.learn(sender, sha)
	}
	if !forUs {
		s.stats.ARP.RxNotForUs.Inc()
		return
	}
	if a.Op() == header.ARPRequest {
		n.sendARP(header.ARPReply, sha, target, sender, sha)
	}
}

// sendARP emits one ARP packet to the link address dst.
func (n *NIC) sendARP(op uint16, dst header.LinkAddr, spa, tpa netip.Addr, tha header.LinkAddr) {
	p := buffer.New(buffer.Headroom, header.ARPSize)
	header.ARP(p.Extend(header.ARPSize)).Encode(&header.ARPFields{Op: op, SenderHW: n.ep.LinkAddr(),
		SenderProto: spa, TargetHW: tha, TargetProto: tpa})
	if op == header.ARPRequest {
		n.s.stats.ARP.TxRequests.Inc()
	} else {
		n.s.stats.ARP.TxReplies.Inc()
	}
	n.s.writeFrame(n, dst, header.EtherTypeARP, p)
}

// learn records ip -> mac and flushes the packets waiting for it.
func (n *NIC) learn(ip netip.Addr, mac header.LinkAddr) {
	e := n.arp[ip]
	if e == nil {
		if len(n.arp) >= n.s.opts.ARPMaxEntries {
			n.evict()
		}
		e = &arpEntry{}
		n.arp[ip] = e
	}
	if e.timer != nil {
		e.timer.Stop()
		e.timer = nil
	}
	e.mac, e.resolved, e.tries = mac, true, 0
	e.expires = time.Now().Add(n.s.opts.ARPReachable)
	pend := e.pending
	e.pending = nil
	for _, q := range pend {
		n.s.writeFrame(n, mac, etherTypeOf(q), q)
	}
}

// evict drops one entry to make room: an expired one if any, else an arbitrary one.
func (n *NIC) evict() {
	now := time.Now()
	var victim netip.Addr
	for ip, e := range n.arp {
		victim = ip
		if e.resolved && now.After(e.expires) {
			break
		}
	}
	n.dropEntry(victim)
}

func (n *NIC) dropEntry(ip netip.Addr) {
	e := n.arp[ip]
	if e == nil {
		return
	}
	if e.timer != nil {
		e.timer.Stop()
	}
	n.s.stats.ARP.PendingDropped.Add(uint64(len(e.pending)))
	n.s.stats.IP.OutDiscards.Add(uint64(len(e.pending)))
	for _, q := range e.pending {
		q.Release()
	}
	delete(n.arp, ip)
}

// arpFlush stops all ARP timers (on Close).
func (n *NIC) arpFlush() {
	for ip := range n.arp {
		n.dropEntry(ip)
	}
}

// etherTypeOf is the EtherType of an IP packet: IPv6's or IPv4's, by its version field.
func etherTypeOf(p *buffer.Packet) uint16 {
	if b, _ := p.Parts(); len(b) > 0 && b[0]>>4 == 6 {
		return header.EtherTypeIPv6
	}
	return header.EtherTypeIPv4
}

// resolveAndSend sends the IP packet p to next hop ip: at once if ip is resolved, else
// queued (up to ARPMaxPending, oldest dropped) while ARP requests (IPv4) or neighbour
// solicitations (IPv6) are retried.
func (n *NIC) resolveAndSend(ip netip.Addr, p *buffer.Packet) {
	s := n.s
	e := n.arp[ip]
	if e != nil && e.resolved && time.Now().Before(e.expires) {
		s.writeFrame(n, e.mac, etherTypeOf(p), p)
		return
	}
	if e != nil && e.resolved { // expired: resolve afresh
		n.dropEntry(ip)
		e = nil
	}
	if e == nil {
		if len(n.arp) >= s.opts.ARPMaxEntries {
			n.evict()
		}
		e = &arpEntry{}
		n.arp[ip] = e
		n.arpRequest(ip, e)
	}
	if len(e.pending) >= s.opts.ARPMaxPending {
		e.pending[0].Release()
		e.pending = e.pending[1:]
		s.stats.ARP.PendingDropped.Inc()
		s.stats.IP.OutDiscards.Inc()
	}
	e.pending = append(e.pending, p)
}

// arpRequest broadcasts a request for ip (IPv6: multicasts a neighbour solicitation) and
// arms the retry timer.
func (n *NIC) arpRequest(ip netip.Addr, e *arpEntry) {
	e.tries++
	if ip.Is6() {
		n.sendNS(ip)
	} else {
		n.sendARPRequest(ip)
	}
	e.timer = time.AfterFunc(n.s.opts.ARPRetransmit, func() {
		n.s.mu.Lock()
		defer n.s.unlock()
		if n.arp[ip] != e || e.resolved {
			return
		}
		if e.tries >= n.s.opts.ARPRetries {
			if ip.Is6() {
				n.s.stats.NDP.ResolveFailed.Inc()
			} else {
				n.s.stats.ARP.ResolveFailed.Inc()
			}
			n.dropEntry(ip)
			return
		}
		n.arpRequest(ip, e)
	})
}

func (n *NIC) sendARPRequest(ip netip.Addr) {
	src := n.primary()
	for _, p := range n.addrs {
		if p.Contains(ip) {
			src = p.Addr()
		}
	}
	if !src.IsValid() {
		src = netip.IPv4Unspecified()
	}
	n.sendARP(header.ARPRequest, header.BroadcastLinkAddr, src, ip, header.LinkAddr{})
}

// ARPEntry is a neighbour cache entry as seen by callers.
type ARPEntry struct {
	NIC      NICID
	Addr     netip.Addr
	LinkAddr header.LinkAddr
	Resolved bool
}

// ARPTable lists the neighbour caches.
func (s *Stack) ARPTable() []ARPEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ARPEntry
	for _, n := range s.nics {
		for ip, e := range n.arp {
			out = append(out, ARPEntry{NIC: n.id, Addr: ip, LinkAddr: e.mac, Resolved: e.resolved})
		}
	}
	return out
}
