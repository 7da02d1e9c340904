package tcp

import (
	"time"

	"goxen/netstack/header"
)

// RACK (RFC 8985 6): loss detection by time instead of by counting duplicate ACKs. Each
// transmission of data is recorded with the time it left. An unacknowledged transmission
// counts as lost once one sent after it has been delivered (ACKed or SACKed) and a
// reordering window beyond that one's round trip has passed since it left. Unlike RFC
// 6675's DupThresh rule this needs no number of segments after a hole, finds lost
// retransmissions like any other loss, and widens its window when D-SACKs (RFC 2883) show
// that it mistook reordering for loss. It runs when SACK is on, unless Options.NoRACK; the
// scoreboard (recovery.go) still holds what the peer SACKed, and recovery.go's pipe and
// NextSeg ask RACK what is lost.

const (
	// maxTxRecs bounds the transmissions a connection tracks. Past half of it, data sent
	// right after the last record joins it (taking the later time: its loss is found
	// later, never wrongly); a connection that still reaches the bound (a peer SACKing
	// every other segment of a huge window) falls back to RFC 6675 for good.
	maxTxRecs = 1024

	reoWndPersist = 16 // recoveries a widened reordering window lasts (RFC 8985 6.2 step 4)
	maxReoWndMult = 64
)

// txRec is one transmission of [start, end) (the FIN counts as a byte).
type txRec struct {
	start, end uint32
	at         int64 // when it left, on monoNow's clock
	rexmit     bool  // a retransmission
	delivered  bool  // SACKed (acknowledged records are dropped)
	lost       bool  // marked lost by RACK and not sent again since
}

// rackState is RFC 8985's per-connection state, plus the transmission records.
type rackState struct {
	recs    []txRec // in transmission order; every byte in [SND.UNA, SND.MAX) is in one record
	rexmits int     // records that are retransmissions: while 0, recs are in sequence order too

	xmitAt int64  // RACK.xmit_ts: when the most recently sent delivered transmission left
	endSeq uint32 // RACK.end_seq: its end
	rtt    time.Duration
	minRTT time.Duration // the smallest RTT sample of the connection
	fack   uint32        // RACK.fack: the highest end delivered
	fackOK bool

	reorderSeen     bool
	reoWndMult      int
	reoWndPersist   int
	dsackRound      uint32 // a D-SACK widens the window once per round trip (until SND.UNA passes it)
	dsackRoundArmed bool

	off bool // fell back to RFC 6675 (maxTxRecs)
}

var monoEpoch = time.Now()

// monoNow is the time RACK records and compares, in ns (never 0).
func monoNow() int64 { return int64(time.Since(monoEpoch)) + 1 }

func (e *Endpoint) rackOn() bool { return e.sackOK && !e.pr.opts.NoRACK && !e.rack.off }

// sentAfter reports whether a transmission (t1, end1) left after (t2, end2) (RFC 8985 6.2:
// RACK_sent_after; for one time, the higher sequence number left later).
func sentAfter(t1 int64, end1 uint32, t2 int64, end2 uint32) bool {
	return t1 > t2 || (t1 == t2 && seqGT(end1, end2))
}

// rackSent records a transmission of n bytes (or the FIN) from seq.
func (e *Endpoint) rackSent(seq uint32, n int, now int64) {
	r := &e.rack
	end := seq + uint32(n)
	rexmit := seqLT(seq, e.sndMax)
	if rexmit {
		r.cut(seq, end)
	}
	if k := len(r.recs); k >= maxTxRecs/2 && !rexmit {
		if last := &r.recs[k-1]; !last.rexmit && !last.delivered && !last.lost && last.end == seq {
			last.end, last.at = end, now
			return
		}
	}
	if len(r.recs) >= maxTxRecs {
		r.recs, r.rexmits, r.off = nil, 0, true
		e.pr.stats.RACKFallbacks++
		return
	}
	r.recs = append(r.recs, txRec{start: seq, end: end, at: now, rexmit: rexmit})
	if rexmit {
		r.rexmits++
	}
}

// cut removes [a, b) from the records: it is being sent again.
func (r *rackState) cut(a, b uint32) {
	for i := 0; i < len(r.recs); i++ {
		x := &r.recs[i]
		if !seqLT(x.start, b) || !seqGT(x.end, a) {
			continue
		}
		switch {
		case seqGE(x.start, a) && seqLE(x.end, b): // all of it
			r.drop(i)
			i--
		case seqLT(x.start, a) && seqGT(x.end, b): // the middle: two pieces
			tail := *x
			tail.start, x.end = b, a
			r.insert(i+1, tail)
			i++
		case seqLT(x.start, a):
			x.end = a
		default:
			x.start = b
		}
	}
}

