package tcp

import (
	"time"
)

// Tail loss probe (RFC 8985 7): with data in flight outside recovery, the retransmission
// timer first runs for a probe timeout of about two round trips; when it fires, one segment
// goes out (new data if the peer's window allows, else the last segment sent again) so that
// the ACK or SACK it draws starts fast recovery instead of the sender waiting out the RTO
// (200 ms at least). It matters most when the ACKs of a small window are lost. After a
// probe the full RTO runs; the probe is not repeated until new data is acknowledged.
//
// A probe that sent the last segment again may have repaired a loss the congestion control
// never saw, or may have duplicated a segment that had arrived (its ACK was lost). Which one
// the ACKs tell (7.4, as Linux's tcp_process_tlp_ack): a D-SACK for the probe, or a pure
// duplicate ACK of its end, means both copies arrived; an ACK beyond the probe without one
// means the probe was needed, and the window is cut as for a fast recovery.

const (
	minPTO    = 10 * time.Millisecond
	wcDelAckT = 200 * time.Millisecond // worst-case delayed ACK for a lone segment (7.2)
)

// pto returns the probe timeout, if a probe is due to be scheduled.
func (e *Endpoint) pto() (time.Duration, bool) {
	switch e.state {
	case Established, CloseWait, FinWait1, LastAck, Closing:
	default:
		return 0, false
	}
	if e.inRecovery || e.tlpOut || !e.rttSampled || e.retries > 0 || e.sndUna == e.sndMax || e.pr.opts.NoTLP {
		return 0, false
	}
	d := max(2*e.srtt, minPTO)
	if int(e.sndMax-e.sndUna) <= e.mss {
		d += wcDelAckT
	}
	return min(d, e.rto), true
}

// onPTO sends the probe (RFC 8985 7.3) and arms the RTO.
func (e *Endpoint) onPTO() {
	if e.sndUna == e.sndMax || !e.canSend() {
		return
	}
	e.tlpOut = true
	e.pr.stats.TLPProbes++
	off := int(e.sndMax - e.sndUna)
	if n := min(e.mss, e.sndBuf.Len()-off, int(e.sndUna+e.sndWnd-e.sndMax)); n > 0 && e.sndNxt == e.sndMax {
		e.sendQueued(e.sndMax, 0, off, n)
		e.sndMax += uint32(n)
		e.sndNxt = e.sndMax
	} else {
		// The last segment again. A loss it repairs would go unnoticed by the congestion
		// control, so the window is reduced as for a loss (more cautious than 7.4's
		// detection of such repairs).
		seq := e.sndMax - uint32(min(e.mss, off))
		if e.finQueued && e.sndMax == e.finSeq+1 {
			seq = e.finSeq
		}
		e.rttActive = false
		if e.resend(seq, int(e.sndMax-seq)) > 0 {
			e.tlpRxt, e.tlpStart, e.tlpEnd = true, seq, e.sndMax
		}
	}
	e.tlpArmed = false
	e.armRTOFor(e.rto)
}

// tlpVerdict looks at an ACK while a probe's retransmission awaits its verdict (7.4.3). dup:
// the ACK is a pure duplicate (it acknowledges nothing new and carries nothing).
func (e *Endpoint) tlpVerdict(s *segment, dup bool) {
	if e.inRecovery {
		e.tlpRxt = false // recovery's own response covers it
		return
	}
	if seqLT(s.ack, e.tlpEnd) {
		return
	}
	if e.sackOK && len(s.opts.SACK) > 0 && isDSACK(s.opts.SACK, s.ack) {
		if b := s.opts.SACK[0]; seqLE(e.tlpStart, b.Start) && seqLE(b.End, e.tlpEnd) {
			e.tlpRxt = false // the probe was a duplicate: nothing was lost
			return
		}
	}
	switch {
	case seqGT(s.ack, e.tlpEnd):
		e.tlpRxt = false
		e.pr.stats.TLPRepairs++
		e.congestionEvent()
		e.cwnd = max(min(e.cwnd, e.ssthresh), 2*e.mss)
	case dup:
		e.tlpRxt = false // both copies arrived; the receiver acknowledged the second again
	}
}
