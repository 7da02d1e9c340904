package tcp_test

import (
	"bytes"
	"io"
	"net/netip"
	"sync"
	"testing"
	"time"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
	"goxen/netstack/link"
	"goxen/netstack/transport/tcp"
)

// segDropper drops the TCP data segments its rule picks from the frames it sends.
type segDropper struct {
	link.Endpoint
	mu      sync.Mutex
	seen    map[uint32]int // transmissions of each sequence number so far
	first   uint32         // the first data sequence number sent (set on the first)
	started bool
	rule    func(off uint32, n int) bool // off: from the first data byte; n: transmission number
	dropped int
}

func (d *segDropper) WritePacket(p *buffer.Packet) error {
	if t, ok := tcpSegment(p); ok && len(t.Payload()) > 0 && d.pick(t.Seq()) {
		p.Release()
		return nil
	}
	return d.Endpoint.WritePacket(p)
}

// tcpSegment returns the TCP segment a frame carries over IPv4, if it carries one.
func tcpSegment(p *buffer.Packet) (header.TCP, bool) {
	b := p.Bytes()
	if len(b) < header.EthernetMinSize+header.IPv4MinSize || b[12] != 0x08 || b[13] != 0x00 {
		return nil, false
	}
	ip := header.IPv4(b[header.EthernetMinSize:])
	if ip.Protocol() != uint8(header.TCPProtocolNumber) {
		return nil, false
	}
	return header.TCP(ip[ip.HeaderLen():ip.TotalLen()]), true
}

func (d *segDropper) pick(seq uint32) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.started {
		d.started, d.first, d.seen = true, seq, map[uint32]int{}
	}
	d.seen[seq]++
	if d.rule(seq-d.first, d.seen[seq]) {
		d.dropped++
		return true
	}
	return false
}

// sendThrough has B's side of a new connection write data to A with B's data segments
// passing through drop, and returns what A read and B's TCP counters.
func sendThrough(t *testing.T, opts tcp.Options, data []byte, rule func(off uint32, n int) bool) ([]byte, tcp.Stats, int) {
	t.Helper()
	d := &segDropper{rule: rule}
	a, b := pair(t, func(l link.Endpoint) link.Endpoint { d.Endpoint = l; return d }, opts)
	l, err := b.tp.Listen(netip.AddrPortFrom(addrB, 9), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c := dial(t, a, netip.AddrPortFrom(addrB, 9))
	s := accept(t, l)
	go func() {
		s.Write(data)
		s.CloseWrite()
	}()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read: %v (%d bytes)", err, len(got))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return got, b.tp.Stats(), d.dropped
}

// A tail of two segments whose first is lost draws one SACK: not enough for RFC 6675's
// DupThresh, enough for RACK, which marks the first lost once its round trip plus the
// reordering window has passed (at the ACK or by its timer, depending on how far apart the
// segments left): repaired by fast retransmit, with no probe (turned off here) and no
// retransmission timeout (1 s here, so that a slow machine cannot reach it by accident).
func TestRACKRepairsTailLossWithoutTimeout(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 2000/16)
	rule := func(off uint32, n int) bool { return off == 0 && n == 1 }
	opts := tcp.Options{NoTLP: true, MinRTO: time.Second}
	got, st, dropped := sendThrough(t, opts, data, rule)
	if !bytes.Equal(got, data) || dropped != 1 {
		t.Fatalf("%d bytes, %d dropped", len(got), dropped)
	}
	if st.RTOs != 0 || st.RACKLost == 0 || st.FastRetrans != 1 {
		t.Fatalf("stats %+v", st)
	}
	// Without RACK the same loss waits for the timeout.
	opts.NoRACK = true
	got, st, _ = sendThrough(t, opts, data, rule)
	if !bytes.Equal(got, data) || st.RTOs == 0 {
		t.Fatalf("without RACK: %d bytes, stats %+v", len(got), st)
	}
}

// A segment lost twice, the second time as its fast retransmission: RACK finds the lost
// retransmission once segments sent after it are SACKed, and repairs it within the same
// recovery, without a timeout.
func TestRACKRepairsLostRetransmission(t *testing.T) {
	data := make([]byte, 400<<10)
	for i := range data {
		data[i] = byte(i * 7)
	}
	lossAt := uint32(40 * 1448)
	rule := func(off uint32, n int) bool { return off == lossAt && n <= 2 }
	got, st, dropped := sendThrough(t, tcp.Options{MinRTO: time.Second}, data, rule)
	if !bytes.Equal(got, data) || dropped != 2 {
		t.Fatalf("%d bytes, %d dropped", len(got), dropped)
	}
	if st.RTOs != 0 || st.RACKLost < 2 {
		t.Fatalf("stats %+v", st)
	}
}
