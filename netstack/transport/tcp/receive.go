package tcp

import (
	"goxen/netstack/header"
)

// maxOOO bounds the out-of-order segments held per connection.
const maxOOO = 256

// handleSegment processes a segment for a connection (RFC 9293 3.10.7.3, 3.10.7.4).
func (e *Endpoint) handleSegment(s *segment) {
	pr := e.pr
	switch e.state {
	case SynSent:
		e.handleSynSent(s)
		return
	case Closed:
		pr.replyRST(s)
		return
	}

	e.heardFrom()

	// PAWS (RFC 7323 5.3 R1) before the window test: an old duplicate is dropped and
	// acknowledged like any unacceptable segment.
	if e.paws(s) {
		pr.stats.PAWSDrops++
		e.noteOldDup(s)
		e.sendACK()
		return
	}

	// 1. Sequence acceptability.
	wnd := e.rcvAdv - e.rcvNxt
	if seqLT(e.rcvAdv, e.rcvNxt) || e.state == SynRcvd {
		wnd = uint32(e.rcvWindow())
	}
	if !e.acceptable(s, wnd) {
		pr.stats.OutOfWindow++
		if !s.has(header.TCPFlagRST) {
			if e.state == TimeWait && s.has(header.TCPFlagSYN) {
				return
			}
			e.noteOldDup(s)
			e.sendACK()
		}
		return
	}
	e.updateTSRecent(s)

	// 2. RST (RFC 5961 3.2): only an exact match resets; anything else in the window gets a
	// challenge ACK.
	if s.has(header.TCPFlagRST) {
		if s.seq != e.rcvNxt {
			pr.stats.ChallengeACKs++
			e.sendACK()
			return
		}
		switch e.state {
		case SynRcvd:
			if e.listener != nil {
				e.teardown(ErrConnRefused)
				return
			}
			e.teardown(ErrConnRefused)
		case Closing, LastAck, TimeWait:
			e.teardown(nil)
		default:
			pr.stats.EstabResets++
			e.teardown(ErrConnReset)
		}
		return
	}

	// 4. SYN in a synchronized state (RFC 5961 4.2): challenge ACK. A retransmitted SYN in
	// SYN-RECEIVED gets the SYN-ACK again.
	if s.has(header.TCPFlagSYN) {
		if e.state == SynRcvd && s.seq == e.irs {
			e.sendSYN()
			return
		}
		pr.stats.ChallengeACKs++
		e.sendACK()
		return
	}

	// 5. ACK.
	if !s.has(header.TCPFlagACK) {
		return
	}
	if e.state == SynRcvd {
		if seqLE(s.ack, e.sndUna) || seqGT(s.ack, e.sndMax) {
			pr.replyRST(s)
			return
		}
		if e.acceptQFull() {
			return // dropped: the peer's retransmissions and ours retry it (accept.go)
		}
		e.state = Established
		e.sndUna = s.ack
		e.rttSampleOnHandshake()
		e.cancelRTO()
		e.sndWnd = uint32(s.wnd) << e.sndScale
		e.maxSndWnd = e.sndWnd
		e.sndWl1, e.sndWl2 = s.seq, s.ack
		e.established()
		if e.state == Closed {
			return
		}
	}
	if !e.processAck(s) {
		return
	}

	// 7. Data.
	switch e.state {
	case Established, FinWait1, FinWait2:
		e.receiveData(s)
	case CloseWait, Closing, LastAck:
		// The peer already sent its FIN: nothing more may arrive.
	case TimeWait:
		if s.has(header.TCPFlagFIN) {
			e.sendACK()
			e.armTimeWait()
		}
	}
}

// noteOldDup records the data of a segment dropped as old (below RCV.NXT) as a D-SACK.
func (e *Endpoint) noteOldDup(s *segment) {
	if end := s.seq + uint32(len(s.data)); len(s.data) > 0 && seqLT(s.seq, e.rcvNxt) {
		if seqGT(end, e.rcvNxt) {
			end = e.rcvNxt
		}
		e.noteDup(s.seq, end)
	}
}

// acceptable is RFC 9293 3.10.7.4's four-case test.
func (e *Endpoint) acceptable(s *segment, wnd uint32) bool {
	n := s.seqLen()
	switch {
	case n == 0 && wnd == 0:
		return s.seq == e.rcvNxt
	case n == 0:
		return seqLE(e.rcvNxt, s.seq) && seqLT(s.seq, e.rcvNxt+wnd)
	case wnd == 0:
		return false
	default:
		end := s.seq + n - 1
		return (seqLE(e.rcvNxt, s.seq) && seqLT(s.seq, e.rcvNxt+wnd)) ||
			(seqLE(e.rcvNxt, end) && seqLT(end, e.rcvNxt+wnd))
	}
}

