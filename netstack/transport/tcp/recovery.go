package tcp

import "goxen/netstack/header"

// Loss recovery: fast retransmit and fast recovery after DupThresh duplicate ACKs. With a
// peer that permits SACK, RFC 6675 (a scoreboard of SACKed ranges, IsLost, pipe and
// NextSeg, below); without, NewReno (RFC 6582) with partial acknowledgements. The window
// reduction comes from the congestion control (cc.go).

const dupThresh = 3 // RFC 5681 3.2, RFC 6675 2

// onAck runs loss recovery and window growth for an ACK of acked new bytes up to ack.
func (e *Endpoint) onAck(acked int, ack uint32) {
	e.dupAcks = 0
	if e.inRecovery {
		if seqGE(ack, e.recover) { // full acknowledgement: leave recovery
			e.inRecovery = false
			e.rackRecoveryEnded()
			if e.sackOK {
				e.cwnd = e.ssthresh
			} else {
				flight := int(e.sndMax - e.sndUna)
				e.cwnd = min(e.ssthresh, max(flight, e.mss)+e.mss) // RFC 6582 3.2 step 3
			}
			return
		}
		if e.sackOK {
			return // output sends what NextSeg picks
		}
		// NewReno partial acknowledgement: the next hole is lost too; resend it at once
		// and deflate by the amount acked (RFC 6582 3.2 step 3).
		e.retransmitFirst()
		e.cwnd = max(e.cwnd-acked+e.mss, e.mss)
		return
	}
	e.growCwnd(acked)
}

// onDupAck counts duplicate ACKs (for SACK: ACKs bringing new SACK information); the
// third starts fast retransmit unless it is about data sent before the last recovery ended
// (RFC 6582 3.2 step 2; RFC 6675 5 and 5.1).
func (e *Endpoint) onDupAck() {
	e.dupAcks++
	if e.inRecovery {
		if !e.sackOK {
			e.cwnd += e.mss // NewReno inflation: a segment has left the network
		}
		return
	}
	e.maybeEnterRecovery()
}

// maybeEnterRecovery starts fast recovery on DupThresh duplicate ACKs or, with SACK, once
// the first unacknowledged segment counts as lost (RFC 6675 5 step 4).
func (e *Endpoint) maybeEnterRecovery() {
	if e.inRecovery || e.sndUna == e.sndMax || seqLT(e.sndUna, e.recover) {
		return
	}
	if e.rackOn() {
		if !e.rackLostAny() { // RACK alone decides (RFC 8985 6.3), no DupThresh
			return
		}
	} else if e.dupAcks < dupThresh && !(e.sackOK && e.isLost(e.sndUna)) {
		return
	}
	e.congestionEvent()
	e.recover = e.sndMax
	e.inRecovery = true
	e.pr.stats.FastRetrans++
	if !e.sackOK {
		e.retransmitFirst()
		e.cwnd = e.ssthresh + dupThresh*e.mss
		return
	}
	// RFC 6675 5 steps 4.2-4.4: cwnd = ssthresh, resend the first segment, then let
	// NextSeg fill what pipe leaves of cwnd.
	e.pr.stats.SACKRecoveries++
	e.cwnd = e.ssthresh
	e.highRxt = e.sndUna
	e.rttActive = false
	if e.rackOn() { // what RACK marked lost goes first (sackOutput), not SND.UNA as such
		e.armRTO()
		e.sackOutput()
		return
	}
	if n := e.resend(e.sndUna, e.mss); n > 0 {
		e.highRxt = e.sndUna + n
		e.pr.stats.SACKRetrans++
		e.rxtUna, e.rxtSeq, e.rxtMark = true, e.sndUna, e.sndMax
	}
	e.armRTO()
	e.sackOutput()
}

// onTimeoutCC collapses the window after an RTO (RFC 5681 3.1; RFC 9438 4.8) and ends
// recovery; the next recovery waits until everything sent so far is acknowledged (RFC 6582
// 4, RFC 6675 5.1).
func (e *Endpoint) onTimeoutCC() {
	e.congestionEvent()
	e.cwnd = e.mss
	e.inRecovery = false
	e.dupAcks = 0
	e.recover = e.sndMax
	if e.retries > 1 {
		e.sb = nil // the peer may have reneged (RFC 2018 8): stop trusting the scoreboard
	}
}

// retransmitFirst resends the segment at SND.UNA (data, or the FIN).
func (e *Endpoint) retransmitFirst() {
	e.rttActive = false
	e.resend(e.sndUna, e.mss)
	e.armRTO()
}

// resend sends up to n bytes of already-sent data from seq (or the FIN at seq) and returns
// the sequence space sent.
func (e *Endpoint) resend(seq uint32, n int) uint32 {
	off := int(seq - e.sndUna)
	if k := min(n, e.sndBuf.Len()-off); k > 0 {
		e.pr.stats.RetransSegs++
		e.sendQueued(seq, 0, off, k)
		return uint32(k)
	}
	if e.finQueued && seq == e.finSeq {
		e.pr.stats.RetransSegs++
		e.send(seq, header.TCPFlagFIN, nil)
		return 1
	}
	return 0
}

