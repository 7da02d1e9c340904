package header

import (
	"encoding/binary"
	"net/netip"
)

// IPv4 protocol numbers (IANA).
const (
	ICMPv4ProtocolNumber uint8 = 1
	TCPProtocolNumber    uint8 = 6
	UDPProtocolNumber    uint8 = 17
)

// IPv4 header sizes and limits (RFC 791).
const (
	IPv4MinSize     = 20
	IPv4MaxSize     = 60
	IPv4MaxTotalLen = 65535
	IPv4FlagDF      = 0x2 // in Flags()
	IPv4FlagMF      = 0x1
)

const (
	ipVerIHL    = 0
	ipTOS       = 1
	ipTotalLen  = 2
	ipID        = 4
	ipFlagsFrag = 6
	ipTTL       = 8
	ipProto     = 9
	ipChecksum  = 10
	ipSrc       = 12
	ipDst       = 16
)

// IPv4 is an IPv4 header view (RFC 791). Check it with Validate before using accessors.
type IPv4 []byte

// IPv4Fields is an IPv4 header's contents for Encode. Options must be a multiple of 4 bytes.
type IPv4Fields struct {
	TOS            uint8
	TotalLen       uint16
	ID             uint16
	Flags          uint8  // IPv4FlagDF, IPv4FlagMF
	FragmentOffset uint16 // in bytes, a multiple of 8
	TTL            uint8
	Protocol       uint8
	Src, Dst       netip.Addr
	Options        []byte
}

// IPv4Error says why Validate rejected a header.
type IPv4Error uint8

// Reasons for rejecting an IPv4 header.
const (
	IPv4OK IPv4Error = iota
	IPv4TooShort
	IPv4BadVersion
	IPv4BadIHL
	IPv4BadTotalLen
	IPv4BadChecksum
	IPv4BadOptions
	IPv4BadFragment
)

var ipv4ErrText = [...]string{"ok", "too short", "bad version", "bad IHL", "bad total length",
	"bad checksum", "bad options", "bad fragment"}

func (e IPv4Error) String() string { return ipv4ErrText[e] }

// Validate is the one length and consistency check before the accessors: version 4, an IHL
// within [5, 15] and within b, a total length covering the header and within b, a correct
// header checksum, well-formed options, and a fragment that fits in 64 KiB.
func (b IPv4) Validate() IPv4Error {
	if len(b) < IPv4MinSize {
		return IPv4TooShort
	}
	if b[ipVerIHL]>>4 != 4 {
		return IPv4BadVersion
	}
	hl := b.HeaderLen()
	if hl < IPv4MinSize || hl > len(b) {
		return IPv4BadIHL
	}
	tl := int(b.TotalLen())
	if tl < hl || tl > len(b) {
		return IPv4BadTotalLen
	}
	if Checksum(b[:hl], 0) != 0xffff {
		return IPv4BadChecksum
	}
	if !validIPv4Options(b[IPv4MinSize:hl]) {
		return IPv4BadOptions
	}
	if int(b.FragmentOffset())+tl-hl > IPv4MaxTotalLen-hl {
		return IPv4BadFragment
	}
	return IPv4OK
}

// validIPv4Options checks the type-length-value structure of an options area (RFC 791 3.1):
// EOL ends it, NOP is one byte, every other option has a length of at least 2 within the area.
func validIPv4Options(o []byte) bool {
	for len(o) > 0 {
		switch o[0] {
		case 0:
			return true
		case 1:
			o = o[1:]
		default:
			if len(o) < 2 || o[1] < 2 || int(o[1]) > len(o) {
				return false
			}
			o = o[o[1]:]
		}
	}
	return true
}

func (b IPv4) HeaderLen() int         { return int(b[ipVerIHL]&0xf) * 4 }
func (b IPv4) TOS() uint8             { return b[ipTOS] }
func (b IPv4) TotalLen() uint16       { return binary.BigEndian.Uint16(b[ipTotalLen:]) }
func (b IPv4) ID() uint16             { return binary.BigEndian.Uint16(b[ipID:]) }
func (b IPv4) Flags() uint8           { return b[ipFlagsFrag] >> 5 }
func (b IPv4) More() bool             { return b.Flags()&IPv4FlagMF != 0 }
func (b IPv4) FragmentOffset() uint16 { return binary.BigEndian.Uint16(b[ipFlagsFrag:]) << 3 }
func (b IPv4) IsFragment() bool       { return b.More() || b.FragmentOffset() != 0 }
func (b IPv4) TTL() uint8             { return b[ipTTL] }
func (b IPv4) Protocol() uint8        { return b[ipProto] }
func (b IPv4) Checksum() uint16       { return binary.BigEndian.Uint16(b[ipChecksum:]) }
func (b IPv4) Src() netip.Addr        { return netip.AddrFrom4([4]byte(b[ipSrc : ipSrc+4])) }
func (b IPv4) Dst() netip.Addr        { return netip.AddrFrom4([4]byte(b[ipDst : ipDst+4])) }
func (b IPv4) SrcBytes() [4]byte      { return [4]byte(b[ipSrc : ipSrc+4]) }
func (b IPv4) DstBytes() [4]byte      { return [4]byte(b[ipDst : ipDst+4]) }
func (b IPv4) Payload() []byte        { return b[b.HeaderLen():b.TotalLen()] }
func (b IPv4) SetTotalLen(n uint16)   { binary.BigEndian.PutUint16(b[ipTotalLen:], n) }
func (b IPv4) SetTTL(t uint8)         { b[ipTTL] = t }

// SetChecksum recomputes the header checksum.
func (b IPv4) SetChecksum() {
	binary.BigEndian.PutUint16(b[ipChecksum:], 0)
	binary.BigEndian.PutUint16(b[ipChecksum:], ^Checksum(b[:b.HeaderLen()], 0))
}

// Encode writes f into b (which must hold IPv4MinSize+len(f.Options) bytes) with a fresh
// header checksum.
func (b IPv4) Encode(f *IPv4Fields) {
	hl := IPv4MinSize + len(f.Options)
	b[ipVerIHL] = 0x40 | uint8(hl/4)
	b[ipTOS] = f.TOS
	binary.BigEndian.PutUint16(b[ipTotalLen:], f.TotalLen)
	binary.BigEndian.PutUint16(b[ipID:], f.ID)
	binary.BigEndian.PutUint16(b[ipFlagsFrag:], uint16(f.Flags)<<13|f.FragmentOffset>>3)
	b[ipTTL] = f.TTL
	b[ipProto] = f.Protocol
	s, d := f.Src.As4(), f.Dst.As4()
	copy(b[ipSrc:], s[:])
	copy(b[ipDst:], d[:])
	copy(b[IPv4MinSize:hl], f.Options)
	b.SetChecksum()
}
