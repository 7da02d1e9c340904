// Package channel is a link endpoint for tests: frames the stack sends are queued on a
// channel for the test to read, and the test injects frames as if they came from the wire
// (delivered synchronously on the caller's goroutine).
package channel

import (
	"context"
	"sync"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
	"goxen/netstack/link"
)

// Endpoint is a queueing link endpoint.
type Endpoint struct {
	mtu  int
	addr header.LinkAddr
	out  chan *buffer.Packet

	mu       sync.Mutex
	d        link.Dispatcher
	closed   bool
	offloads link.Offloads
	batch    int // Wire's batches towards this endpoint (SetBatch)
	Dropped  int // frames sent while the queue was full
}

// New returns an endpoint whose outbound queue holds size frames.
func New(size, mtu int, addr header.LinkAddr) *Endpoint {
	return &Endpoint{mtu: mtu, addr: addr, out: make(chan *buffer.Packet, size)}
}

// SetOffloads makes the endpoint claim o (before it is added to a stack): the stack then
// hands it partial checksums and segments larger than the MTU, as it would a TAP with a
// vnet header or netfront with GSO, and the test sees the packets as the device would.
func (e *Endpoint) SetOffloads(o link.Offloads) { e.offloads = o }

// SetBatch makes Wire hand the frames sent to this endpoint over in batches of up to n
// (link.Deliver), as many as are queued when it looks, as a device draining its ring in one
// go does, instead of one at a time (before Wire).
func (e *Endpoint) SetBatch(n int) { e.batch = n }

// Offloads returns what SetOffloads set (none by default).
func (e *Endpoint) Offloads() link.Offloads { return e.offloads }

func (e *Endpoint) MTU() int                  { return e.mtu }
func (e *Endpoint) LinkAddr() header.LinkAddr { return e.addr }

func (e *Endpoint) Attach(d link.Dispatcher) {
	e.mu.Lock()
	e.d = d
	e.mu.Unlock()
}

// WritePacket queues the frame, or drops it (counting Dropped) when the queue is full.
func (e *Endpoint) WritePacket(p *buffer.Packet) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		p.Release()
		return link.ErrClosed
	}
	select {
	case e.out <- p:
	default:
		e.Dropped++
		p.Release()
	}
	return nil
}

func (e *Endpoint) Close() error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	return nil
}

// Inject delivers a copy of frame to the attached dispatcher.
func (e *Endpoint) Inject(frame []byte) {
	e.mu.Lock()
	d := e.d
	e.mu.Unlock()
	if d != nil {
		d.DeliverFrame(buffer.FromBytes(frame))
	}
}

// InjectPacket delivers p itself (with its offload state as a receiving device would set
// it: a partial checksum counts as verified) to the attached dispatcher; it owns p.
func (e *Endpoint) InjectPacket(p *buffer.Packet) {
	e.mu.Lock()
	d := e.d
	e.mu.Unlock()
	p.Offload.ReceivedLocally()
	if d == nil {
		p.Release()
		return
	}
	d.DeliverFrame(p)
}

// InjectPackets delivers ps as one batch (link.Deliver), each packet with its offload state
// set as InjectPacket sets it; it owns the packets, not the slice.
func (e *Endpoint) InjectPackets(ps []*buffer.Packet) {
	e.mu.Lock()
	d := e.d
	e.mu.Unlock()
	for _, p := range ps {
		p.Offload.ReceivedLocally()
		if d == nil {
			p.Release()
		}
	}
	if d != nil {
		link.Deliver(d, ps)
	}
}

// C is the queue of sent frames.
func (e *Endpoint) C() <-chan *buffer.Packet { return e.out }

// Read returns the next sent frame's bytes, or nil if none is queued.
func (e *Endpoint) Read() []byte {
	select {
	case p := <-e.out:
		b := append([]byte(nil), p.Bytes()...)
		p.Release()
		return b
	default:
		return nil
	}
}

// ReadContext waits for the next sent frame until ctx ends (then returns nil).
func (e *Endpoint) ReadContext(ctx context.Context) []byte {
	select {
	case p := <-e.out:
		b := append([]byte(nil), p.Bytes()...)
		p.Release()
		return b
	case <-ctx.Done():
		return nil
	}
}

// Drain discards all queued frames and returns how many there were.
func (e *Endpoint) Drain() int {
	n := 0
	for e.Read() != nil {
		n++
	}
	return n
}

// Len is the number of queued frames.
func (e *Endpoint) Len() int { return len(e.out) }
