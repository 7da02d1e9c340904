package header

import (
	"encoding/binary"
	"net/netip"
)

// UDPMinSize is the length of a UDP header (RFC 768); UDPChecksumOffset is where its
// checksum field is.
const (
	UDPMinSize        = 8
	UDPChecksumOffset = 6
)

// UDP is a UDP datagram view; Valid is its length check.
type UDP []byte

// UDPFields is a UDP header's contents for Encode.
type UDPFields struct {
	SrcPort, DstPort uint16
	Length           uint16
}

// Valid reports whether b holds a header and its Length field is within [8, len(b)].
func (b UDP) Valid() bool {
	return len(b) >= UDPMinSize && int(b.Length()) >= UDPMinSize && int(b.Length()) <= len(b)
}

func (b UDP) SrcPort() uint16  { return binary.BigEndian.Uint16(b[0:]) }
func (b UDP) DstPort() uint16  { return binary.BigEndian.Uint16(b[2:]) }
func (b UDP) Length() uint16   { return binary.BigEndian.Uint16(b[4:]) }
func (b UDP) Checksum() uint16 { return binary.BigEndian.Uint16(b[6:]) }
func (b UDP) Payload() []byte  { return b[UDPMinSize:b.Length()] }

// Encode writes f into b's first UDPMinSize bytes with a zero checksum.
func (b UDP) Encode(f *UDPFields) {
	binary.BigEndian.PutUint16(b[0:], f.SrcPort)
	binary.BigEndian.PutUint16(b[2:], f.DstPort)
	binary.BigEndian.PutUint16(b[4:], f.Length)
	binary.BigEndian.PutUint16(b[6:], 0)
}

// SetChecksum computes the checksum over the pseudo-header and b[:Length()] (RFC 768; a
// computed zero is sent as 0xffff).
func (b UDP) SetChecksum(src, dst netip.Addr) {
	binary.BigEndian.PutUint16(b[6:], 0)
	c := ^Checksum(b[:b.Length()], PseudoHeaderChecksum(UDPProtocolNumber, src, dst, int(b.Length())))
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(b[6:], c)
}

// ChecksumValid reports whether the checksum is correct, or absent (zero) over IPv4; over
// IPv6 a zero checksum is invalid (RFC 8200 8.1).
func (b UDP) ChecksumValid(src, dst netip.Addr) bool {
	if b.Checksum() == 0 {
		return src.Is4()
	}
	return Checksum(b[:b.Length()], PseudoHeaderChecksum(UDPProtocolNumber, src, dst, int(b.Length()))) == 0xffff
}
