package header

import "encoding/binary"

// ICMPv4 types and codes (RFC 792).
const (
	ICMPv4EchoReply      uint8 = 0
	ICMPv4DstUnreachable uint8 = 3
	ICMPv4Echo           uint8 = 8
	ICMPv4TimeExceeded   uint8 = 11

	ICMPv4PortUnreachable   uint8 = 3 // code of ICMPv4DstUnreachable
	ICMPv4HostUnreachable   uint8 = 1 // code of ICMPv4DstUnreachable
	ICMPv4ProtoUnreachable  uint8 = 2 // code of ICMPv4DstUnreachable
	ICMPv4ReassemblyTimeout uint8 = 1 // code of ICMPv4TimeExceeded
)

// ICMPv4MinSize is the length of the ICMP header (type, code, checksum, 4 bytes of rest).
const ICMPv4MinSize = 8

// ICMPv4 is an ICMP message view; Valid is its length check.
type ICMPv4 []byte

// ICMPv4Fields is an ICMP header's contents for Encode; Rest is the second 32-bit word
// (identifier and sequence for echo messages).
type ICMPv4Fields struct {
	Type, Code uint8
	Ident, Seq uint16
}

func (b ICMPv4) Valid() bool      { return len(b) >= ICMPv4MinSize }
func (b ICMPv4) Type() uint8      { return b[0] }
func (b ICMPv4) Code() uint8      { return b[1] }
func (b ICMPv4) Checksum() uint16 { return binary.BigEndian.Uint16(b[2:]) }
func (b ICMPv4) Ident() uint16    { return binary.BigEndian.Uint16(b[4:]) }
func (b ICMPv4) Seq() uint16      { return binary.BigEndian.Uint16(b[6:]) }
func (b ICMPv4) Payload() []byte  { return b[ICMPv4MinSize:] }

// ChecksumValid reports whether the checksum over the whole message is correct.
func (b ICMPv4) ChecksumValid() bool { return Checksum(b, 0) == 0xffff }

// Encode writes f into the first ICMPv4MinSize bytes of b and the checksum over all of b, so
// the payload must already be in place behind it.
func (b ICMPv4) Encode(f *ICMPv4Fields) {
	b[0], b[1] = f.Type, f.Code
	binary.BigEndian.PutUint16(b[2:], 0)
	binary.BigEndian.PutUint16(b[4:], f.Ident)
	binary.BigEndian.PutUint16(b[6:], f.Seq)
	binary.BigEndian.PutUint16(b[2:], ^Checksum(b, 0))
}
