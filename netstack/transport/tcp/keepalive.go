package tcp

import "time"

// Keepalive (RFC 9293 3.8.4, RFC 1122 4.2.3.6): after Idle without receiving anything, send
// an ACK one below SND.UNA that the peer must answer; every Interval another, and after
// Count unanswered probes the connection fails with ErrTimedOut. Defaults are Go's net
// defaults (15 s, 15 s, 9).

// KeepAlive configures keepalive; zero durations and counts take the defaults.
type KeepAlive struct {
	Enable   bool
	Idle     time.Duration
	Interval time.Duration
	Count    int
}

// SetKeepAlive turns keepalive on or off with the given parameters.
func (e *Endpoint) SetKeepAlive(k KeepAlive) {
	pr := e.pr
	pr.mu.Lock()
	defer pr.unlock()
	if k.Idle <= 0 {
		k.Idle = 15 * time.Second
	}
	if k.Interval <= 0 {
		k.Interval = 15 * time.Second
	}
	if k.Count <= 0 {
		k.Count = 9
	}
	e.ka = k
	e.kaProbes = 0
	if !k.Enable {
		e.cancelKeepalive()
		return
	}
	if e.lastRecv.IsZero() {
		e.lastRecv = time.Now()
	}
	e.armKeepalive(k.Idle)
}

func (e *Endpoint) armKeepalive(d time.Duration) {
	e.pr.armTimer(&e.kaTimer, time.Now().Add(d))
}

func (e *Endpoint) cancelKeepalive() { e.pr.cancelTimer(&e.kaTimer) }

// keepaliveFired sends a probe or gives up (timerq.go, mu held).
func (e *Endpoint) keepaliveFired() {
	switch e.state {
	case Established, CloseWait, FinWait1, FinWait2:
	default:
		return
	}
	if !e.ka.Enable {
		return
	}
	if idle := time.Since(e.lastRecv); idle < e.ka.Idle && e.kaProbes == 0 {
		e.armKeepalive(e.ka.Idle - idle)
		return
	}
	if e.kaProbes >= e.ka.Count {
		e.abort()
		e.err = ErrTimedOut
		return
	}
	e.kaProbes++
	e.send(e.sndUna-1, 0, nil)
	e.armKeepalive(e.ka.Interval)
}

// heardFrom notes that a segment arrived: keepalive starts counting idle time again.
func (e *Endpoint) heardFrom() {
	if e.ka.Enable {
		e.lastRecv = time.Now()
		e.kaProbes = 0
	}
}
