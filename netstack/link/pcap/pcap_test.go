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
