package stack

import (
	"sync"
	"time"
)

// Deadline is a transport endpoint's read or write deadline: a settable point in time whose
// channel closes when it passes; setting it again re-arms it (the pattern of net.Pipe's
// deadlines). Blocking calls select on Wait.
type Deadline struct {
	mu     sync.Mutex
	timer  *time.Timer
	cancel chan struct{}
	at     time.Time // zero: none
}

// NewDeadline returns a deadline that is not set.
func NewDeadline() *Deadline { return &Deadline{cancel: make(chan struct{})} }

// Set makes t the deadline (zero: none); a time already past closes Wait's channel at once.
func (d *Deadline) Set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		<-d.cancel // the timer fired: the channel is closed
	}
	d.timer = nil
	d.at = t
	closed := Closed(d.cancel)
	if t.IsZero() {
		if closed {
			d.cancel = make(chan struct{})
		}
		return
	}
	if dur := time.Until(t); dur > 0 {
		if closed {
			d.cancel = make(chan struct{})
		}
		c := d.cancel
		d.timer = time.AfterFunc(dur, func() { close(c) })
		return
	}
	if !closed {
		close(d.cancel)
	}
}

// Wait returns a channel that closes when the deadline passes (the one set now: a later Set
// may hand out another).
func (d *Deadline) Wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cancel
}

// Passed reports whether the deadline has passed.
func (d *Deadline) Passed() bool { return Closed(d.Wait()) }

// When is the deadline set (zero: none).
func (d *Deadline) When() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.at
}

// Closed reports whether c is closed, without waiting.
func Closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
