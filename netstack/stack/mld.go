package stack

import (
	"encoding/binary"
	"net/netip"
	"time"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
)

// MLDv2 as a listener (RFC 3810), so that a switch or bridge snooping multicast keeps
// forwarding to this NIC what neighbour discovery sends to its solicited-node groups: a
// report when the groups change (sent twice, the robustness variable's default), and one
// listing every group in answer to a query. ff02::1 is never reported (5.2.13 lets a node
// leave out the all-nodes group, as Linux does).

const (
	mldQuery          = 130
	mldv2Report       = 143
	mldv2ReportsAddr  = "ff02::16"
	mldChangeToExcl   = 4 // record type: CHANGE_TO_EXCLUDE_MODE (joined, all sources)
	mldModeIsExclude  = 2 // record type: MODE_IS_EXCLUDE (a member, all sources)
	mldRobustness     = 2
	mldReportInterval = time.Second // between the robustness copies of a change report
)

var mldReports = netip.MustParseAddr(mldv2ReportsAddr)

// groups6 lists the NIC's reportable groups: the solicited-node group of each address.
func (n *NIC) groups6() []netip.Addr {
	var out []netip.Addr
	for _, a := range n.v6.addrs {
		g := header.SolicitedNodeAddr(a.prefix.Addr())
		dup := false
		for _, x := range out {
			dup = dup || x == g
		}
		if !dup {
			out = append(out, g)
		}
	}
	return out
}

// mldChanged reports the groups after a change, now and mldRobustness-1 times more.
func (n *NIC) mldChanged() {
	if n.loopback {
		return
	}
	n.sendMLDReport(mldChangeToExcl)
	v := n.v6
	left := mldRobustness - 1
	var again func()
	again = func() {
		n.s.mu.Lock()
		defer n.s.unlock()
		if n.v6 != v || left <= 0 {
			return
		}
		left--
		n.sendMLDReport(mldChangeToExcl)
		if left > 0 {
			time.AfterFunc(mldReportInterval, again)
		}
	}
	time.AfterFunc(mldReportInterval, again)
}

// handleMLDQuery answers a query (RFC 3810 6.2, 7.6.1 checks: link-local source, hop limit 1)
// with a report of every group, after a random part of the query's maximum response delay.
func (n *NIC) handleMLDQuery(info PacketInfo, m header.ICMPv6) {
	if !info.Src.IsLinkLocalUnicast() || info.TTL != 1 || len(m) < 24 {
		n.s.stats.NDP.RxMalformed.Inc()
		return
	}
	delay := time.Duration(binary.BigEndian.Uint16(m[4:])) * time.Millisecond // MLDv1 and small MLDv2 codes
	if delay > 10*time.Second {
		delay = 10 * time.Second
	}
	v := n.v6
	time.AfterFunc(time.Duration(uint64(time.Now().UnixNano())%uint64(delay+time.Millisecond)), func() {
		n.s.mu.Lock()
		defer n.s.unlock()
		if n.v6 == v {
			n.sendMLDReport(mldModeIsExclude)
		}
	})
}

// sendMLDReport sends an MLDv2 report with one record of type rec per group: hop limit 1, a
// hop-by-hop header with the router alert option (RFC 3810 5), from the link-local address
// (or :: while it is tentative, 5.2.13).
func (n *NIC) sendMLDReport(rec uint8) {
	groups := n.groups6()
	if len(groups) == 0 {
		return
	}
	src := n.src6(mldReports)
	if !src.IsValid() {
		src = netip.IPv6Unspecified()
	}
	size := 8 + 8 + 20*len(groups)
	p := buffer.New(buffer.Headroom, size)
	b := p.Extend(size)
	// Hop-by-hop: next header ICMPv6, length 0 (8 bytes), router alert (MLD), PadN.
	copy(b, []byte{header.ICMPv6ProtocolNumber, 0, 5, 2, 0, 0, 1, 0})
	m := header.ICMPv6(b[8:])
	m.SetTypeCode(mldv2Report, 0)
	binary.BigEndian.PutUint32(m[4:], uint32(len(groups)))
	for i, g := range groups {
		r := m[8+20*i:]
		r[0], r[1], r[2], r[3] = rec, 0, 0, 0
		a := g.As16()
		copy(r[4:20], a[:])
	}
	m.SetChecksum(src, mldReports)
	n.s.stats.ICMPv6.OutMsgs.Inc()
	n.s.stats.ICMPv6.OutMLDReports.Inc()
	n.s.writeIPv6Locked(PacketInfo{NIC: n.id, Src: src, Dst: mldReports, Protocol: header.IPv6HopByHop, TTL: 1}, p)
}
