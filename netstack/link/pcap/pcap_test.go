package pcap

import (
	"bytes"
	"encoding/binary"
	"testing"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
	"goxen/netstack/link"
	"goxen/netstack/link/channel"
)

func TestRecordsBothDirections(t *testing.T) {
	ch := channel.New(4, 1500, header.LinkAddr{2})
	var out bytes.Buffer
	ep, err := New(ch, &out, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	ep.Attach(link.DispatcherFunc(func(p *buffer.Packet) { got = append(got, p.Bytes()...); p.Release() }))
	ep.WritePacket(buffer.FromBytes([]byte("outbound-frame")))
	ch.Inject([]byte("in"))
	if string(got) != "in" || string(ch.Read()) != "outbound-frame" {
		t.Fatal("frames not passed through")
	}
	b := out.Bytes()
	if binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 || binary.LittleEndian.Uint32(b[20:]) != 1 {
		t.Fatal("file header")
	}
	r1 := b[24:]
	if binary.LittleEndian.Uint32(r1[8:]) != 10 || binary.LittleEndian.Uint32(r1[12:]) != 14 || string(r1[16:26]) != "outbound-f" {
		t.Fatalf("record 1 %x", r1)
	}
	r2 := r1[26:]
	if binary.LittleEndian.Uint32(r2[8:]) != 2 || string(r2[16:18]) != "in" || len(r2) != 18 {
		t.Fatalf("record 2 %x", r2)
	}
}

// batchCounter is a link.BatchDispatcher counting what it is handed.
type batchCounter struct{ batches, frames int }

func (c *batchCounter) DeliverFrame(p *buffer.Packet) { c.frames++; p.Release() }

func (c *batchCounter) DeliverFrames(ps []*buffer.Packet) {
	c.batches++
	for _, p := range ps {
		c.DeliverFrame(p)
	}
}

// Recording keeps a device's batches whole for the stack (which coalesces their segments),
// and records each frame.
func TestPassesBatches(t *testing.T) {
	ch := channel.New(4, 1500, header.LinkAddr{2})
	var out bytes.Buffer
	ep, err := New(ch, &out, 100)
	if err != nil {
		t.Fatal(err)
	}
	var c batchCounter
	ep.Attach(&c)
	ch.InjectPackets([]*buffer.Packet{buffer.FromBytes([]byte("a")), buffer.FromBytes([]byte("b")), buffer.FromBytes([]byte("c"))})
	if c.batches != 1 || c.frames != 3 || out.Len() != 24+3*(16+1) {
		t.Fatalf("%d batches, %d frames, %d bytes recorded", c.batches, c.frames, out.Len())
	}
}
