package tcp

import (
	"context"
	"net/netip"
	"os"

	"goxen/netstack/header"
	"goxen/netstack/stack"
)

// Connect opens a connection from local (unspecified address: the route's source; port 0:
// ephemeral) to remote and waits for the handshake, until ctx ends (which aborts it).
// It fails with ErrConnRefused on a RST and ErrTimedOut after Options.SynRetries.
func (pr *Protocol) Connect(ctx context.Context, local, remote netip.AddrPort, nic stack.NICID) (*Endpoint, error) {
	remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
	r, err := pr.s.FindRoute(remote.Addr(), nic)
	if err != nil {
		return nil, err
	}
	if r.Broadcast || remote.Addr().IsMulticast() || remote.Port() == 0 {
		return nil, stack.ErrNoRoute
	}
	// A zone (fe80::1%eth0) chose the NIC; segments carry no zone, so the tuple has none.
	remote = netip.AddrPortFrom(remote.Addr().WithZone(""), remote.Port())
	pr.learnMTUs()
	pr.mu.Lock()
	src := local.Addr().Unmap()
	if !src.IsValid() || src.IsUnspecified() {
		src = r.Src
	}
	var e *Endpoint
	port, err := pr.allocPort(local.Port(), func(p uint16) bool {
		return pr.conns[tuple{netip.AddrPortFrom(src, p), remote}] == nil
	})
	if err == nil && local.Port() == 0 && pr.conns[tuple{netip.AddrPortFrom(src, port), remote}] != nil {
		pr.releasePort(port)
		err = ErrPortInUse
	}
	if err == nil && pr.full() {
		pr.releasePort(port)
		pr.stats.ConnsRefused++
		err = ErrNoBufs
	}
	if err != nil {
		pr.mu.Unlock()
		return nil, err
	}
	e = pr.newEndpoint()
	e.state, e.local, e.remote, e.nic, e.portHeld = SynSent, netip.AddrPortFrom(src, port), remote, nic, true
	e.route = stack.PacketInfo{NIC: r.NIC, Src: src, Dst: remote.Addr()}
	e.iss = pr.isn.isn(e.local, e.remote)
	e.sndUna, e.sndNxt, e.sndMax = e.iss, e.iss, e.iss
	e.rcvScale = wantScale(e.rcvBufMax)
	e.mss = 536
	pr.conns[tuple{e.local, e.remote}] = e
	e.inConns = true
	pr.countLive(e)
	pr.stats.ActiveOpens++
	e.sendSYN()
	pr.unlock()

	select {
	case <-e.connCh:
	case <-ctx.Done():
		pr.mu.Lock()
		e.abort()
		pr.unlock()
		if ctx.Err() == context.DeadlineExceeded {
			return nil, os.ErrDeadlineExceeded
		}
		return nil, ctx.Err()
	}
	pr.mu.Lock()
	defer pr.unlock()
	if e.state == Closed || e.state == SynSent {
		err := e.err
		if err == nil {
			err = ErrConnRefused
		}
		return nil, err
	}
	return e, nil
}

// handleSynSent processes a segment in SYN-SENT (RFC 9293 3.10.7.3).
func (e *Endpoint) handleSynSent(s *segment) {
	pr := e.pr
	ackOK := false
	if s.has(header.TCPFlagACK) {
		if seqLE(s.ack, e.iss) || seqGT(s.ack, e.sndMax) {
			pr.replyRST(s)
			return
		}
		ackOK = true
	}
	if s.has(header.TCPFlagRST) {
		if ackOK {
			pr.stats.AttemptFails++
			e.teardown(ErrConnRefused)
		}
		return
	}
	if !s.has(header.TCPFlagSYN) {
		return
	}
	e.irs, e.rcvNxt = s.seq, s.seq+1
	e.rcvAdv, e.lastAckSent = e.rcvNxt, e.rcvNxt
	wantRcv := e.rcvScale
	e.synOptions(s)
	if e.wsOK {
		e.rcvScale = wantRcv
	}
	if !ackOK { // simultaneous open
		e.state = SynRcvd
		e.sndWnd = uint32(s.wnd)
		e.sndWl1 = s.seq
		e.sendSYN()
		return
	}
	e.sndUna = s.ack
	e.rttSampleOnHandshake()
	e.state = Established
	e.sndWnd = uint32(s.wnd) // unscaled in a SYN
	e.maxSndWnd = e.sndWnd
	e.sndWl1, e.sndWl2 = s.seq, s.ack
	e.cancelRTO()
	e.sendACK()
	e.established()
	e.output()
}

// abort resets the connection: a RST to the peer when synchronized, then CLOSED.
func (e *Endpoint) abort() {
	switch e.state {
	case SynRcvd, Established, FinWait1, FinWait2, CloseWait:
		e.pr.queue(e.route, &header.TCPFields{SrcPort: e.local.Port(), DstPort: e.remote.Port(),
			Seq: e.sndMax, Flags: header.TCPFlagRST}, nil)
	}
	e.teardown(ErrConnReset)
}
