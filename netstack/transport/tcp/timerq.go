package tcp

import (
	"container/heap"
	"time"
)

// The timer service: one goroutine per Protocol runs every endpoint's timers (retransmission,
// persist and tail loss probe; delayed ACK; TIME-WAIT and FIN-WAIT-2; keepalive). Armed
// timers sit in a min-heap by deadline under mu; one time.Timer is set for the earliest.
// When it fires the goroutine takes mu, runs the due timers in deadline order and releases
// mu with unlock, so their segments are written in one flush. A goroutine per firing
// (time.AfterFunc) would put thousands of stacks in line for mu when thousands of
// connections' timers come due at once.
//
// Each Endpoint embeds one heap entry per timer: arming, re-arming and cancelling move it
// in the heap and allocate nothing. The time.Timer is moved only when a deadline comes
// before the one it is set for; one set too early finds nothing due and is set again. The
// service starts with the first armed timer and then waits for ever; it has nothing to
// do while no timer is armed (the Protocol has no Close).

// timerBatch bounds the timers run in one hold of mu. Their segments stay queued (and their
// packet buffers held) until mu is released, and packets and socket calls wait for it: when
// thousands come due at once, they run in batches with a flush between.
const timerBatch = 256

type timerKind uint8

const (
	timerRTO       timerKind = iota // retransmission (RFC 6298), persist, tail loss probe
	timerDelack                     // delayed ACK
	timerLinger                     // TIME-WAIT, FIN-WAIT-2 (RFC 9293 3.6)
	timerKeepalive                  // RFC 9293 3.8.4
)

// epTimer is one of an endpoint's timers: its deadline and its place in the heap.
type epTimer struct {
	e     *Endpoint
	at    time.Time
	index int // in timerQueue.h; -1 when not armed
	kind  timerKind
}

func (t *epTimer) init(e *Endpoint, k timerKind) { *t = epTimer{e: e, index: -1, kind: k} }

func (t *epTimer) armed() bool { return t.index >= 0 }

// fire runs the timer's handler. Called with mu held, t out of the heap.
func (t *epTimer) fire() {
	switch t.kind {
	case timerRTO:
		t.e.rtoFired()
	case timerDelack:
		t.e.dackFired()
	case timerLinger:
		t.e.lingerFired()
	case timerKeepalive:
		t.e.keepaliveFired()
	}
}

// timerQueue is a Protocol's armed timers. Guarded by mu.
type timerQueue struct {
	h    timerHeap
	wake *time.Timer // set for next; nil until the first timer is armed
	next time.Time   // when wake fires; zero when stopped
}

// armTimer sets t to fire at at, arming or moving it. Called with mu held.
func (pr *Protocol) armTimer(t *epTimer, at time.Time) {
	q := &pr.timers
	t.at = at
	if t.armed() {
		heap.Fix(&q.h, t.index)
	} else {
		heap.Push(&q.h, t)
	}
	if q.wake == nil {
		q.next, q.wake = at, time.NewTimer(time.Until(at))
		go pr.runTimers()
	} else if q.next.IsZero() || at.Before(q.next) {
		q.next = at
		q.wake.Reset(time.Until(at))
	}
}

// cancelTimer takes t out of the heap. Called with mu held.
func (pr *Protocol) cancelTimer(t *epTimer) {
	q := &pr.timers
	if !t.armed() {
		return
	}
	heap.Remove(&q.h, t.index)
	if len(q.h) == 0 && !q.next.IsZero() {
		q.wake.Stop()
		q.next = time.Time{}
	}
}

// runTimers is the service goroutine.
func (pr *Protocol) runTimers() {
	for range pr.timers.wake.C {
		for more := true; more; {
			pr.mu.Lock()
			more = pr.runDue(time.Now(), timerBatch)
			pr.unlock()
		}
	}
}

// runDue runs up to max timers due by now, earliest first, and reports whether more are
// due; if none are, it sets the wake-up for the next. Timers the handlers arm are due after
// now: the wake-up, still at the deadline that fired, does not move for them. Called with mu
// held.
func (pr *Protocol) runDue(now time.Time, max int) bool {
	q := &pr.timers
	for n := 0; len(q.h) > 0 && !q.h[0].at.After(now); n++ {
		if n == max {
			return true
		}
		heap.Pop(&q.h).(*epTimer).fire()
	}
	q.next = time.Time{}
	if len(q.h) > 0 {
		q.next = q.h[0].at
		q.wake.Reset(time.Until(q.next))
	}
	return false
}

// timerHeap orders armed timers by deadline (container/heap), keeping each one's index.
type timerHeap []*epTimer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }

func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}

func (h *timerHeap) Push(x any) {
	t := x.(*epTimer)
	t.index = len(*h)
	*h = append(*h, t)
}

func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.index = -1
	return t
}
