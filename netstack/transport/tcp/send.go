package tcp

import (
	"io"
	"os"

	"goxen/netstack/header"
	"goxen/netstack/stack"
)

// canSend reports whether the state allows sending data and FIN.
func (e *Endpoint) canSend() bool {
	switch e.state {
	case Established, CloseWait, FinWait1, Closing, LastAck:
		return true
	}
	return false
}

// output sends what the send and congestion windows allow, applying Nagle's algorithm
// (RFC 9293 3.7.4), then the FIN once all data is out, and arms the retransmission or
// persist timer. Called with mu held.
func (e *Endpoint) output() {
	if !e.canSend() {
		return
	}
	if e.inRecovery && e.sackOK {
		e.sackOutput()
		return
	}
	for {
		// Going back after a timeout, skip what the peer SACKed (RFC 6675 5.1).
		limit := -1
		for _, b := range e.sb {
			if seqLE(b.Start, e.sndNxt) && seqLT(e.sndNxt, b.End) {
				e.sndNxt = b.End
			} else if seqGT(b.Start, e.sndNxt) {
				if seqLT(e.sndNxt, e.sndMax) {
					limit = int(b.Start - e.sndNxt)
				}
				break
			}
		}
		off := int(e.sndNxt - e.sndUna)
		unsent := e.sndBuf.Len() - off
		if unsent <= 0 {
			break
		}
		inFlight := int(e.sndNxt - e.sndUna)
		cwnd := e.cwnd
		if !e.inRecovery && e.dupAcks > 0 {
			cwnd += min(e.dupAcks, 2) * e.mss // limited transmit (RFC 3042)
		}
		wnd := min(int(e.sndWnd), cwnd)
		usable := wnd - inFlight
		if usable <= 0 {
			if e.sndWnd == 0 && inFlight == 0 && !e.rtoArmed {
				e.armPersist()
			}
			return
		}
		n := min(e.segLimit(), unsent, usable)
		if limit > 0 {
			n = min(n, limit)
		}
		if n < e.mss && n < unsent && limit < 0 {
			// Window-limited small segment (sender SWS avoidance, RFC 9293 3.8.6.2.1):
			// wait unless nothing is in flight and it is at least half the largest window,
			// or minQueue: a receiver short of memory offers that much (queue.go), which is
			// no silly window, and waiting for the override timer would crawl.
			if inFlight > 0 || n < min(int(e.maxSndWnd)/2, minQueue) {
				if inFlight == 0 && !e.rtoArmed {
					e.armPersist() // override after a timeout (RFC 9293 3.8.6.2.1)
				}
				return
			}
		}
		if n < e.mss && !e.noDelay && inFlight > 0 && !e.finQueued && limit < 0 && seqGE(e.sndNxt, e.sndMax) {
			return // Nagle: one small segment in flight at a time
		}
		flags := uint8(0)
		if n == unsent {
			flags |= header.TCPFlagPSH
		}
		e.sendQueued(e.sndNxt, flags, off, n)
		if seqLT(e.sndNxt, e.sndMax) {
			e.pr.stats.RetransSegs++
		} else if !e.rttActive {
			e.rttActive, e.rttSeq, e.rttStart = true, e.sndNxt+uint32(n), timeNow()
		}
		e.sndNxt += uint32(n)
		if seqGT(e.sndNxt, e.sndMax) {
			e.sndMax = e.sndNxt
		}
		if !e.rtoArmed {
			e.armRTO()
		}
	}
	if e.finQueued && e.sndNxt == e.finSeq {
		e.send(e.sndNxt, header.TCPFlagFIN, nil)
		e.sndNxt++
		if seqGT(e.sndNxt, e.sndMax) {
			e.sndMax = e.sndNxt
		}
		if !e.rtoArmed {
			e.armRTO()
		}
	}
}

// Write queues b for sending, blocking while the send buffer is full. It returns early with
// the count written on a deadline, a connection error or after CloseWrite (ErrBrokenPipe).
func (e *Endpoint) Write(b []byte) (int, error) {
	if e.wd.Passed() && !e.closedByUser() { // a deadline in the past fails at once, as in Go's poller
		return 0, os.ErrDeadlineExceeded
	}
	pr := e.pr
	written := 0
	for {
		pr.mu.Lock()
		var err error
		switch {
		case e.err != nil:
			err = e.err
		case e.finQueued || e.userClosed:
			err = ErrBrokenPipe
		case e.state == Listen || e.state == Closed || e.state == SynSent:
			err = ErrNotConnected
		}
		if err != nil {
			pr.mu.Unlock()
			e.signal(e.sndCh) // the next writer waiting (one wake per change) ends too
			return written, err
		}
		budget := pr.s.Budget()
		freed := budget.Freed() // before trying: a release after a refused charge closes it
		if room := e.sndBuf.Room(e.sndBufMax, budget); room > 0 {
			n := e.sndBuf.Append(b[written:written+min(room, len(b)-written)], e.sndBufMax, budget)
			written += n
			e.output()
		}
		done := written == len(b)
		pr.unlock()
		if done {
			return written, nil
		}
		if !e.wd.Passed() && !stack.Closed(freed) && e.pollWait(e.sndCh, e.wd) {
			continue // room may have come (ACKs read here); look again
		}
		select {
		case <-e.sndCh:
		case <-freed: // the stack's memory budget was spent and some came back
		case <-e.wd.Wait():
			return written, os.ErrDeadlineExceeded
		}
	}
}