func (r *rackState) drop(i int) {
	if r.recs[i].rexmit {
		r.rexmits--
	}
	r.recs = append(r.recs[:i], r.recs[i+1:]...)
}

func (r *rackState) insert(i int, x txRec) {
	r.recs = append(r.recs, txRec{})
	copy(r.recs[i+1:], r.recs[i:])
	r.recs[i] = x
	if x.rexmit {
		r.rexmits++
	}
}

// rackAcked drops the records SND.UNA's advance to una acknowledged, taking each newly
// delivered one as a RACK sample. Called before SND.UNA moves.
func (e *Endpoint) rackAcked(una uint32, now int64) {
	r := &e.rack
	for i := 0; i < len(r.recs); i++ {
		x := &r.recs[i]
		if !seqLT(x.start, una) {
			if r.rexmits == 0 {
				break // in sequence order: nothing further is acknowledged
			}
			continue
		}
		if seqLE(x.end, una) {
			if !x.delivered {
				e.rackDelivered(x, now)
			}
			r.drop(i)
			i--
			continue
		}
		part := *x // the acknowledged front of a record
		part.end = una
		if !x.delivered {
			e.rackDelivered(&part, now)
		}
		x.start = una
	}
}

// rackSacked takes the ACK's SACK blocks: each record part they cover is delivered (split
// off, so that its unSACKed neighbours keep their place in the order).
func (e *Endpoint) rackSacked(blocks []header.TCPSACKBlock, now int64) {
	r := &e.rack
	for _, b := range blocks {
		if !seqLT(b.Start, b.End) || seqLE(b.End, e.sndUna) || seqGT(b.End, e.sndMax) {
			continue
		}
		for i := 0; i < len(r.recs); i++ {
			x := &r.recs[i]
			if x.delivered || !seqLT(x.start, b.End) || !seqGT(x.end, b.Start) {
				continue
			}
			if seqLT(x.start, b.Start) { // keep the front apart
				front := *x
				front.end, x.start = b.Start, b.Start
				r.insert(i, front)
				i++
				x = &r.recs[i]
			}
			if seqGT(x.end, b.End) { // and the back
				back := *x
				back.start, x.end = b.End, b.End
				r.insert(i+1, back)
				x = &r.recs[i]
			}
			x.delivered, x.lost = true, false
			e.rackDelivered(x, now)
		}
	}
	if len(r.recs) > maxTxRecs {
		r.recs, r.rexmits, r.off = nil, 0, true
		e.pr.stats.RACKFallbacks++
	}
}

// rackDelivered updates RACK for a newly delivered transmission (RFC 8985 6.2 steps 2-3).
func (e *Endpoint) rackDelivered(x *txRec, now int64) {
	r := &e.rack
	if !r.fackOK || seqGT(x.end, r.fack) {
		r.fack, r.fackOK = x.end, true
	} else if seqLT(x.end, r.fack) && !x.rexmit {
		if !r.reorderSeen {
			e.pr.stats.RACKReorderings++
		}
		r.reorderSeen = true
	}
	rtt := time.Duration(now - x.at)
	if x.rexmit && rtt < r.minRTT {
		return // sooner than any round trip: this ACK is for the original transmission
	}
	if !x.rexmit {
		e.rackRTT(rtt)
	}
	if sentAfter(x.at, x.end, r.xmitAt, r.endSeq) {
		r.xmitAt, r.endSeq, r.rtt = x.at, x.end, rtt
	}
}

// rackDSACK notes a D-SACK (RFC 2883): a retransmission was spurious, so the reordering
// window grows by a quarter of the minimum RTT, at most once per round trip.
func (e *Endpoint) rackDSACK() {
	r := &e.rack
	if r.dsackRoundArmed {
		return
	}
	r.dsackRound, r.dsackRoundArmed = e.sndMax, true
	r.reoWndMult = min(max(r.reoWndMult, 1)+1, maxReoWndMult)
	r.reoWndPersist = reoWndPersist
	e.pr.stats.DSACKsRecv++
}

// rackRecoveryEnded lets a widened window shrink back after reoWndPersist recoveries.
func (e *Endpoint) rackRecoveryEnded() {
	r := &e.rack
	if r.reoWndPersist > 0 {
		r.reoWndPersist--
		if r.reoWndPersist == 0 {
			r.reoWndMult = 1
		}
	}
}

