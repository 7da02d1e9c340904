package tcp

// NewReno congestion control: slow start and congestion avoidance (RFC 5681), fast
// retransmit and fast recovery with partial acknowledgements (RFC 6582).

// onAck grows the congestion window for acked new bytes, or advances fast recovery.
func (e *Endpoint) onAck(acked int, ack uint32) {
	e.dupAcks = 0
	if e.inRecovery {
		if seqGE(ack, e.recover) { // full acknowledgement: leave recovery, deflate
			e.inRecovery = false
			flight := int(e.sndMax - e.sndUna)
			e.cwnd = min(e.ssthresh, max(flight, e.mss)+e.mss)
			return
		}
		// Partial acknowledgement: the next hole is lost too; resend it at once.
		e.retransmitFirst()
		e.cwnd = max(e.cwnd-acked+e.mss, e.mss)
		return
	}
	if e.cwnd < e.ssthresh {
		e.cwnd += min(acked, e.mss)
	} else {
		e.cwnd += max(1, e.mss*e.mss/e.cwnd)
	}
}

// onDupAck counts duplicate ACKs; the third starts fast retransmit unless it is about
// data sent before the last recovery ended (RFC 6582 3.2 step 2).
func (e *Endpoint) onDupAck() {
	e.dupAcks++
	if e.inRecovery {
		e.cwnd += e.mss // inflate: a segment has left the network
		return
	}
	if e.dupAcks != 3 || seqLT(e.sndUna, e.recover) {
		return
	}
	flight := int(e.sndMax - e.sndUna)
	e.ssthresh = max(flight/2, 2*e.mss)
	e.recover = e.sndMax
	e.inRecovery = true
	e.pr.stats.FastRetrans++
	e.retransmitFirst()
	e.cwnd = e.ssthresh + 3*e.mss
}

// onTimeoutCC collapses the window after an RTO (RFC 5681 3.1) and ends recovery.
func (e *Endpoint) onTimeoutCC() {
	flight := int(e.sndMax - e.sndUna)
	e.ssthresh = max(flight/2, 2*e.mss)
	e.cwnd = e.mss
	e.inRecovery = false
	e.dupAcks = 0
	e.recover = e.sndMax
}

// retransmitFirst resends the segment at SND.UNA (data, or the FIN).
func (e *Endpoint) retransmitFirst() {
	e.rttActive = false
	e.pr.stats.RetransSegs++
	if n := min(e.mss, len(e.sndBuf)); n > 0 {
		e.send(e.sndUna, 0, e.sndBuf[:n])
	} else if e.finQueued {
		e.send(e.sndUna, 0x01, nil)
	}
	e.armRTO()
}
