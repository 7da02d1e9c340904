package tap

import (
	"errors"
	"os"
	"syscall"
	"time"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
	"goxen/netstack/link"
)

// Receiving. One goroutine at a time reads the device and hands what it read to the stack:
// the endpoint's own loop, or a goroutine of the stack about to wait for what frames bring
// (link.Poller: a UDP or TCP reader, a writer waiting for room). When the loop hands a frame's
// work to such a goroutine, Go's scheduler wakes a second thread to run it whenever a P is
// idle; a socket reader on Linux gets the kernel's work done on the thread already running.
// So the loop gives the duty to waiters when one asks, and takes it back when none has read
// for handBack (a waiter away doing its own work): frames then wait at most about that long.
// While a waiter reads, the loop sleeps; the first waiter to leave wakes it to time that, so
// the loop wakes about once per handBack under load and not at all while a waiter waits
// idle.

// handBack is how long the device may go unread while waiters have the duty.
const handBack = 2 * time.Millisecond

type rxDuty uint8

const (
	dutyLoop    rxDuty = iota // the loop reads
	dutyWaiters               // a goroutine in PollWait reads (when one is inside)
)

// rxState is the reading goroutine's: the packet the next read goes into, the batch being
// gathered and what the last read(2) returned.
type rxState struct {
	rc    syscall.RawConn
	size  int // the largest frame read
	next  *buffer.Packet
	n     int
	err   error
	wait  bool // the first frame of a batch: wait in Go's poller for one
	lone  bool // the batch's first frame had to be waited for: hand it on by itself
	read  func(fd uintptr) bool
	batch [link.MaxBatch]*buffer.Packet
}

var errDeviceClosed = errors.New("tap: device closed")

// aLongTimeAgo is a read deadline in the past: it makes a read waiting in Go's poller
// return (a kick).
var aLongTimeAgo = time.Unix(1, 0)

func (e *Endpoint) initRx() error {
	e.handed.L = &e.pmu
	rc, err := e.f.SyscallConn()
	if err != nil {
		return err
	}
	r := &e.rx
	r.rc, r.size = rc, e.mtu+header.EthernetMinSize
	if e.offload {
		r.size = vnetHdrLen + maxFrame
	}
	r.read = func(fd uintptr) bool {
		for {
			r.n, r.err = syscall.Read(int(fd), r.next.Bytes())
			if r.err != syscall.EINTR {
				if r.wait && r.err == syscall.EAGAIN {
					r.lone = true
					return false // wait in Go's poller, then read again
				}
				return true
			}
		}
	}
	return nil
}

// readBatch reads frames into e.rx.batch and returns how many: it waits for the first frame
// of a batch, then takes the frames already queued without waiting, up to link.MaxBatch, so
// that the stack can coalesce a burst's TCP segments (stack/gro.go). Looking for a second
// frame costs a read(2) that fails when none is queued, and the first frame would be late by
// that much: a frame that had to be waited for (the queue was empty, as in request and answer
// traffic) goes on alone at once, and the read that finds the queue empty comes after it, as
// a socket's reader makes it; a frame that was already queued starts a batch. Reads go into
// a packet big enough for the largest frame; where that is a 64 KiB one (offloads), a frame
// that fits a small packet is copied into one, so that queues are charged what it holds.
// The error is os.ErrDeadlineExceeded after a kick or the reader's deadline, errDeviceClosed
// once the device is closed (the batch read before still counts).
func (e *Endpoint) readBatch() (int, error) {
	r := &e.rx
	k := 0
	r.lone = false
	for k < len(r.batch) {
		if r.next == nil {
			r.next = buffer.New(buffer.Headroom, r.size)
			r.next.Grow(r.size) // New leaves room for size bytes
		}
		r.wait = k == 0
		if err := r.rc.Read(r.read); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return k, err
			}
			return k, errDeviceClosed
		}
		if (r.err != nil && r.err != syscall.EAGAIN) || (r.err == nil && r.n <= 0) {
			return k, errDeviceClosed
		}
		if r.err == syscall.EAGAIN {
			break
		}
		p := r.next
		if r.size > buffer.SmallMax && r.n < buffer.BigMin {
			p = buffer.FromBytes(r.next.Bytes()[:r.n])
		} else {
			p.Trim(r.n)
			r.next = nil
		}
		if e.offload && !e.takeVnetHdr(p) {
			e.RxBad.Add(1)
			p.Release()
			continue
		}
		r.batch[k] = p
		k++
		if r.lone {
			break
		}
	}
	return k, nil
}

// deliverBatch hands the k frames read to the dispatcher (frames arriving before Attach are
// dropped).
func (e *Endpoint) deliverBatch(k int) {
	e.deliver(e.rx.batch[:k])
	clear(e.rx.batch[:k])
}