// The SACK scoreboard (RFC 6675 3): e.sb holds the SACKed ranges above SND.UNA, sorted and
// disjoint.

// sbUpdate merges an ACK's SACK blocks into the scoreboard and reports whether it learned
// of newly SACKed bytes. Blocks at or below SND.UNA (D-SACK, RFC 2883) or beyond SND.MAX
// are ignored.
func (e *Endpoint) sbUpdate(blocks []header.TCPSACKBlock) bool {
	changed := false
	for _, b := range blocks {
		if !seqLT(b.Start, b.End) || seqLE(b.End, e.sndUna) || seqGT(b.End, e.sndMax) {
			continue
		}
		if seqLT(b.Start, e.sndUna) {
			b.Start = e.sndUna
		}
		changed = e.sbInsert(b) || changed
	}
	if changed {
		e.pr.stats.SACKBlocksRecv++
	}
	return changed
}

// maxScoreboard bounds the SACK scoreboard. A peer that SACKs scattered bytes could make it
// as long as the data in flight, and every update linear in that; past the bound the highest
// blocks are forgotten: their data counts as not SACKed and may be sent again, which is safe.
const maxScoreboard = 128

// sbInsert merges b into the scoreboard in place (sorted, disjoint, touching blocks merged)
// and reports whether it told anything new.
func (e *Endpoint) sbInsert(b header.TCPSACKBlock) bool {
	sb := e.sb
	i := 0
	for i < len(sb) && seqLT(sb[i].End, b.Start) {
		i++
	}
	j := i
	for j < len(sb) && seqLE(sb[j].Start, b.End) {
		j++
	}
	if i < j {
		m := header.TCPSACKBlock{Start: sb[i].Start, End: sb[j-1].End}
		if seqLT(b.Start, m.Start) {
			m.Start = b.Start
		}
		if seqGT(b.End, m.End) {
			m.End = b.End
		}
		if j == i+1 && m == sb[i] {
			return false // already covered
		}
		sb[i] = m
		sb = append(sb[:i+1], sb[j:]...)
	} else {
		sb = append(sb, header.TCPSACKBlock{})
		copy(sb[i+1:], sb[i:])
		sb[i] = b
	}
	if len(sb) > maxScoreboard {
		sb = sb[:maxScoreboard]
	}
	e.sb = sb
	return true
}

// sbTrim drops what SND.UNA has passed.
func (e *Endpoint) sbTrim() {
	i := 0
	for i < len(e.sb) && seqLE(e.sb[i].End, e.sndUna) {
		i++
	}
	e.sb = e.sb[i:]
	if len(e.sb) > 0 && seqLT(e.sb[0].Start, e.sndUna) {
		e.sb[0].Start = e.sndUna
	}
	if len(e.sb) == 0 {
		e.sb = nil
	}
}

// lostEdge is the sequence number below which every unSACKed byte counts as lost: IsLost
// (RFC 6675 4) holds for a sequence number with DupThresh discontiguous SACKed ranges, or
// more than (DupThresh-1)*SMSS SACKed bytes, above it.
func (e *Endpoint) lostEdge() uint32 {
	bytes := 0
	for i := len(e.sb) - 1; i >= 0; i-- {
		bytes += int(e.sb[i].End - e.sb[i].Start)
		if len(e.sb)-i >= dupThresh || bytes > (dupThresh-1)*e.mss {
			return e.sb[i].Start
		}
	}
	return e.sndUna
}

func (e *Endpoint) isLost(seq uint32) bool {
	if e.rackOn() {
		for _, x := range e.rack.recs {
			if seqLE(x.start, seq) && seqLT(seq, x.end) {
				return x.lost && !x.delivered
			}
		}
		return false
	}
	if !seqLT(seq, e.lostEdge()) {
		return false
	}
	for _, x := range e.sb {
		if seqLE(x.Start, seq) && seqLT(seq, x.End) {
			return false
		}
	}
	return true
}

// holes lists the unSACKed ranges between SND.UNA and SND.MAX.
func (e *Endpoint) holes() [][2]uint32 {
	var hs [][2]uint32
	a := e.sndUna
	for _, x := range e.sb {
		if seqLT(a, x.Start) {
			hs = append(hs, [2]uint32{a, x.Start})
		}
		if seqGT(x.End, a) {
			a = x.End
		}
	}
	if seqLT(a, e.sndMax) {
		hs = append(hs, [2]uint32{a, e.sndMax})
	}
	return hs
}

// pipe estimates the bytes in flight (RFC 6675 4 SetPipe): every unSACKed byte not
// considered lost, plus every one retransmitted (below HighRxt).
func (e *Endpoint) pipe() int {
	if e.rackOn() {
		return e.rackPipe()
	}
	edge := e.lostEdge()
	p := 0
	for _, h := range e.holes() {
		p += span(h[0], h[1], edge, e.sndMax)
		p += span(h[0], h[1], e.sndUna, e.highRxt)
	}
	return p
}

