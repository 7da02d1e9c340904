package tcp

import (
	"container/heap"
	"math/rand"
	"runtime"
	"testing"
	"time"

	"goxen/netstack/stack"
)

// timerProto is a protocol on a stack without NICs, and n endpoints of it in CLOSED (their
// timers' handlers send nothing).
func timerProto(t *testing.T, o Options, n int) (*Protocol, []*Endpoint) {
	st := stack.New(stack.Options{})
	t.Cleanup(st.Close)
	pr := NewWithOptions(st, o)
	es := make([]*Endpoint, n)
	for i := range es {
		es[i] = pr.newEndpoint()
	}
	return pr, es
}

// checkHeap fails unless the timer heap is ordered and every entry knows its index.
func checkHeap(t *testing.T, pr *Protocol) {
	t.Helper()
	h := pr.timers.h
	for i, x := range h {
		if x.index != i {
			t.Fatalf("entry %d has index %d", i, x.index)
		}
		if p := (i - 1) / 2; i > 0 && h[i].at.Before(h[p].at) {
			t.Fatalf("entry %d due before its parent %d", i, p)
		}
	}
}

// The heap gives back armed timers earliest first, re-armed ones at their new deadline and
// cancelled ones not at all.
func TestTimerHeapOrder(t *testing.T) {
	pr, es := timerProto(t, Options{}, 500)
	rng := rand.New(rand.NewSource(1))
	base := time.Now().Add(time.Hour)
	want := map[*epTimer]time.Time{}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	for _, e := range es {
		for _, tm := range []*epTimer{&e.rtoTimer, &e.dackTimer, &e.lingerTimer, &e.kaTimer} {
			at := base.Add(time.Duration(rng.Intn(1000)) * time.Millisecond)
			pr.armTimer(tm, at)
			want[tm] = at
		}
	}
	for tm := range want {
		switch rng.Intn(3) {
		case 0:
			at := base.Add(time.Duration(rng.Intn(1000)) * time.Millisecond)
			pr.armTimer(tm, at)
			want[tm] = at
		case 1:
			pr.cancelTimer(tm)
			delete(want, tm)
			if tm.armed() {
				t.Fatal("cancelled timer still armed")
			}
		}
	}
	checkHeap(t, pr)
	if len(pr.timers.h) != len(want) {
		t.Fatalf("%d in the heap, %d armed", len(pr.timers.h), len(want))
	}
	var last time.Time
	for len(pr.timers.h) > 0 {
		tm := heap.Pop(&pr.timers.h).(*epTimer)
		if tm.at.Before(last) || !tm.at.Equal(want[tm]) {
			t.Fatalf("popped %v after %v, armed for %v", tm.at, last, want[tm])
		}
		last = tm.at
		delete(want, tm)
	}
	if len(want) != 0 {
		t.Fatalf("%d armed timers not in the heap", len(want))
	}
}

// Arming, re-arming and cancelling every kind of timer allocates nothing, with thousands of
// others armed.
func TestTimerRearmNoAlloc(t *testing.T) {
	pr, es := timerProto(t, Options{DelayedAck: time.Hour}, 2000)
	e := es[0]
	pr.mu.Lock()
	defer pr.mu.Unlock()
	for i, x := range es {
		x.armRTOFor(time.Hour + time.Duration(i)*time.Millisecond)
		x.armDelayedAck()
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		i++
		e.armRTOFor(time.Hour + time.Duration(i%3000)*time.Millisecond)
		e.armPersist()
		e.cancelDelack()
		e.armDelayedAck()
		e.armLinger(2 * time.Hour)
		e.armKeepalive(time.Duration(i) * time.Second)
		e.cancelLinger()
		e.cancelKeepalive()
		e.cancelRTO()
		e.armRTO()
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per re-arm", allocs)
	}
	checkHeap(t, pr)
}