// rackReoWnd is the reordering window (RFC 8985 6.2 step 4): none while no reordering was
// seen and the loss is already clear (in recovery, or DupThresh segments SACKed); else a
// quarter of the minimum RTT per D-SACK round, at most SRTT.
func (e *Endpoint) rackReoWnd() time.Duration {
	r := &e.rack
	if r.dsackRoundArmed && seqGE(e.sndUna, r.dsackRound) {
		r.dsackRoundArmed = false
	}
	if !r.reorderSeen {
		sacked := 0
		for _, b := range e.sb {
			sacked += int(b.End - b.Start)
		}
		if e.inRecovery || e.retries > 0 || sacked > (dupThresh-1)*e.mss {
			return 0
		}
	}
	minRTT := r.minRTT
	if minRTT == 0 {
		minRTT = e.srtt // only the handshake's sample so far
	}
	return min(time.Duration(max(r.reoWndMult, 1))*minRTT/4, e.srtt)
}

// rackDetectLoss marks lost every undelivered transmission sent before the most recently
// sent delivered one whose round trip plus the reordering window has passed (RFC 8985 6.2
// step 5). It returns whether any was newly marked, and how long until the next one may
// be (0: none waits).
func (e *Endpoint) rackDetectLoss(now int64) (marked bool, wait time.Duration) {
	r := &e.rack
	if r.xmitAt == 0 {
		return false, 0
	}
	reo := e.rackReoWnd()
	for i := range r.recs {
		x := &r.recs[i]
		if x.delivered || x.lost || !sentAfter(r.xmitAt, r.endSeq, x.at, x.end) {
			continue
		}
		if left := time.Duration(x.at-now) + r.rtt + reo; left > 0 {
			wait = max(wait, left)
			continue
		}
		x.lost, marked = true, true
		e.pr.stats.RACKLost++
	}
	return marked, wait
}

// rackCheck runs loss detection after an ACK or the reordering timer: a loss starts
// recovery; a transmission that may still be reordered arms the reordering timer.
func (e *Endpoint) rackCheck(now int64) {
	marked, wait := e.rackDetectLoss(now)
	if marked && !e.inRecovery {
		e.maybeEnterRecovery()
	}
	if wait > 0 && e.sndUna != e.sndMax {
		e.armReoTimer(wait)
	}
}

// armReoTimer runs the retransmission timer for the reordering window instead when that
// ends first (as Linux shares one timer between them); when it fires, RACK looks again
// and the timer goes back to the RTO or probe.
func (e *Endpoint) armReoTimer(d time.Duration) {
	if e.rtoArmed && !e.reoArmed && time.Until(e.rtoAt) <= d {
		return
	}
	e.armRTOFor(d)
	e.reoArmed, e.tlpArmed, e.persist = true, false, false
}

// onReoTimeout is the reordering timer's expiry (RFC 8985 6.3).
func (e *Endpoint) onReoTimeout() {
	e.pr.stats.RACKReoTimeouts++
	e.rackCheck(monoNow())
	if e.inRecovery {
		e.output()
	}
	if !e.rtoArmed && e.sndUna != e.sndMax {
		e.armRTO()
	}
}

// rackLostSeg is NextSeg's rule 1 under RACK: the lowest lost byte not yet sent again, and
// how many lost bytes follow it in its record.
func (e *Endpoint) rackLostSeg() (seq uint32, n int, ok bool) {
	for _, x := range e.rack.recs {
		if x.lost && !x.delivered && (!ok || seqLT(x.start, seq)) {
			seq, n, ok = x.start, int(x.end-x.start), true
		}
	}
	return seq, n, ok
}

// rackPipe is RFC 6675's pipe under RACK: the bytes sent and neither delivered nor lost.
func (e *Endpoint) rackPipe() int {
	p := 0
	for _, x := range e.rack.recs {
		if !x.delivered && !x.lost {
			p += int(x.end - x.start)
		}
	}
	return p
}

// rackRTT takes an RTT sample of a transmission sent once (RFC 8985 6.2 step 1).
func (e *Endpoint) rackRTT(rtt time.Duration) {
	if e.rack.minRTT == 0 || rtt < e.rack.minRTT {
		e.rack.minRTT = max(rtt, 1)
	}
}

// rackLostAny reports whether RACK holds a loss not yet repaired.
func (e *Endpoint) rackLostAny() bool {
	_, _, ok := e.rackLostSeg()
	return ok
}

// isDSACK reports whether an ACK's first SACK block is a D-SACK (RFC 2883 4): below the
// cumulative ACK, or inside the second block.
func isDSACK(bs []header.TCPSACKBlock, ack uint32) bool {
	b := bs[0]
	if !seqLT(b.Start, b.End) {
		return false
	}
	if seqLE(b.End, ack) {
		return true
	}
	return len(bs) > 1 && seqGE(b.Start, bs[1].Start) && seqLE(b.End, bs[1].End)
}
