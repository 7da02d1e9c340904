package tap

import (
	"bytes"
	"sync/atomic"
	"testing"
	"time"

	"goxen/netstack/buffer"
)

// pollRecorder records which goroutine delivered each frame: the one in PollWait (polling
// set around the call) or the read loop; it signals ready on each frame.
type pollRecorder struct {
	polling atomic.Bool
	byPoll  atomic.Int32
	byLoop  atomic.Int32
	ready   chan struct{}
	frames  chan []byte
}

func (r *pollRecorder) DeliverFrame(p *buffer.Packet) {
	if r.polling.Load() {
		r.byPoll.Add(1)
	} else {
		r.byLoop.Add(1)
	}
	r.frames <- append([]byte(nil), p.Bytes()...)
	p.Release()
	select {
	case r.ready <- struct{}{}:
	default:
	}
}

// pollWait runs e.PollWait with the recorder's flag set and returns what it reported and how
// long it took.
func (r *pollRecorder) pollWait(e *Endpoint, deadline time.Time) (bool, time.Duration) {
	t0 := time.Now()
	r.polling.Store(true)
	ok := e.PollWait(r.ready, deadline)
	r.polling.Store(false)
	return ok, time.Since(t0)
}

func waitDuty(t *testing.T, e *Endpoint, d rxDuty) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		e.pmu.Lock()
		got := e.duty == d && (d == dutyLoop || e.inside) // a waiter with the duty reads
		e.pmu.Unlock()
		if got {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("duty never went to %d", d)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestPollWait: a waiter asks the loop for the duty, then reads and delivers frames on its
// own goroutine until its channel has a value, a kick or its deadline; the loop takes the duty
// back once the device has gone unread for handBack; Close ends a PollWait in progress.
func TestPollWait(t *testing.T) {
	e, peer := seqpacketDevice(t)
	r := &pollRecorder{ready: make(chan struct{}, 1), frames: make(chan []byte, 16)}
	e.Attach(r)
	go e.readLoop()
	frame := bytes.Repeat([]byte{7}, 60)

	// The loop reads; a waiter asks it for the duty, gets it, and a frame arriving while it
	// polls is delivered on its goroutine.
	waitDuty(t, e, dutyLoop)
	done := make(chan bool)
	go func() { ok, _ := r.pollWait(e, time.Time{}); done <- ok }()
	waitDuty(t, e, dutyWaiters)
	time.Sleep(10 * time.Millisecond)
	peer.Write(frame)
	if ok := <-done; !ok || r.byPoll.Load() != 1 || r.byLoop.Load() != 0 {
		t.Fatalf("PollWait %v; delivered by the waiter %d, by the loop %d", ok, r.byPoll.Load(), r.byLoop.Load())
	}
	<-r.frames

	// Right after, the duty stays with the waiters.
	go func() { ok, _ := r.pollWait(e, time.Time{}); done <- ok }()
	time.Sleep(10 * time.Millisecond)
	peer.Write(frame)
	if ok := <-done; !ok || r.byPoll.Load() != 2 || r.byLoop.Load() != 0 {
		t.Fatalf("PollWait %v; delivered by the waiter %d, by the loop %d", ok, r.byPoll.Load(), r.byLoop.Load())
	}
	<-r.frames

	// Kick ends a wait with nothing to read; so does the deadline.
	go func() { ok, _ := r.pollWait(e, time.Time{}); done <- ok }()
	time.Sleep(10 * time.Millisecond)
	e.Kick()
	select {
	case ok := <-done:
		if !ok {
			t.Fatal("kicked PollWait reported false")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Kick did not end PollWait")
	}
	if ok, d := r.pollWait(e, time.Now().Add(30*time.Millisecond)); !ok || d < 25*time.Millisecond || d > 5*time.Second {
		t.Fatalf("deadline: %v after %v", ok, d)
	}

	// Unread for handBack, the device goes back to the loop, which delivers.
	waitDuty(t, e, dutyLoop)
	peer.Write(frame)
	<-r.frames
	if r.byLoop.Load() != 1 {
		t.Fatalf("delivered by the loop %d", r.byLoop.Load())
	}
	<-r.ready // the loop's delivery signalled it too

	// Close ends a PollWait in progress (which got the duty back from the loop) with false.
	go func() { ok, _ := r.pollWait(e, time.Time{}); done <- ok }()
	waitDuty(t, e, dutyWaiters)
	time.Sleep(10 * time.Millisecond)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case ok := <-done:
		if ok {
			t.Fatal("PollWait on a closed device reported true")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end PollWait")
	}
	if ok, _ := r.pollWait(e, time.Time{}); ok {
		t.Fatal("PollWait after Close reported true")
	}
}
