package tcp

import (
	"net/netip"
	"os"

	"goxen/netstack/header"
	"goxen/netstack/stack"
)

// Listen opens a listening endpoint on local (unspecified address: any; port 0: ephemeral).
// backlog (0: Options.Backlog) bounds the accept queue, the connections established but
// not yet accepted; Options.SynBacklog bounds the half-open ones, beyond which SYNs are
// answered with SYN cookies. nic, if nonzero, restricts it to that NIC.
//
// With the accept queue full, as on Linux, a SYN is dropped and so is the ACK completing a
// handshake: the connection stays half-open and nothing the peer believes established is
// lost. Its SYN-ACK retransmissions each draw the peer's ACK again (RFC 9293 3.10.7.4),
// as the peer's own retransmissions of data do, and one that finds room joins the queue;
// if the SYN-ACK's retries run out first, the peer is reset (leaveListener). A cookie ACK
// that finds the queue full becomes such a half-open connection if the SYN queue has room,
// else it is reset (acceptCookie). All are counted in ListenOverflows and ListenDrops.
func (pr *Protocol) Listen(local netip.AddrPort, nic stack.NICID, backlog int) (*Endpoint, error) {
	return pr.listen(local, nic, backlog, false)
}

// ListenV6Only is Listen for a socket with IPV6_V6ONLY set: on ::, it takes IPv6 only.
func (pr *Protocol) ListenV6Only(local netip.AddrPort, nic stack.NICID, backlog int) (*Endpoint, error) {
	return pr.listen(local, nic, backlog, true)
}