// span is the size of [a,b) ∩ [lo,hi).
func span(a, b, lo, hi uint32) int {
	if seqLT(a, lo) {
		a = lo
	}
	if seqGT(b, hi) {
		b = hi
	}
	if seqLT(a, b) {
		return int(b - a)
	}
	return 0
}

// nextSeg picks what to send next in SACK recovery (RFC 6675 4 NextSeg): the first
// unSACKed lost bytes above HighRxt (rule 1); else new data (rule 2, signalled by ok and
// n == 0); else unSACKed bytes above HighRxt not yet deemed lost (rule 3). It returns the
// sequence number and the most bytes to send.
func (e *Endpoint) nextSeg() (seq uint32, n int, ok bool) {
	if e.rackOn() {
		// RACK: what it marked lost (rule 1, as many segments at once as the device
		// takes), else new data (rule 2). No rule 3: unSACKed bytes not yet lost are left
		// to RACK's timer and the tail loss probe.
		if s, k, lost := e.rackLostSeg(); lost {
			return s, min(k, e.segLimit()), true
		}
		unsent := e.sndBuf.Len() - int(e.sndMax-e.sndUna)
		if unsent > 0 || (e.finQueued && e.sndMax == e.finSeq) {
			return e.sndMax, 0, true
		}
		return 0, 0, false
	}
	edge := e.lostEdge()
	hs := e.holes()
	for _, h := range hs { // rule 1
		s := h[0]
		if seqLT(s, e.highRxt) {
			s = e.highRxt
		}
		if seqLT(s, h[1]) && seqLT(s, edge) {
			return s, min(e.mss, int(h[1]-s)), true
		}
	}
	unsent := e.sndBuf.Len() - int(e.sndMax-e.sndUna)
	if unsent > 0 || (e.finQueued && e.sndMax == e.finSeq) { // rule 2
		return e.sndMax, 0, true
	}
	for _, h := range hs { // rule 3
		s := h[0]
		if seqLT(s, e.highRxt) {
			s = e.highRxt
		}
		if seqLT(s, h[1]) {
			return s, min(e.mss, int(h[1]-s)), true
		}
	}
	return 0, 0, false
}

// sackOutput sends while cwnd - pipe allows a full segment (RFC 6675 5 step 4.4 and
// later ACKs in recovery).
func (e *Endpoint) sackOutput() {
	pipe := e.pipe() // kept up to date below: counting it is linear in what is in flight
	for e.cwnd-pipe >= e.mss {
		seq, n, ok := e.nextSeg()
		if !ok {
			break
		}
		// Whole segments, as many as one GSO packet holds.
		allowed := min(e.segLimit(), (e.cwnd-pipe)/e.mss*e.mss)
		if n == 0 { // new data, within the peer's window
			off := int(e.sndMax - e.sndUna)
			k := min(allowed, e.sndBuf.Len()-off, int(e.sndUna+e.sndWnd-e.sndMax))
			if k > 0 {
				e.sendQueued(e.sndMax, 0, off, k)
				e.sndMax += uint32(k)
			} else if e.finQueued && e.sndMax == e.finSeq && e.sndBuf.Len() == off {
				e.send(e.sndMax, header.TCPFlagFIN, nil)
				e.sndMax++
				k = 1
			} else {
				break
			}
			e.sndNxt = e.sndMax
			pipe += k
		} else {
			k := e.resend(seq, min(n, allowed))
			if k == 0 {
				break
			}
			pipe += int(k)
			e.highRxt = seq + k
			e.pr.stats.SACKRetrans++
			if seq == e.sndUna {
				e.rxtUna, e.rxtSeq, e.rxtMark = true, seq, e.sndMax
			}
		}
		if !e.rtoArmed {
			e.armRTO()
		}
	}
}

// lostRetransmit checks, in SACK recovery, whether the retransmission of the segment at
// SND.UNA was lost too: more than (DupThresh-1)*SMSS bytes sent after it have been SACKed
// while it is still unacknowledged (the time-ordering idea of RACK, RFC 8985, applied to
// that one segment). RFC 6675 alone leaves this loss to the RTO. If so, HighRxt goes back to
// SND.UNA, so NextSeg's rule 1 resends it (and any other lost bytes) within this recovery.
func (e *Endpoint) lostRetransmit() {
	if !e.inRecovery || !e.sackOK || e.rackOn() || !e.rxtUna || e.sndUna != e.rxtSeq {
		return
	}
	above := 0
	for _, x := range e.sb {
		above += span(x.Start, x.End, e.rxtMark, e.sndMax)
	}
	if above > (dupThresh-1)*e.mss {
		e.rxtUna = false
		e.highRxt = e.sndUna
		e.pr.stats.LostRetransmits++
	}
}
