package tcp

import (
	"encoding/binary"
	"hash/maphash"
	"net/netip"
	"time"

	"goxen/netstack/header"
	"goxen/netstack/stack"
)

// SYN cookies (RFC 4987 3.6): when a listener's half-open connections reach
// Options.SynBacklog, a SYN is answered statelessly with a SYN-ACK whose ISN encodes the
// connection; a returning ACK that carries a valid cookie creates the connection then.
// Layout of the ISN: 5 bits of a 64-second counter, 24 bits of a keyed hash of the 4-tuple,
// the peer's ISN and the counter, and 3 bits indexing cookieMSS. Cookie connections do
// without window scaling.

var cookieMSS = [...]uint16{536, 1200, 1360, 1440, 1460, 4036, 8960, 8960}

const cookiePeriod = 64 * time.Second

func (g *isnGen) cookieHash(local, remote netip.AddrPort, peerISN, t uint32) uint32 {
	var b [44 + 16]byte
	l, r := local.Addr().As16(), remote.Addr().As16()
	copy(b[0:], l[:])
	copy(b[16:], r[:])
	binary.BigEndian.PutUint16(b[32:], local.Port())
	binary.BigEndian.PutUint16(b[34:], remote.Port())
	binary.BigEndian.PutUint32(b[36:], peerISN)
	binary.BigEndian.PutUint32(b[40:], t)
	copy(b[44:], g.key[:])
	return uint32(maphash.Bytes(g.seed, b[:])) & 0xffffff
}

func (g *isnGen) cookieTime() uint32 { return uint32(time.Since(g.start) / cookiePeriod) }

func (g *isnGen) makeCookie(local, remote netip.AddrPort, peerISN uint32, mssIdx int) uint32 {
	t := g.cookieTime()
	return (t&0x1f)<<27 | g.cookieHash(local, remote, peerISN, t)<<3 | uint32(mssIdx)
}

// checkCookie returns the MSS a cookie encodes, or 0 if it is not valid (it must come from
// the current or the previous period).
func (g *isnGen) checkCookie(local, remote netip.AddrPort, peerISN, c uint32) int {
	now := g.cookieTime()
	for _, t := range []uint32{now, now - 1} {
		if t&0x1f == c>>27 && g.cookieHash(local, remote, peerISN, t) == (c>>3)&0xffffff {
			return int(cookieMSS[c&7])
		}
	}
	return 0
}

// sendCookie answers s with a cookie SYN-ACK and keeps no state.
func (l *Endpoint) sendCookie(s *segment) {
	pr := l.pr
	local := netip.AddrPortFrom(s.info.Dst, s.h.DstPort())
	remote := netip.AddrPortFrom(s.info.Src, s.h.SrcPort())
	peer := 536
	if s.opts.MSS != 0 {
		peer = int(s.opts.MSS)
	}
	mtu := pr.mtus[s.info.NIC]
	if mtu == 0 {
		mtu = 1500
	}
	mss := min(peer, mtu-ipHeaderLen(local.Addr())-header.TCPMinSize)
	idx := 0
	for i, m := range cookieMSS {
		if int(m) <= mss {
			idx = i
		}
	}
	pr.stats.SynCookiesSent++
	pr.queue(stack.PacketInfo{NIC: s.info.NIC, Src: s.info.Dst, Dst: s.info.Src}, &header.TCPFields{
		SrcPort: local.Port(), DstPort: remote.Port(), Seq: pr.isn.makeCookie(local, remote, s.seq, idx),
		Ack: s.seq + 1, Flags: header.TCPFlagSYN | header.TCPFlagACK, Window: uint16(min(pr.opts.ReceiveBuffer, 65535)),
		Options: header.AppendTCPOptions(nil, &header.TCPOptions{MSS: uint16(mss), WindowScale: -1})}, nil)
}

// acceptCookie creates the connection an ACK with a valid cookie completes and reports
// whether it did (false: answer with a reset). With the accept queue full, the connection
// is created half-open instead, as if its SYN had been queued and its ACK dropped (Listen):
// our SYN-ACK retransmissions then draw the peer's ACK again, which a cookie ACK alone
// would not (the peer may be waiting for us to speak). Past the SYN queue's bound too it is
// reset: the peer learns at once rather than never.
func (l *Endpoint) acceptCookie(s *segment) bool {
	pr := l.pr
	local := netip.AddrPortFrom(s.info.Dst, s.h.DstPort())
	remote := netip.AddrPortFrom(s.info.Src, s.h.SrcPort())
	mss := pr.isn.checkCookie(local, remote, s.seq-1, s.ack-1)
	if mss == 0 {
		return false
	}
	room := len(l.acceptQ) < l.backlog
	if !room && l.pending >= pr.opts.SynBacklog {
		l.overflow()
		return false
	}
	if pr.full() {
		pr.stats.ConnsRefused++
		return false
	}
	pr.stats.SynCookiesRecv++
	pr.stats.PassiveOpens++
	c := pr.newEndpoint()
	c.local, c.remote, c.nic = local, remote, l.nic
	c.route = stack.PacketInfo{NIC: s.info.NIC, Src: s.info.Dst, Dst: s.info.Src}
	c.inherit(l)
	c.iss = s.ack - 1
	c.sndUna, c.sndNxt, c.sndMax, c.recover = s.ack, s.ack, s.ack, s.ack
	c.irs, c.rcvNxt = s.seq-1, s.seq
	c.rcvAdv = c.rcvNxt + uint32(min(pr.opts.ReceiveBuffer, 65535))
	c.mss = mss
	c.cwnd = 10 * mss
	pr.conns[tuple{local, remote}] = c
	c.inConns = true
	pr.countLive(c)
	pr.ports[local.Port()]++
	c.portHeld = true
	if !room {
		l.overflow()
		c.state = SynRcvd
		c.sndUna, c.recover = c.iss, c.iss // the SYN-ACK is outstanding again
		c.listener, c.peerAcked = l, true
		l.pending++
		c.armRTO()
		return true
	}
	c.state = Established
	c.sndWnd, c.maxSndWnd = uint32(s.wnd), uint32(s.wnd)
	c.sndWl1, c.sndWl2 = s.seq, s.ack
	close(c.connCh)
	l.acceptQ = append(l.acceptQ, c)
	wake(l.acceptCh)
	if len(s.data) > 0 || s.has(header.TCPFlagFIN) {
		c.handleSegment(s)
	}
	return true
}
