package tcp

import "time"

func timeNow() time.Time                  { return time.Now() }
func timeSince(t time.Time) time.Duration { return time.Since(t) }

// updateRTO folds an RTT sample into SRTT and RTTVAR and recomputes the RTO (RFC 6298 2).
func (e *Endpoint) updateRTO(r time.Duration) {
	if !e.rttSampled {
		e.rttSampled = true
		e.srtt, e.rttvar = r, r/2
	} else {
		d := e.srtt - r
		if d < 0 {
			d = -d
		}
		e.rttvar = (3*e.rttvar + d) / 4
		e.srtt = (7*e.srtt + r) / 8
	}
	e.rto = min(max(e.srtt+max(time.Millisecond, 4*e.rttvar), e.pr.opts.MinRTO), e.pr.opts.MaxRTO)
}

// rttSampleOnHandshake takes the SYN's round trip as the first sample unless the SYN was
// retransmitted (Karn).
func (e *Endpoint) rttSampleOnHandshake() {
	if e.rttActive {
		e.rttActive = false
		e.updateRTO(timeSince(e.rttStart))
	}
	e.retries = 0
}

// armRTO (re)starts the retransmission timer at the current RTO.
func (e *Endpoint) armRTO() {
	e.persist, e.reoArmed = false, false
	if d, ok := e.pto(); ok {
		e.tlpArmed = true
		e.armRTOFor(d)
		return
	}
	e.tlpArmed = false
	e.armRTOFor(e.rto)
}

func (e *Endpoint) armRTOFor(d time.Duration) {
	e.rtoArmed, e.rtoAt = true, time.Now().Add(d)
	e.pr.armTimer(&e.rtoTimer, e.rtoAt)
}

func (e *Endpoint) restartRTO() { e.armRTO() }

func (e *Endpoint) cancelRTO() {
	e.rtoArmed, e.persist, e.tlpArmed, e.reoArmed = false, false, false, false
	e.pr.cancelTimer(&e.rtoTimer)
}

// armPersist starts the zero-window probe timer (RFC 9293 3.8.6.1).
func (e *Endpoint) armPersist() {
	e.armRTOFor(e.rto)
	e.persist, e.tlpArmed, e.reoArmed = true, false, false
}

// rtoFired runs the retransmission timer's handler at rtoAt (timerq.go, mu held).
func (e *Endpoint) rtoFired() {
	if !e.rtoArmed {
		return
	}
	e.rtoArmed = false
	if e.reoArmed {
		e.reoArmed = false
		e.onReoTimeout()
		return
	}
	if e.tlpArmed {
		e.tlpArmed = false
		e.onPTO()
		return
	}
	e.onRTO()
}

// onRTO handles an expired retransmission timer (RFC 6298 5.4-5.7): back off, collapse the
// congestion window and resend from SND.UNA; or send a zero-window probe.
func (e *Endpoint) onRTO() {
	pr := e.pr
	e.rto = min(2*e.rto, pr.opts.MaxRTO)
	e.rttActive = false
	switch e.state {
	case SynSent, SynRcvd:
		if e.retries >= pr.opts.SynRetries {
			if e.state == SynSent {
				pr.stats.AttemptFails++
			}
			e.teardown(ErrTimedOut)
			return
		}
		e.retries++
		pr.stats.RetransSegs++
		e.sendSYN()
		return
	case Closed, Listen, TimeWait, FinWait2:
		return
	}
	if e.persist && e.sndUna == e.sndMax {
		// Zero-window probe: one byte of new data beyond the window; or, for a small
		// window the sender held back (SWS avoidance), what fits.
		e.persist = false
		off := int(e.sndNxt - e.sndUna)
		if n := min(max(int(e.sndWnd), 1), e.mss, e.sndBuf.Len()-off); n > 0 {
			e.sendQueued(e.sndNxt, 0, off, n)
			e.sndNxt += uint32(n)
			e.sndMax = e.sndNxt
		}
		e.armRTO()
		return
	}
	if e.sndUna == e.sndMax {
		return
	}
	if e.retries >= pr.opts.Retries {
		e.abort()
		e.err = ErrTimedOut
		return
	}
	e.retries++
	pr.stats.RTOs++
	e.onTimeoutCC()
	e.sndNxt = e.sndUna
	e.output()
	if !e.rtoArmed && e.sndUna != e.sndMax {
		e.armRTO()
	}
}

// armDelayedAck schedules an ACK for data not yet acknowledged.
func (e *Endpoint) armDelayedAck() {
	if e.dackArmed {
		return
	}
	e.dackArmed = true
	e.pr.armTimer(&e.dackTimer, time.Now().Add(e.pr.opts.DelayedAck))
}

func (e *Endpoint) cancelDelack() {
	if e.dackArmed {
		e.dackArmed = false
		e.pr.cancelTimer(&e.dackTimer)
	}
}

// dackFired sends the delayed ACK (timerq.go, mu held).
func (e *Endpoint) dackFired() {
	if !e.dackArmed {
		return
	}
	e.dackArmed = false
	if e.state.synchronized() && e.state != TimeWait {
		e.sendACK()
	}
}

// enterTimeWait moves to TIME-WAIT for Options.TimeWait (RFC 9293 3.6).
func (e *Endpoint) enterTimeWait() {
	e.state = TimeWait
	e.pr.uncountLive(e)
	e.cancelRTO()
	e.cancelDelack()
	e.armTimeWait()
	e.wakeAll()
}

func (e *Endpoint) armTimeWait() { e.armLinger(e.pr.opts.TimeWait) }

// armFinWait2 bounds how long a closed endpoint waits in FIN-WAIT-2 for the peer's FIN.
func (e *Endpoint) armFinWait2() { e.armLinger(e.pr.opts.FinWait2) }

func (e *Endpoint) armLinger(d time.Duration) {
	e.lingerArmed, e.lingerAt = true, time.Now().Add(d)
	e.pr.armTimer(&e.lingerTimer, e.lingerAt)
}

func (e *Endpoint) cancelLinger() {
	if e.lingerArmed {
		e.lingerArmed = false
		e.pr.cancelTimer(&e.lingerTimer)
	}
}

// lingerFired ends TIME-WAIT or FIN-WAIT-2 at lingerAt (timerq.go, mu held).
func (e *Endpoint) lingerFired() {
	if !e.lingerArmed {
		return
	}
	e.lingerArmed = false
	switch e.state {
	case TimeWait, FinWait2:
		e.teardown(nil)
	}
}