// readLoop reads while it has the duty, and otherwise waits until the waiters have left the
// device unread for handBack.
func (e *Endpoint) readLoop() {
	defer close(e.done)
	t := time.NewTimer(time.Hour)
	t.Stop()
	for {
		if !e.loopTakes(t) {
			break
		}
		k, err := e.readBatch()
		e.deliverBatch(k)
		e.pmu.Lock()
		e.inside = false
		gave := e.want && !e.rxDone
		if gave {
			e.handOver()
		}
		e.pmu.Unlock()
		if errors.Is(err, errDeviceClosed) {
			e.releaseNext()
			break
		}
		if err != nil && !gave {
			e.f.SetReadDeadline(time.Time{}) // not a hand-over's kick: do not spin on it
		}
	}
}

// releaseNext gives back the packet the next read would have gone into, by the reader that
// found the device closed (only the reader inside touches e.rx).
func (e *Endpoint) releaseNext() {
	if e.rx.next != nil {
		e.rx.next.Release()
		e.rx.next = nil
	}
}

// handOver gives the duty to the waiter that asked for it, which waits for it (PollWait).
// Called with pmu held.
func (e *Endpoint) handOver() {
	e.want, e.duty, e.awayAt = false, dutyWaiters, time.Now()
	e.handed.Broadcast()
}

// loopTakes waits until the loop has the duty (taking it back from waiters that left the
// device unread for handBack) and marks it inside; a waiter that asked for the duty gets it
// first. False once the device is closed.
func (e *Endpoint) loopTakes(t *time.Timer) bool {
	for {
		e.pmu.Lock()
		if e.rxDone {
			e.pmu.Unlock()
			return false
		}
		back := false
		if e.duty == dutyWaiters && !e.inside && time.Since(e.awayAt) >= handBack {
			e.duty, back = dutyLoop, true
		}
		if e.duty == dutyLoop && !e.inside {
			if e.want {
				e.handOver()
				e.pmu.Unlock()
				continue
			}
			e.inside = true
			e.pmu.Unlock()
			if !back {
				return true
			}
			// A waiter's deadline or a kick may be left on the device. A waiter asking for
			// the duty meanwhile kicked a read that had not begun: it gets the duty now.
			e.f.SetReadDeadline(time.Time{})
			e.pmu.Lock()
			if e.want {
				e.inside = false
				e.handOver()
				e.pmu.Unlock()
				continue
			}
			e.pmu.Unlock()
			return true
		}
		if e.inside {
			// A waiter reads: sleep until one leaves (PollWait wakes the loop then).
			e.parked = true
			e.pmu.Unlock()
			<-e.wake
			continue
		}
		wait := handBack - time.Since(e.awayAt)
		e.pmu.Unlock()
		t.Reset(max(wait, 100*time.Microsecond))
		select {
		case <-t.C:
		case <-e.wake:
			t.Stop()
		}
	}
}

// PollWait (link.Poller) reads frames and delivers them on the calling goroutine until ready
// has a value (taken), Kick is called or deadline (if not zero) passes, and then reports
// true: the caller looks again at what it waits for. While the loop has the duty, it asks for
// it and waits until the loop hands it over (a waiter that went back to its channel instead
// would leave the device unread until the loop took the duty back). It reports false at once
// when it cannot read here: another goroutine reads, or the device is closed; the caller then
// waits as it would otherwise.
func (e *Endpoint) PollWait(ready <-chan struct{}, deadline time.Time) bool {
	e.pmu.Lock()
	if !e.rxDone && e.duty == dutyLoop {
		// Ask the loop for the duty and wait for it: the loop hands over after its batch
		// (kicked out of its read), or at once if it is not reading.
		if !e.want {
			e.want = true
			if e.inside {
				e.f.SetReadDeadline(aLongTimeAgo)
			}
		}
		for !e.rxDone && e.duty == dutyLoop {
			e.handed.Wait()
		}
	}
	if e.rxDone || e.inside {
		e.pmu.Unlock()
		return false
	}
	e.inside = true
	kicks := e.kicks
	e.pmu.Unlock()
	e.f.SetReadDeadline(deadline)
	e.pmu.Lock()
	kicked := e.kicks != kicks // a kick before the deadline was set would be lost
	e.pmu.Unlock()
	ok := true
	for !kicked {
		select {
		case <-ready:
		default:
			k, err := e.readBatch()
			e.deliverBatch(k)
			if err == nil {
				continue
			}
			if ok = !errors.Is(err, errDeviceClosed); !ok {
				e.releaseNext()
			}
		}
		break
	}
	e.pmu.Lock()
	e.inside, e.awayAt = false, time.Now()
	if e.parked { // the loop sleeps until a waiter leaves: it now times how long the device stays unread
		e.parked = false
		select {
		case e.wake <- struct{}{}:
		default:
		}
	}
	e.pmu.Unlock()
	return ok
}

// Kick (link.Poller) makes a PollWait in progress return: what its caller waits for may have
// changed otherwise than by a frame (a close, a deadline, data from the loopback).
func (e *Endpoint) Kick() {
	e.pmu.Lock()
	if e.inside && e.duty == dutyWaiters {
		e.kicks++
		e.f.SetReadDeadline(aLongTimeAgo)
	}
	e.pmu.Unlock()
}
