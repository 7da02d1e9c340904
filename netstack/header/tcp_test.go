package header

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"testing"
)

// A SYN laid out as Linux sends it (MSS 1460, SACK-permitted, timestamps, NOP, window scale
// 7) from 10.0.0.1:40000 to 10.0.0.2:80; the checksum was computed independently (Python).
const linuxSYN = "9c4000500102030400000000a002faf0b6340000020405b40402080a0001e2400000000001030307"

func TestTCPParseFixture(t *testing.T) {
	b, _ := hex.DecodeString(linuxSYN)
	h := TCP(b)
	if !h.Valid() {
		t.Fatal("not valid")
	}
	src, dst := netip.AddrFrom4([4]byte{10, 0, 0, 1}), netip.AddrFrom4([4]byte{10, 0, 0, 2})
	if !h.ChecksumValid(src, dst) {
		t.Fatal("checksum")
	}
	if h.SrcPort() != 40000 || h.DstPort() != 80 || h.Seq() != 0x01020304 || h.Ack() != 0 ||
		h.Flags() != TCPFlagSYN || h.Window() != 64240 || h.DataOffset() != 40 || len(h.Payload()) != 0 {
		t.Fatalf("fields: %+v", h)
	}
	o, ok := ParseTCPOptions(h.Options())
	if !ok || o.MSS != 1460 || !o.SACKPermitted || !o.TS || o.TSVal != 123456 || o.TSEcr != 0 || o.WindowScale != 7 {
		t.Fatalf("options %+v %v", o, ok)
	}
	// Re-encode from the parsed fields: same bytes, same checksum.
	out := make([]byte, 40)
	opts := AppendTCPOptions(nil, &o)
	TCP(out).Encode(&TCPFields{SrcPort: 40000, DstPort: 80, Seq: 0x01020304, Flags: TCPFlagSYN, Window: 64240, Options: opts})
	TCP(out).SetChecksum(src, dst)
	if !bytes.Equal(out, b) {
		t.Fatalf("emit\n got %x\nwant %x", out, b)
	}
	b[30] ^= 1
	if h.ChecksumValid(src, dst) {
		t.Fatal("corrupt segment passed the checksum")
	}
}

func TestTCPValid(t *testing.T) {
	b, _ := hex.DecodeString(linuxSYN)
	if TCP(b[:19]).Valid() {
		t.Error("short header valid")
	}
	if TCP(b[:39]).Valid() {
		t.Error("data offset past the end valid")
	}
	c := append([]byte(nil), b...)
	c[12] = 4 << 4
	if TCP(c).Valid() {
		t.Error("data offset 16 valid")
	}
}

func TestTCPOptionsMalformed(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts string
	}{
		{"zero length", "0200"},
		{"past end", "020405"},
		{"mss length 3", "0203ff01"},
		{"wscale length 4", "03040700"},
		{"sack odd", "050600000001"},
		{"lone kind", "01010102"},
	} {
		b, _ := hex.DecodeString(tc.opts)
		if _, ok := ParseTCPOptions(b); ok {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	o, ok := ParseTCPOptions([]byte{TCPOptWindowScale, 3, 20, TCPOptEnd, 0xff})
	if !ok || o.WindowScale != TCPMaxWindowScale {
		t.Errorf("wscale clamp: %+v %v", o, ok)
	}
}

func TestTCPSACKOption(t *testing.T) {
	o := TCPOptions{WindowScale: -1, TS: true, TSVal: 1, TSEcr: 2,
		SACK: []TCPSACKBlock{{1, 2}, {3, 4}, {5, 6}, {7, 8}}}
	b := AppendTCPOptions(nil, &o)
	if len(b)%4 != 0 || len(b) > TCPMaxOptions {
		t.Fatalf("len %d", len(b))
	}
	p, ok := ParseTCPOptions(b)
	if !ok || !p.TS || p.TSVal != 1 || p.TSEcr != 2 || len(p.SACK) != 3 || p.SACK[2] != (TCPSACKBlock{5, 6}) {
		t.Fatalf("%+v %v", p, ok)
	}
}
