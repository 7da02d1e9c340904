package tcp

import "time"

// Buffer sizes. A connection's receive window starts at initialRcvWindow and grows with its
// reader (receive-window auto-tuning, as Linux's tcp_rcv_space_adjust): every round trip,
// if the application read more than half the window, the window becomes twice what it read,
// up to the endpoint's ceiling (Options.ReceiveBuffer) and while the stack's memory budget is
// not tight. A slow or idle reader keeps a small window, so a peer cannot make it hold much.
// SetReceiveBuffer fixes the window instead, as SO_RCVBUF does on Linux.

// initialRcvWindow is the window a connection offers first.
const initialRcvWindow = 64 << 10

// Limits of SetReceiveBuffer and SetSendBuffer.
const (
	minSetBuffer = 2 << 10
	maxSetBuffer = 16 << 20
)

// rcvTune accounts n bytes read and grows the window once a round trip's worth of reading
// shows the reader keeps up. Called with pr.mu held.
func (e *Endpoint) rcvTune(n int) {
	if e.rcvLocked || e.rcvBufCur >= e.rcvBufMax {
		return
	}
	now := timeNow()
	if e.rcvSpaceAt.IsZero() {
		e.rcvSpaceAt = now
	}
	e.rcvSpace += n
	rtt := e.srtt
	if !e.rttSampled {
		rtt = 50 * time.Millisecond // no sample yet (a pure receiver without timestamps)
	}
	if now.Sub(e.rcvSpaceAt) < rtt {
		return
	}
	if 2*e.rcvSpace > e.rcvBufCur && !e.pr.s.Budget().Tight() {
		e.rcvBufCur = min(e.rcvBufMax, 2*e.rcvSpace)
	}
	e.rcvSpaceAt, e.rcvSpace = now, 0
}

// SetReceiveBuffer fixes the receive window's ceiling at n bytes (clamped to 2 KiB..16 MiB)
// and stops auto-tuning, as SO_RCVBUF on Linux. The window scale is chosen at the handshake
// from the ceiling then: set it before connecting (or on the listener) to go past 64 KiB.
func (e *Endpoint) SetReceiveBuffer(n int) {
	n = min(max(n, minSetBuffer), maxSetBuffer)
	e.pr.mu.Lock()
	defer e.pr.unlock()
	e.rcvBufMax, e.rcvBufCur, e.rcvLocked = n, n, true
	e.windowUpdate()
}

// SetSendBuffer bounds unacknowledged plus unsent data at n bytes (clamped to 2 KiB..16 MiB),
// as SO_SNDBUF on Linux.
func (e *Endpoint) SetSendBuffer(n int) {
	n = min(max(n, minSetBuffer), maxSetBuffer)
	e.pr.mu.Lock()
	defer e.pr.unlock()
	e.sndBufMax = n
	e.signal(e.sndCh)
}

// ReceiveBuffer and SendBuffer report the current limits (the receive window's ceiling now
// offered, and the send buffer's bound).
func (e *Endpoint) ReceiveBuffer() int {
	e.pr.mu.Lock()
	defer e.pr.mu.Unlock()
	return e.rcvBufCur
}

func (e *Endpoint) SendBuffer() int {
	e.pr.mu.Lock()
	defer e.pr.mu.Unlock()
	return e.sndBufMax
}
