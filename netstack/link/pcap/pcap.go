// Package pcap wraps a link endpoint and records every frame in both directions in the
// classic libpcap file format (LINKTYPE_ETHERNET), for Wireshark or tcpdump -r.
package pcap

import (
	"encoding/binary"
	"io"
	"sync"
	"time"

	"goxen/netstack/buffer"
	"goxen/netstack/link"
)

// Endpoint is a recording wrapper around another endpoint.
type Endpoint struct {
	link.Endpoint
	mu      sync.Mutex
	w       io.Writer
	snaplen uint32
	err     error
}

// New writes the pcap file header to w and returns the wrapper around lower; frames longer
// than snaplen are recorded truncated.
func New(lower link.Endpoint, w io.Writer, snaplen uint32) (*Endpoint, error) {
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], snaplen)
	binary.LittleEndian.PutUint32(h[20:], 1) // LINKTYPE_ETHERNET
	if _, err := w.Write(h[:]); err != nil {
		return nil, err
	}
	return &Endpoint{Endpoint: lower, w: w, snaplen: snaplen}, nil
}

func (e *Endpoint) record(b []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err != nil {
		return
	}
	now := time.Now()
	n := uint32(len(b))
	c := min(n, e.snaplen)
	var h [16]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(now.Unix()))
	binary.LittleEndian.PutUint32(h[4:], uint32(now.Nanosecond()/1000))
	binary.LittleEndian.PutUint32(h[8:], c)
	binary.LittleEndian.PutUint32(h[12:], n)
	if _, e.err = e.w.Write(h[:]); e.err == nil {
		_, e.err = e.w.Write(b[:c])
	}
}

// Err returns the first write error, after which recording stopped.
func (e *Endpoint) Err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

func (e *Endpoint) WritePacket(p *buffer.Packet) error {
	e.record(p.Bytes())
	return e.Endpoint.WritePacket(p)
}

func (e *Endpoint) Attach(d link.Dispatcher) {
	if d == nil {
		e.Endpoint.Attach(nil)
		return
	}
	e.Endpoint.Attach(recorder{e, d})
}

// recorder records incoming frames on their way to d, passing batches on as batches.
type recorder struct {
	e *Endpoint
	d link.Dispatcher
}

func (r recorder) DeliverFrame(p *buffer.Packet) {
	r.e.record(p.Bytes())
	r.d.DeliverFrame(p)
}

func (r recorder) DeliverFrames(ps []*buffer.Packet) {
	for _, p := range ps {
		r.e.record(p.Bytes())
	}
	link.Deliver(r.d, ps)
}