func (pr *Protocol) listen(local netip.AddrPort, nic stack.NICID, backlog int, v6only bool) (*Endpoint, error) {
	pr.learnMTUs()
	pr.mu.Lock()
	defer pr.mu.Unlock()
	addr := local.Addr().Unmap()
	if !addr.IsValid() {
		addr = netip.IPv4Unspecified()
	}
	port, err := pr.allocPort(local.Port(), func(p uint16) bool {
		for _, l := range pr.listeners[p] {
			if stack.BindConflict(l.local.Addr(), l.v6only, addr, v6only) {
				return false
			}
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if backlog <= 0 {
		backlog = pr.opts.Backlog
	}
	e := pr.newEndpoint()
	e.state, e.local, e.nic, e.backlog, e.portHeld = Listen, netip.AddrPortFrom(addr, port), nic, backlog, true
	e.v6only = v6only
	pr.listeners[port] = append(pr.listeners[port], e)
	return e, nil
}

// handleListen processes a segment for listener l (RFC 9293 3.10.7.2).
func (l *Endpoint) handleListen(s *segment) {
	pr := l.pr
	switch {
	case s.has(header.TCPFlagRST):
		return
	case s.has(header.TCPFlagACK):
		if s.has(header.TCPFlagSYN) || !l.acceptCookie(s) {
			pr.replyRST(s)
		}
		return
	case !s.has(header.TCPFlagSYN) || s.has(header.TCPFlagFIN):
		return
	}
	if len(l.acceptQ) >= l.backlog {
		l.overflow() // the peer retransmits its SYN
		return
	}
	if pr.full() || pr.s.Budget().Tight() {
		pr.stats.ConnsRefused++
		pr.replyRST(s)
		return
	}
	if l.pending >= pr.opts.SynBacklog {
		l.sendCookie(s) // SYN queue full: answer statelessly
		return
	}
	c := pr.newEndpoint()
	c.state = SynRcvd
	c.local = netip.AddrPortFrom(s.info.Dst, s.h.DstPort())
	c.remote = netip.AddrPortFrom(s.info.Src, s.h.SrcPort())
	c.nic = l.nic
	c.route = stack.PacketInfo{NIC: s.info.NIC, Src: s.info.Dst, Dst: s.info.Src}
	c.listener = l
	l.pending++
	c.inherit(l)
	c.irs, c.rcvNxt = s.seq, s.seq+1
	c.rcvAdv, c.lastAckSent = c.rcvNxt, c.rcvNxt
	c.iss = pr.isn.isn(c.local, c.remote)
	c.sndUna, c.sndNxt, c.sndMax = c.iss, c.iss, c.iss
	c.synOptions(s)
	c.sndWnd = uint32(s.wnd) // SYN windows are unscaled
	c.sndWl1, c.sndWl2 = s.seq, 0
	pr.conns[tuple{c.local, c.remote}] = c
	c.inConns = true
	pr.countLive(c)
	pr.ports[c.local.Port()]++
	c.portHeld = true
	pr.stats.PassiveOpens++
	c.sendSYN()
}

// inherit takes a passive connection's settings from its listener (Nagle, and buffers set
// with SetReceiveBuffer and SetSendBuffer, as Linux's accepted sockets inherit them).
func (c *Endpoint) inherit(l *Endpoint) {
	c.noDelay = l.noDelay
	c.sndBufMax = l.sndBufMax
	c.rcvBufMax, c.rcvBufCur, c.rcvLocked = l.rcvBufMax, l.rcvBufCur, l.rcvLocked
}

// synOptions applies a received SYN's options: the peer's MSS, window scale, SACK-permitted
// and timestamps.
func (e *Endpoint) synOptions(s *segment) {
	e.mss = min(e.ourMSS(), 536)
	if s.opts.MSS != 0 {
		e.mss = min(int(s.opts.MSS), e.ourMSS())
	}
	e.mss = max(e.mss, 88)
	e.sackOK = s.opts.SACKPermitted && !e.pr.opts.NoSACK
	e.tsOK = s.opts.TS && !e.pr.opts.NoTimestamps
	if e.tsOK {
		e.synTimestamps(s)
		e.mss -= tsOptionLen // every segment carries the option (RFC 6691)
	}
	if s.opts.WindowScale >= 0 {
		e.wsOK = true
		e.sndScale = uint8(s.opts.WindowScale)
		e.rcvScale = wantScale(e.rcvBufMax)
	} else {
		e.wsOK, e.sndScale, e.rcvScale = false, 0, 0
	}
	e.cwnd = 10 * e.mss // RFC 6928
}

// wantScale is the smallest shift that lets a 16-bit window field cover buf bytes.
func wantScale(buf int) uint8 {
	var s uint8
	for buf>>s > 65535 && s < header.TCPMaxWindowScale {
		s++
	}
	return s
}

// sendSYN sends (or resends) the SYN or SYN-ACK at iss.
func (e *Endpoint) sendSYN() {
	e.send(e.iss, header.TCPFlagSYN, nil)
	if e.sndNxt == e.iss {
		e.sndNxt = e.iss + 1
		e.recover = e.iss
		e.rttActive, e.rttSeq, e.rttStart = true, e.iss+1, timeNow()
	} else {
		e.rttActive = false // Karn: no sample from a retransmitted SYN
	}
	if seqGT(e.sndNxt, e.sndMax) {
		e.sndMax = e.sndNxt
	}
	e.armRTO()
}

// overflow counts a segment l drops because its accept queue is full.
func (l *Endpoint) overflow() {
	l.pr.stats.ListenOverflows++
	l.pr.stats.ListenDrops++
}

// acceptQFull is asked when the ACK completing passive child e's handshake arrives: if its
// listener's accept queue is full, the ACK is dropped and e stays SYN-RECEIVED (Listen).
func (e *Endpoint) acceptQFull() bool {
	l := e.listener
	if l == nil || l.state != Listen || len(l.acceptQ) < l.backlog {
		return false
	}
	l.overflow()
	e.peerAcked = true
	return true
}

// leaveListener detaches a half-open child from its listener as it closes with err. One
// whose peer completed the handshake (acceptQFull) and that timed out waiting for room is
// reset: its peer believes it established and would otherwise wait on it forever.
func (e *Endpoint) leaveListener(err error) {
	l := e.listener
	if l == nil {
		return
	}
	l.pending--
	e.listener = nil
	if e.peerAcked && err == ErrTimedOut {
		e.pr.queue(e.route, &header.TCPFields{SrcPort: e.local.Port(), DstPort: e.remote.Port(),
			Seq: e.sndMax, Flags: header.TCPFlagRST}, nil)
	}
}

// established is called when a passive connection completes: it joins its listener's
// accept queue.
func (e *Endpoint) established() {
	if l := e.listener; l != nil {
		l.pending--
		e.listener = nil
		if l.state == Listen {
			l.acceptQ = append(l.acceptQ, e)
			wake(l.acceptCh)
		} else {
			e.abort()
		}
	}
	select {
	case <-e.connCh:
	default:
		close(e.connCh)
	}
	e.wakeAll()
}

// Accept waits for an established connection. It fails with os.ErrDeadlineExceeded after
// the read deadline and ErrClosed once the listener is closed.
func (l *Endpoint) Accept() (*Endpoint, error) {
	if l.rd.Passed() && !l.closedByUser() { // a deadline in the past fails even with connections queued
		return nil, os.ErrDeadlineExceeded
	}
	pr := l.pr
	for {
		pr.mu.Lock()
		if l.state != Listen {
			pr.mu.Unlock()
			wake(l.acceptCh) // the next goroutine in Accept (one wake per change) ends too
			return nil, ErrClosed
		}
		if len(l.acceptQ) > 0 {
			c := l.acceptQ[0]
			l.acceptQ[0] = nil
			l.acceptQ = l.acceptQ[1:]
			more := len(l.acceptQ) > 0
			pr.mu.Unlock()
			if more {
				wake(l.acceptCh)
			}
			return c, nil
		}
		pr.mu.Unlock()
		select {
		case <-l.acceptCh:
		case <-l.rd.Wait():
			return nil, os.ErrDeadlineExceeded
		}
	}
}

// closeListener stops listening and resets the connections not yet accepted.
func (l *Endpoint) closeListener() {
	pr := l.pr
	ls := pr.listeners[l.local.Port()]
	for i, o := range ls {
		if o == l {
			pr.listeners[l.local.Port()] = append(ls[:i:i], ls[i+1:]...)
			break
		}
	}
	if len(pr.listeners[l.local.Port()]) == 0 {
		delete(pr.listeners, l.local.Port())
	}
	for _, c := range l.acceptQ {
		c.userClosed = true // never accepted: nobody will read or close it
		c.abort()
	}
	l.acceptQ = nil
	for _, c := range pr.conns {
		if c.listener == l {
			c.userClosed = true
			c.abort()
		}
	}
	l.teardown(ErrClosed)
}