// processAck handles SEG.ACK in a synchronized state and reports whether processing
// continues.
func (e *Endpoint) processAck(s *segment) bool {
	pr := e.pr
	if seqGT(s.ack, e.sndMax) {
		// Acknowledges what we never sent (RFC 5961 5.2): challenge ACK, drop.
		pr.stats.ChallengeACKs++
		e.sendACK()
		return false
	}
	if seqLT(s.ack, e.sndUna-e.maxSndWnd) && e.maxSndWnd > 0 {
		// Too old to be a real duplicate (RFC 5961 5.2).
		pr.stats.ChallengeACKs++
		e.sendACK()
		return false
	}
	wnd := uint32(s.wnd) << e.sndScale
	dup := s.ack == e.sndUna && len(s.data) == 0 && !s.has(header.TCPFlagFIN) &&
		wnd == e.sndWnd && e.sndMax != e.sndUna
	sacked, rack := false, e.rackOn()
	var now int64
	if rack {
		now = monoNow()
	}
	if e.tlpRxt {
		e.tlpVerdict(s, s.ack == e.sndUna && len(s.data) == 0 && !s.has(header.TCPFlagFIN) && len(s.opts.SACK) == 0)
	}
	if e.sackOK && len(s.opts.SACK) > 0 {
		if rack && isDSACK(s.opts.SACK, s.ack) {
			e.rackDSACK()
		}
		if rack {
			e.rackSacked(s.opts.SACK, now) // before the scoreboard: it splits what is new
		}
		sacked = e.sbUpdate(s.opts.SACK)
		// An ACK with new SACK information counts as a duplicate (RFC 6675 2).
		dup = dup || (sacked && s.ack == e.sndUna && e.sndMax != e.sndUna)
	}
	advanced := seqGT(s.ack, e.sndUna)
	if advanced {
		if rack {
			e.rackAcked(s.ack, now)
		}
		e.ackNew(s)
		if sacked {
			e.maybeEnterRecovery()
		}
	} else if dup {
		e.onDupAck()
	}
	if rack && e.rackOn() && (advanced || sacked) {
		e.rackCheck(now)
	} else if sacked {
		e.lostRetransmit()
	}
	// Window update (RFC 9293 3.10.7.4).
	if seqLT(e.sndWl1, s.seq) || (e.sndWl1 == s.seq && seqLE(e.sndWl2, s.ack)) {
		opened := e.sndWnd == 0 && wnd > 0
		e.sndWnd = wnd
		e.maxSndWnd = max(e.maxSndWnd, wnd)
		e.sndWl1, e.sndWl2 = s.seq, s.ack
		if opened {
			e.retries = 0
		}
	}
	if e.sndWnd == 0 {
		e.retries = 0 // the peer answers our probes: keep probing (RFC 9293 3.8.6.1)
	}
	finAcked := e.finQueued && e.sndUna == e.finSeq+1
	switch e.state {
	case FinWait1:
		if finAcked {
			e.state = FinWait2
			if e.userClosed {
				e.armFinWait2()
			}
		}
	case Closing:
		if finAcked {
			e.enterTimeWait()
			return false
		}
	case LastAck:
		if finAcked {
			e.teardown(nil)
			return false
		}
	}
	e.output()
	return true
}

// ackNew advances sndUna to ack: drops acknowledged bytes, samples the RTT, runs
// congestion control and restarts or stops the retransmission timer.
func (e *Endpoint) ackNew(s *segment) {
	ack := s.ack
	acked := int(ack - e.sndUna)
	dataAcked := min(acked, e.sndBuf.Len())
	e.sndBuf.Consume(dataAcked, e.pr.s.Budget())
	e.sndUna = ack
	if seqLT(e.sndNxt, ack) {
		e.sndNxt = ack
	}
	e.retries = 0
	e.tlpOut = false
	e.sbTrim()
	if e.rttActive && seqGE(ack, e.rttSeq) {
		e.rttActive = false
		r := timeSince(e.rttStart)
		e.updateRTO(r)
		e.rackRTT(r)
	} else if r, ok := e.tsRTT(s); ok {
		// RTTM (RFC 7323 4.1): every ACK of new data, retransmitted or not, echoes
		// the TSval of the segment that triggered it.
		e.pr.stats.TSRTTSamples++
		e.updateRTO(r)
	}
	e.onAck(acked, ack)
	if e.sndUna == e.sndMax {
		e.cancelRTO()
	} else {
		e.restartRTO()
	}
	e.signal(e.sndCh)
}

