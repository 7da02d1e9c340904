package header

import (
	"encoding/binary"
	"strconv"
)

// EtherType values (IEEE 802 numbers).
const (
	EtherTypeIPv4 uint16 = 0x0800
	EtherTypeARP  uint16 = 0x0806
)

// EthernetMinSize is the length of an Ethernet II header without VLAN tags.
const EthernetMinSize = 14

// Field offsets of an Ethernet II header.
const (
	ethDst  = 0
	ethSrc  = 6
	ethType = 12
)

// LinkAddr is a 48-bit IEEE MAC address.
type LinkAddr [6]byte

// BroadcastLinkAddr is ff:ff:ff:ff:ff:ff.
var BroadcastLinkAddr = LinkAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// IsBroadcast reports whether a is the broadcast address.
func (a LinkAddr) IsBroadcast() bool { return a == BroadcastLinkAddr }

// IsMulticast reports whether a's group bit is set (broadcast included).
func (a LinkAddr) IsMulticast() bool { return a[0]&1 != 0 }

// String formats a as 02:00:00:00:00:01.
func (a LinkAddr) String() string {
	const hex = "0123456789abcdef"
	b := make([]byte, 0, 17)
	for i, x := range a {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hex[x>>4], hex[x&15])
	}
	return string(b)
}

// ParseLinkAddr parses six colon-separated hex octets.
func ParseLinkAddr(s string) (LinkAddr, error) {
	var a LinkAddr
	if len(s) != 17 {
		return a, &ParseError{"MAC address", s}
	}
	for i := range a {
		if i > 0 && s[3*i-1] != ':' {
			return a, &ParseError{"MAC address", s}
		}
		v, err := strconv.ParseUint(s[3*i:3*i+2], 16, 8)
		if err != nil {
			return a, &ParseError{"MAC address", s}
		}
		a[i] = byte(v)
	}
	return a, nil
}

// ParseError reports text that is not a valid value of its kind.
type ParseError struct{ Kind, Text string }

func (e *ParseError) Error() string { return "header: invalid " + e.Kind + " " + strconv.Quote(e.Text) }

// Ethernet is an Ethernet II frame header view.
type Ethernet []byte

// EthernetFields is an Ethernet header's contents for Encode.
type EthernetFields struct {
	Dst, Src LinkAddr
	Type     uint16
}

// Valid reports whether b is long enough for the accessors.
func (b Ethernet) Valid() bool { return len(b) >= EthernetMinSize }

func (b Ethernet) Dst() (a LinkAddr) { copy(a[:], b[ethDst:]); return }
func (b Ethernet) Src() (a LinkAddr) { copy(a[:], b[ethSrc:]); return }
func (b Ethernet) Type() uint16      { return binary.BigEndian.Uint16(b[ethType:]) }
func (b Ethernet) SetType(t uint16)  { binary.BigEndian.PutUint16(b[ethType:], t) }
func (b Ethernet) SetDst(a LinkAddr) { copy(b[ethDst:], a[:]) }
func (b Ethernet) SetSrc(a LinkAddr) { copy(b[ethSrc:], a[:]) }
func (b Ethernet) Payload() []byte   { return b[EthernetMinSize:] }

// Encode writes f into b's first EthernetMinSize bytes.
func (b Ethernet) Encode(f *EthernetFields) {
	b.SetDst(f.Dst)
	b.SetSrc(f.Src)
	b.SetType(f.Type)
}
