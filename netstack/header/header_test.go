package header

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"testing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// udpFixture is 10.0.0.2:1234 -> 10.0.0.1:7 "hello", ID 0x1234, DF, TTL 64, checksums
// computed by an independent implementation.
const udpFixture = "4500002112344000401114960a0000020a00000104d20007000da32668656c6c6f"

func TestIPv4UDPParse(t *testing.T) {
	b := unhex(t, udpFixture)
	h := IPv4(b)
	if err := h.Validate(); err != IPv4OK {
		t.Fatalf("Validate: %v", err)
	}
	if h.Src() != netip.MustParseAddr("10.0.0.2") || h.Dst() != netip.MustParseAddr("10.0.0.1") ||
		h.TTL() != 64 || h.ID() != 0x1234 || h.Flags() != IPv4FlagDF || h.Protocol() != UDPProtocolNumber || h.IsFragment() {
		t.Fatalf("fields: src %v dst %v ttl %d id %#x flags %d", h.Src(), h.Dst(), h.TTL(), h.ID(), h.Flags())
	}
	u := UDP(h.Payload())
	if !u.Valid() || u.SrcPort() != 1234 || u.DstPort() != 7 || string(u.Payload()) != "hello" {
		t.Fatalf("udp fields")
	}
	if !u.ChecksumValid(h.Src(), h.Dst()) {
		t.Fatal("udp checksum rejected")
	}
}

func TestIPv4UDPEmit(t *testing.T) {
	want := unhex(t, udpFixture)
	b := make([]byte, len(want))
	IPv4(b).Encode(&IPv4Fields{TotalLen: uint16(len(want)), ID: 0x1234, Flags: IPv4FlagDF, TTL: 64,
		Protocol: UDPProtocolNumber, Src: netip.MustParseAddr("10.0.0.2"), Dst: netip.MustParseAddr("10.0.0.1")})
	u := UDP(b[IPv4MinSize:])
	copy(u[UDPMinSize:], "hello")
	u.Encode(&UDPFields{SrcPort: 1234, DstPort: 7, Length: 13})
	u.SetChecksum(netip.AddrFrom4([4]byte{10, 0, 0, 2}), netip.AddrFrom4([4]byte{10, 0, 0, 1}))
	if !bytes.Equal(b, want) {
		t.Fatalf("emit\n got %x\nwant %x", b, want)
	}
}

func TestIPv4Reject(t *testing.T) {
	good := unhex(t, udpFixture)
	mod := func(f func(b []byte)) []byte {
		b := append([]byte(nil), good...)
		f(b)
		return b
	}
	fix := func(b []byte) { IPv4(b).SetChecksum() }
	cases := []struct {
		name string
		b    []byte
		want IPv4Error
	}{
		{"short", good[:19], IPv4TooShort},
		{"version6", mod(func(b []byte) { b[0] = 0x65 }), IPv4BadVersion},
		{"ihl4", mod(func(b []byte) { b[0] = 0x44 }), IPv4BadIHL},
		{"ihl15", mod(func(b []byte) { b[0] = 0x4f }), IPv4BadIHL},
		{"totallen-big", mod(func(b []byte) { b[3] = 0xff; fix(b) }), IPv4BadTotalLen},
		{"totallen-small", mod(func(b []byte) { b[2], b[3] = 0, 10; fix(b) }), IPv4BadTotalLen},
		{"checksum", mod(func(b []byte) { b[10] ^= 1 }), IPv4BadChecksum},
		{"options", append(append([]byte{0x46}, good[1:20]...), 0x44, 0x09, 0, 0), IPv4BadTotalLen},
	}
	for _, c := range cases {
		if got := IPv4(c.b).Validate(); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	// A header with a malformed option (length beyond the options area).
	b := make([]byte, 24+8)
	IPv4(b).Encode(&IPv4Fields{TotalLen: 32, TTL: 1, Protocol: 17, Src: netip.MustParseAddr("1.2.3.4"),
		Dst: netip.MustParseAddr("5.6.7.8"), Options: []byte{0x44, 0x09, 0, 0}})
	if got := IPv4(b).Validate(); got != IPv4BadOptions {
		t.Errorf("bad option length: %v", got)
	}
	IPv4(b).Encode(&IPv4Fields{TotalLen: 32, TTL: 1, Protocol: 17, Src: netip.MustParseAddr("1.2.3.4"),
		Dst: netip.MustParseAddr("5.6.7.8"), Options: []byte{1, 1, 1, 0}})
	if got := IPv4(b).Validate(); got != IPv4OK {
		t.Errorf("NOP options: %v", got)
	}
}

// The RFC 1071 example words sum to 0xddf2.
func TestChecksumRFC1071(t *testing.T) {
	if got := Checksum([]byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}, 0); got != 0xddf2 {
		t.Fatalf("sum %#x", got)
	}
}