// Read copies received bytes into b, blocking until some arrive. It returns io.EOF after the
// peer's FIN and os.ErrDeadlineExceeded when the read deadline passes.
func (e *Endpoint) Read(b []byte) (int, error) {
	if e.rd.Passed() && !e.closedByUser() { // a deadline in the past fails even with data buffered
		return 0, os.ErrDeadlineExceeded
	}
	pr := e.pr
	for {
		pr.mu.Lock()
		if e.rcvBuf.Len() > 0 {
			n := copy(b, e.rcvBuf.Bytes())
			e.rcvBuf.Consume(n, pr.s.Budget())
			e.rcvTune(n)
			e.windowUpdate()
			more := e.rcvBuf.Len() > 0
			pr.unlock()
			if more {
				e.signal(e.rcvCh)
			}
			return n, nil
		}
		var err error
		switch {
		case e.userClosed:
			err = ErrClosed
		case e.finRcvd:
			err = io.EOF
		case e.err != nil:
			err = e.err
		case e.state == Listen || e.state == Closed:
			err = ErrNotConnected
		}
		pr.mu.Unlock()
		if err != nil {
			e.signal(e.rcvCh) // the next reader waiting (one wake per change) ends too
			return 0, err
		}
		if !e.rd.Passed() && e.pollWait(e.rcvCh, e.rd) {
			continue // data may have come (read here); look again
		}
		select {
		case <-e.rcvCh:
		case <-e.rd.Wait():
			return 0, os.ErrDeadlineExceeded
		}
	}
}

// windowUpdate sends an ACK when reading opened the window enough to matter to the peer:
// the window it sees is at most half the buffer and now at least doubles, to half the buffer
// or more, as Linux decides (tcp_cleanup_rbuf, __tcp_select_window). The increase is then
// always worth announcing under receiver SWS avoidance (RFC 9293 3.8.6.2.2). A peer that
// sees more than half the buffer open is not held up: the ACKs of what it sends next carry
// the new window. And a window that closed behind a slow reader reopens for half the
// buffer at once, not for each read: announcing every read's increase doubled the segments a
// bulk receiver sent and had the sender come back for one read's worth at a time.
func (e *Endpoint) windowUpdate() {
	if !e.state.synchronized() || e.finRcvd {
		return
	}
	adv := int(e.rcvAdv - e.rcvNxt)
	if seqLT(e.rcvAdv, e.rcvNxt) {
		adv = 0
	}
	now := e.rcvWindow() >> e.rcvScale << e.rcvScale
	// The buffer here is what the window can reach now: under memory pressure that may be
	// only the 4 KiB every queue is promised (queue.go), not rcvBufCur.
	buf := min(e.rcvBufCur, now+e.rcvBuf.Len())
	if 2*adv <= buf && now >= max(2*adv, buf/2, min(e.mss, buf)) && now > adv {
		e.sendACK()
	}
}

// CloseWrite sends a FIN after the queued data (shutdown(SHUT_WR)).
func (e *Endpoint) CloseWrite() error {
	pr := e.pr
	pr.mu.Lock()
	defer pr.unlock()
	return e.shutdownLocked()
}

func (e *Endpoint) shutdownLocked() error {
	switch e.state {
	case Established:
		e.state = FinWait1
	case CloseWait:
		e.state = LastAck
	case SynRcvd:
		e.state = FinWait1 // the FIN goes once established; not reached by user endpoints
	default:
		if e.err != nil {
			return e.err
		}
		return ErrNotConnected
	}
	if !e.finQueued {
		e.finQueued = true
		e.finSeq = e.sndUna + uint32(e.sndBuf.Len())
		e.output()
	}
	e.signal(e.sndCh)
	return nil
}

// Close closes the endpoint. A listener stops and resets unaccepted connections. A
// connection sends its FIN after the queued data and finishes closing in the background,
// or is reset at once when received data was left unread (as Linux does).
// closedByUser reports whether Close was called: that error comes before a deadline's, as
// in Go's poller.
func (e *Endpoint) closedByUser() bool {
	e.pr.mu.Lock()
	defer e.pr.mu.Unlock()
	return e.userClosed
}

// SetAbortOnClose makes Close reset the connection at once, dropping unsent and unread data
// (SO_LINGER with a zero timeout) instead of closing gracefully in the background.
func (e *Endpoint) SetAbortOnClose(on bool) {
	e.pr.mu.Lock()
	defer e.pr.mu.Unlock()
	e.abortOnClose = on
}

func (e *Endpoint) Close() error {
	pr := e.pr
	pr.mu.Lock()
	defer pr.unlock()
	if e.userClosed {
		return ErrClosed
	}
	e.userClosed = true
	defer e.wakeAll()
	switch e.state {
	case Listen:
		e.closeListener()
		return nil
	case Closed:
		e.teardown(nil)
		return nil
	case SynSent:
		e.teardown(ErrClosed)
		return nil
	}
	if e.rcvBuf.Len() > 0 || e.abortOnClose {
		e.rcvBuf.Reset(e.pr.s.Budget())
		e.abort()
		return nil
	}
	if e.state == FinWait2 {
		e.armFinWait2()
	}
	if !e.finQueued {
		e.shutdownLocked()
	}
	return nil
}