// Due timers run in batches of timerBatch under one hold of mu, earliest first, until none is
// due; the next one's wake-up is then set.
func TestTimersRunInBatches(t *testing.T) {
	const n = 2000
	pr, es := timerProto(t, Options{DelayedAck: time.Hour}, n+1)
	pr.mu.Lock()
	defer pr.mu.Unlock()
	for _, e := range es[:n] {
		e.armDelayedAck()
	}
	es[n].armLinger(3 * time.Hour)
	now := time.Now().Add(2 * time.Hour)
	batches := 1
	for pr.runDue(now, timerBatch) {
		batches++
	}
	if batches != (n+timerBatch-1)/timerBatch {
		t.Fatalf("%d batches for %d timers", batches, n)
	}
	for _, e := range es[:n] {
		if e.dackArmed || e.dackTimer.armed() {
			t.Fatal("a due delayed ACK did not run")
		}
	}
	if len(pr.timers.h) != 1 || !pr.timers.next.Equal(es[n].lingerAt) {
		t.Fatalf("%d left, wake-up at %v, want %v", len(pr.timers.h), pr.timers.next, es[n].lingerAt)
	}
}

// Thousands of timers coming due at once are run by the one service goroutine: no goroutine
// per timer waits for mu, even while mu is held past their deadline.
func TestTimersOneGoroutine(t *testing.T) {
	const n = 2000
	pr, es := timerProto(t, Options{DelayedAck: time.Millisecond}, n)
	before := runtime.NumGoroutine()
	pr.mu.Lock()
	for _, e := range es {
		e.armDelayedAck()
		e.armRTOFor(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // due now: they wait for mu
	during := runtime.NumGoroutine()
	pr.mu.Unlock()
	waitTimers(t, pr)
	after := runtime.NumGoroutine()
	if during-before > 50 || after-before > 50 {
		t.Fatalf("goroutines: %d before, %d with %d timers due, %d after", before, during, 2*n, after)
	}
	for _, e := range es {
		if e.dackArmed || e.rtoArmed || e.rto != 2*pr.opts.InitialRTO {
			t.Fatalf("timers did not run: delack %v rto %v (%v)", e.dackArmed, e.rtoArmed, e.rto)
		}
	}
}

// waitTimers waits until the service has run every armed timer.
func waitTimers(t *testing.T, pr *Protocol) {
	t.Helper()
	for i := 0; ; i++ {
		pr.mu.Lock()
		left := len(pr.timers.h)
		pr.mu.Unlock()
		if left == 0 {
			return
		}
		if i == 1000 {
			t.Fatalf("%d timers still armed", left)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A cancelled timer leaves the heap and never runs, even when its handler would still act.
func TestCancelledTimersNeverFire(t *testing.T) {
	const n = 1000
	pr, es := timerProto(t, Options{}, n)
	pr.mu.Lock()
	for i, e := range es {
		e.armRTOFor(time.Millisecond)
		if i%2 == 1 {
			pr.cancelTimer(&e.rtoTimer) // rtoArmed stays set: a run would back off
		}
	}
	if len(pr.timers.h) != n/2 {
		t.Fatalf("%d in the heap, want %d", len(pr.timers.h), n/2)
	}
	pr.mu.Unlock()
	waitTimers(t, pr)
	pr.mu.Lock()
	defer pr.mu.Unlock()
	for i, e := range es {
		if ran := e.rto != pr.opts.InitialRTO; ran != (i%2 == 0) {
			t.Fatalf("endpoint %d: ran %v, cancelled %v", i, ran, i%2 == 1)
		}
	}
}

// A torn-down endpoint's timers, every kind, are out of the heap.
func TestTeardownLeavesTimerHeap(t *testing.T) {
	pr, es := timerProto(t, Options{}, 2)
	e, other := es[0], es[1]
	pr.mu.Lock()
	defer pr.mu.Unlock()
	other.armRTOFor(time.Hour)
	e.state = Established
	e.armRTOFor(time.Hour)
	e.armDelayedAck()
	e.armFinWait2()
	e.ka.Enable = true
	e.armKeepalive(time.Hour)
	checkHeap(t, pr)
	if len(pr.timers.h) != 5 {
		t.Fatalf("%d in the heap, want 5", len(pr.timers.h))
	}
	e.teardown(nil)
	for _, tm := range []*epTimer{&e.rtoTimer, &e.dackTimer, &e.lingerTimer, &e.kaTimer} {
		if tm.armed() {
			t.Fatalf("timer %d still armed after teardown", tm.kind)
		}
	}
	if len(pr.timers.h) != 1 || pr.timers.h[0] != &other.rtoTimer {
		t.Fatalf("%d in the heap, want the other endpoint's RTO", len(pr.timers.h))
	}
}