// Checksum sums words in wide chunks; it must agree with RFC 1071's 16-bit loop for every
// length (odd ones too), alignment and starting sum.
func TestChecksumMatchesReference(t *testing.T) {
	ref := func(b []byte, initial uint16) uint16 {
		sum := uint32(initial)
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(b[i])<<8 | uint32(b[i+1])
		}
		if len(b)%2 == 1 {
			sum += uint32(b[len(b)-1]) << 8
		}
		for sum > 0xffff {
			sum = sum>>16 + sum&0xffff
		}
		return uint16(sum)
	}
	buf := make([]byte, 70000)
	for i := range buf {
		buf[i] = byte(i*7919 + i>>8)
	}
	for n := 0; n < 300; n++ {
		for _, off := range []int{0, 1, 3} {
			for _, init := range []uint16{0, 1, 0xffff, 0x1234} {
				b := buf[off : off+n]
				if got, want := Checksum(b, init), ref(b, init); got != want {
					t.Fatalf("len %d off %d init %#x: %#x, want %#x", n, off, init, got, want)
				}
			}
		}
	}
	ones := bytes.Repeat([]byte{0xff}, 65535)
	for _, b := range [][]byte{buf, ones} {
		if got, want := Checksum(b, 0xffff), ref(b, 0xffff); got != want {
			t.Fatalf("len %d: %#x, want %#x", len(b), got, want)
		}
	}
}

func TestICMPEchoFixture(t *testing.T) {
	want := unhex(t, "080065f2007700016162636465666768")
	b := make([]byte, len(want))
	copy(b[ICMPv4MinSize:], "abcdefgh")
	ICMPv4(b).Encode(&ICMPv4Fields{Type: ICMPv4Echo, Ident: 0x77, Seq: 1})
	if !bytes.Equal(b, want) {
		t.Fatalf("got %x want %x", b, want)
	}
	m := ICMPv4(want)
	if !m.Valid() || !m.ChecksumValid() || m.Type() != ICMPv4Echo || m.Ident() != 0x77 || m.Seq() != 1 {
		t.Fatal("parse")
	}
}

func TestARPRoundTrip(t *testing.T) {
	f := ARPFields{Op: ARPReply, SenderHW: LinkAddr{2, 0, 0, 0, 0, 1}, TargetHW: LinkAddr{2, 0, 0, 0, 0, 2},
		SenderProto: netip.MustParseAddr("10.0.0.1"), TargetProto: netip.MustParseAddr("10.0.0.2")}
	b := make(ARP, ARPSize)
	b.Encode(&f)
	want := unhex(t, "0001080006040002020000000001"+"0a000001"+"020000000002"+"0a000002")
	if !bytes.Equal(b, want) {
		t.Fatalf("got %x", []byte(b))
	}
	if !b.Valid() || b.Op() != ARPReply || b.SenderHW() != f.SenderHW || b.TargetProto() != f.TargetProto {
		t.Fatal("parse")
	}
	if ARP(want[:27]).Valid() {
		t.Fatal("short ARP accepted")
	}
}

func TestEthernetAndLinkAddr(t *testing.T) {
	a, err := ParseLinkAddr("02:00:5e:10:00:ff")
	if err != nil || a.String() != "02:00:5e:10:00:ff" {
		t.Fatalf("%v %v", a, err)
	}
	for _, bad := range []string{"", "02:00:5e:10:00", "02-00-5e-10-00-ff", "zz:00:5e:10:00:ff"} {
		if _, err := ParseLinkAddr(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	b := make(Ethernet, EthernetMinSize)
	b.Encode(&EthernetFields{Dst: BroadcastLinkAddr, Src: a, Type: EtherTypeARP})
	if !b.Valid() || !b.Dst().IsBroadcast() || b.Src() != a || b.Type() != EtherTypeARP || Ethernet(b[:13]).Valid() {
		t.Fatal("ethernet")
	}
}

func TestUDPInvalidLength(t *testing.T) {
	for _, b := range [][]byte{make([]byte, 7), {0, 1, 0, 2, 0, 7, 0, 0}, {0, 1, 0, 2, 0, 20, 0, 0}} {
		if UDP(b).Valid() {
			t.Errorf("%x accepted", b)
		}
	}
}
