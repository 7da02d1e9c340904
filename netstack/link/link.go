// Package link defines the boundary between the stack and a network device: an Endpoint
// sends and receives whole Ethernet frames. Netfront in a Xen guest, a Linux TAP device
// (link/tap), the test queue (link/channel) and the wrappers that record (link/pcap) or
// disturb (link/fault) traffic are all Endpoints.
package link

import (
	"errors"
	"time"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
)

// Endpoint is a network device carrying Ethernet frames.
type Endpoint interface {
	// MTU is the largest IP packet the device carries (the frame size less the Ethernet
	// header), e.g. 1500.
	MTU() int
	// LinkAddr is the device's MAC address.
	LinkAddr() header.LinkAddr
	// WritePacket sends one Ethernet frame (the packet's whole contents). The endpoint owns
	// the packet from the call on and releases it. It may block for back-pressure; it does
	// not spin.
	WritePacket(p *buffer.Packet) error
	// Attach makes d the receiver of incoming frames (nil detaches). Endpoints call
	// d.DeliverFrame from their own receive goroutine, one frame at a time, or Deliver with
	// a batch of frames.
	Attach(d Dispatcher)
	// Close stops the device; WritePacket fails afterwards.
	Close() error
}

// Dispatcher receives frames from an Endpoint. DeliverFrame owns the packet.
type Dispatcher interface {
	DeliverFrame(p *buffer.Packet)
}

// BatchDispatcher is a Dispatcher that also takes frames in batches: a device that drains a
// ring in one go or reads several frames at once hands them over together, and the
// dispatcher may hold TCP segments of one flow back until the end of the batch to coalesce
// them (stack/gro.go). It owns the packets, not the slice, which the endpoint reuses. An
// endpoint that only calls DeliverFrame gets no coalescing and no added latency.
type BatchDispatcher interface {
	Dispatcher
	DeliverFrames(ps []*buffer.Packet)
}

// MaxBatch is the most frames an endpoint should gather for one DeliverFrames (Linux's NAPI
// weight): the first frame waits for the others.
const MaxBatch = 64

// Deliver hands ps to d as one batch if d takes batches, else one frame at a time.
func Deliver(d Dispatcher, ps []*buffer.Packet) {
	if bd, ok := d.(BatchDispatcher); ok {
		bd.DeliverFrames(ps)
		return
	}
	for _, p := range ps {
		d.DeliverFrame(p)
	}
}

// Poller is an Endpoint whose frames a goroutine about to wait for the network may read and
// deliver itself, instead of the endpoint's receive goroutine reading them and handing the
// work over (link/tap: Go's scheduler wakes a second thread for each such hand-off while a P
// is idle, where Linux's stack does that work on the thread already running).
type Poller interface {
	// PollWait reads and delivers frames on the calling goroutine until ready has a value
	// (which it takes), Kick is called or deadline (if not zero) passes, and then reports
	// true: the caller looks again at what it waits for. It reports false at once when the
	// caller cannot read here (another goroutine does, or the device is closed): the caller
	// then waits as it would have.
	PollWait(ready <-chan struct{}, deadline time.Time) bool
	// Kick makes a PollWait in progress return. Whoever changes what a waiter waits for
	// otherwise than by a frame (a close, a deadline, a loopback delivery) signals its
	// channel first, then kicks.
	Kick()
}

// ErrClosed is returned by WritePacket on a closed endpoint.
var ErrClosed = errors.New("link: endpoint closed")

// DispatcherFunc adapts a function to Dispatcher.
type DispatcherFunc func(p *buffer.Packet)

// DeliverFrame calls f(p).
func (f DispatcherFunc) DeliverFrame(p *buffer.Packet) { f(p) }

// Offloader is implemented by endpoints whose device does work for the stack on the packets
// it sends (buffer.Offload). An endpoint that does not implement it gets complete packets of
// at most MTU bytes.
type Offloader interface {
	Offloads() Offloads
}

// Offloads is what a device does on send.
type Offloads struct {
	// TxCsum: the device completes partial TCP and UDP checksums (buffer.Offload.CsumPartial).
	TxCsum bool
	// GSOMaxSize is the largest IP packet (header included, at most 65535) the device cuts
	// into MTU-sized TCP segments, 0 for none; GSOv4 and GSOv6 say for which IP versions.
	// A device with GSO also has TxCsum: every piece's checksum is the device's.
	GSOMaxSize   int
	GSOv4, GSOv6 bool
	// Frags: WritePacket reads a packet's fragment where it lies (buffer.Packet.Parts)
	// instead of having it copied in behind the headers; the stack then sends TCP payload
	// straight from the send queue.
	Frags bool
}

// OffloadsOf returns ep's offloads (none for an endpoint that is not an Offloader).
func OffloadsOf(ep Endpoint) Offloads {
	if o, ok := ep.(Offloader); ok {
		return o.Offloads()
	}
	return Offloads{}
}
