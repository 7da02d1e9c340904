// Package loopback is a link endpoint whose sent frames come straight back in: the stack's
// "lo" NIC. The stack recognises it (Loopback reports true) and then accepts every address
// of the NIC's subnets (127.0.0.0/8 answers as a whole, as on Linux), sends no ARP on it and
// routes packets for any of its own addresses through it.
//
// WritePacket hands the frame to the dispatcher on the calling goroutine. That is safe with
// stack.Stack, which writes frames only after releasing its mutex, one flusher at a time;
// the frames a delivery produces are queued and written by the same flusher afterwards, so
// order is kept and the call depth stays bounded. Other users must not call WritePacket
// while holding a lock the dispatcher takes.
package loopback

import (
	"sync"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
	"goxen/netstack/link"
)

// DefaultMTU is the MTU of New(0): large segments without per-packet allocations beyond
// 16 KiB (Linux's lo has 65536; an IPv4 packet cannot exceed 65535 anyway).
const DefaultMTU = 16384

// Endpoint is a loopback device.
type Endpoint struct {
	mtu    int
	mu     sync.Mutex
	d      link.Dispatcher
	closed bool
}

var _ link.Endpoint = (*Endpoint)(nil)

// New returns a loopback endpoint with the given MTU (0: DefaultMTU; at most 65535).
func New(mtu int) *Endpoint {
	if mtu <= 0 {
		mtu = DefaultMTU
	}
	return &Endpoint{mtu: min(mtu, header.IPv4MaxTotalLen)}
}

func (e *Endpoint) MTU() int { return e.mtu }

// LinkAddr is the all-zero MAC, as Linux's lo has.
func (e *Endpoint) LinkAddr() header.LinkAddr { return header.LinkAddr{} }

// Loopback marks the endpoint as a loopback device for the stack.
func (e *Endpoint) Loopback() bool { return true }

// Offloads: nothing is ever cut or checksummed on the way back in, so the device "takes"
// segments of any size up to an IPv4 packet's and partial checksums, as Linux's lo does.
func (e *Endpoint) Offloads() link.Offloads {
	return link.Offloads{TxCsum: true, GSOMaxSize: header.IPv4MaxTotalLen, GSOv4: true, GSOv6: true}
}

// WritePacket delivers p to the attached dispatcher at once (a partial checksum as one the
// receiver need not verify).
func (e *Endpoint) WritePacket(p *buffer.Packet) error {
	p.Offload.ReceivedLocally()
	e.mu.Lock()
	d, closed := e.d, e.closed
	e.mu.Unlock()
	if closed || d == nil {
		p.Release()
		return link.ErrClosed
	}
	d.DeliverFrame(p)
	return nil
}

func (e *Endpoint) Attach(d link.Dispatcher) {
	e.mu.Lock()
	e.d = d
	e.mu.Unlock()
}

func (e *Endpoint) Close() error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	return nil
}
