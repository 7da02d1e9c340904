package channel

import (
	"sync/atomic"
	"time"
)

// Polling is an Endpoint that is also a link.Poller, for tests of the stack's waiters: its
// PollWait waits for ready, a Kick or the deadline, as a device's would while no frame comes
// (frames still arrive by Inject or Wire, on their goroutines), and counts its calls.
type Polling struct {
	*Endpoint
	kick  chan struct{}
	waits atomic.Int64
}

// NewPolling wraps e.
func NewPolling(e *Endpoint) *Polling { return &Polling{Endpoint: e, kick: make(chan struct{}, 1)} }

// PollWaits is how many times a waiter polled.
func (p *Polling) PollWaits() int64 { return p.waits.Load() }

// PollWait waits for ready (taking its value), a Kick or deadline, and reports true.
func (p *Polling) PollWait(ready <-chan struct{}, deadline time.Time) bool {
	p.waits.Add(1)
	var after <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		after = t.C
	}
	select {
	case <-ready:
	case <-p.kick:
	case <-after:
	}
	return true
}

// Kick ends a PollWait in progress (or the next one).
func (p *Polling) Kick() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}