// receiveData takes the segment's data and FIN (RFC 9293 3.10.7.4, seventh and eighth).
func (e *Endpoint) receiveData(s *segment) {
	data, seq, fin := s.data, s.seq, s.has(header.TCPFlagFIN)
	if len(data) == 0 && !fin {
		return
	}
	// Trim what we already have.
	if seqLT(seq, e.rcvNxt) {
		d := int(e.rcvNxt - seq)
		if d > len(data) {
			d = len(data)
		}
		e.noteDup(seq, seq+uint32(d))
		data, seq = data[d:], seq+uint32(d)
	}
	if e.userClosed && len(data) > 0 {
		// New data after Close, which nobody will read: reset, so that the peer learns it
		// was lost (RFC 1122 4.2.2.13; Linux's TCPAbortOnData).
		e.abort()
		return
	}
	// Trim beyond the window.
	edge := e.rcvNxt + uint32(e.rcvWindow())
	if seqGT(e.rcvAdv, edge) {
		edge = e.rcvAdv
	}
	if room := int(edge - seq); seqGE(seq, edge) {
		data, fin = nil, false
	} else if len(data) > room {
		data, fin = data[:room], false
	}
	if seq != e.rcvNxt {
		e.queueOOO(seq, data, fin)
		e.updateSACKList(seq, len(data) > 0)
		e.sendACK() // immediate duplicate ACK (RFC 5681 4.2), with SACK blocks (RFC 2018 4)
		return
	}
	e.deliver(data, fin)
	// Pull in the out-of-order segments that now fit.
	for len(e.ooo) > 0 && !e.finRcvd {
		o := e.ooo[0]
		if seqGT(o.seq, e.rcvNxt) {
			break
		}
		e.ooo = e.ooo[1:]
		e.oooBytes -= len(o.data)
		e.pr.s.Budget().Release(len(o.data))
		end := o.seq + uint32(len(o.data))
		if seqLT(end, e.rcvNxt) || (end == e.rcvNxt && !o.fin) {
			continue // wholly old
		}
		e.deliver(o.data[e.rcvNxt-o.seq:], o.fin)
	}
	if e.sackList != nil {
		e.updateSACKList(0, false)
	}
	if e.finRcvd || len(e.ooo) > 0 || len(s.data) == 0 || e.dsackOn {
		e.sendACK()
		return
	}
	// Delayed ACK (RFC 9293 3.8.6.3, RFC 5681 4.2): every second full-sized segment at once.
	// A segment the device joined (GRO, or GSO from a TAP) counts as the segments it holds,
	// as Linux counts by its receive MSS: one of two or more is acknowledged at once.
	e.ackPending += max(1, (len(s.data)+e.mss-1)/max(e.mss, 1))
	if e.ackPending >= 2 {
		e.sendACK()
		return
	}
	e.armDelayedAck()
}

// pruneOOO drops the out-of-order queue to make room for in-order data, which the reader can
// take at once, when the memory budget has none left (Linux's tcp_prune_ofo_queue): held
// back, out-of-order data could take the whole budget and starve the segment that fills the
// gap. SACKed data dropped this way is reneged (RFC 2018 8): the peer keeps it until it is
// acknowledged cumulatively. Reports whether anything was dropped.
func (e *Endpoint) pruneOOO() bool {
	if len(e.ooo) == 0 {
		return false
	}
	e.pr.s.Budget().Release(e.oooBytes)
	e.pr.stats.OfoPruned += uint64(len(e.ooo))
	e.ooo, e.oooBytes = nil, 0
	e.updateSACKList(0, false)
	return true
}

// deliver appends in-order data (and a FIN) at rcvNxt.
func (e *Endpoint) deliver(data []byte, fin bool) {
	if len(data) > 0 {
		if !e.userClosed {
			// In-order data lies within the window offered: promised (queue.go).
			n := e.rcvBuf.AppendPromised(data, e.rcvBufMax, e.pr.s.Budget())
			if n < len(data) && e.pruneOOO() {
				n += e.rcvBuf.AppendPromised(data[n:], e.rcvBufMax, e.pr.s.Budget())
			}
			if n < len(data) {
				// The stack's memory budget is spent: take what fit, drop the rest (the
				// peer retransmits it) and count it.
				e.pr.stats.MemoryDrops++
				data, fin = data[:n], false
				if n == 0 {
					return
				}
			}
		}
		e.rcvNxt += uint32(len(data))
		e.signal(e.rcvCh)
	}
	if fin && !e.finRcvd {
		e.finRcvd = true
		e.rcvNxt++
		switch e.state {
		case Established:
			e.state = CloseWait
		case FinWait1:
			if e.sndUna == e.finSeq+1 {
				e.enterTimeWait()
			} else {
				e.state = Closing
			}
		case FinWait2:
			e.enterTimeWait()
		}
		e.wakeAll()
	}
}

// queueOOO keeps an out-of-order segment, sorted by sequence number, bounded by maxOOO
// entries (the window bounds the bytes).
func (e *Endpoint) queueOOO(seq uint32, data []byte, fin bool) {
	if len(data) == 0 && !fin {
		return
	}
	i := 0
	for i < len(e.ooo) && seqLT(e.ooo[i].seq, seq) {
		i++
	}
	if i < len(e.ooo) && e.ooo[i].seq == seq && len(e.ooo[i].data) >= len(data) {
		e.noteDup(seq, seq+uint32(len(data)))
		return // duplicate
	}
	if len(e.ooo) >= maxOOO {
		return
	}
	if !e.pr.s.Budget().TryCharge(len(data)) {
		e.pr.stats.MemoryDrops++ // the peer retransmits it
		return
	}
	e.pr.stats.OfoQueued++
	o := oooSeg{seq, append(make([]byte, 0, len(data)), data...), fin}
	e.ooo = append(e.ooo, oooSeg{})
	copy(e.ooo[i+1:], e.ooo[i:])
	e.ooo[i] = o
	e.oooBytes += len(data)
}
