// Package header holds the wire formats as byte-slice views.
//
// Each format is a named []byte type (Ethernet, ARP, IPv4, ICMPv4, UDP) with named field
// offsets, getters and setters, an Encode from a Fields struct, and one length check (the
// format's Valid or a constructor) that callers run once before using any accessor. Accessors
// never check lengths again, so a view must only be used after that check. This package
// imports nothing from net, so std's net can use the stack.
package header

import "encoding/binary"

// Checksum returns the 16-bit one's complement sum of b added to initial, not complemented
// (RFC 1071). Chain calls by passing the previous result as initial; b's length is treated
// as if padded with a zero byte when odd, so chain only even-length pieces except the last.
func Checksum(b []byte, initial uint16) uint16 {
	sum := uint32(initial)
	for len(b) >= 2 {
		sum += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return uint16(sum)
}

// PseudoHeaderChecksum is the partial sum of the IPv4 pseudo-header (RFC 768, RFC 9293) for a
// transport segment of length n.
func PseudoHeaderChecksum(proto uint8, src, dst [4]byte, n uint16) uint16 {
	s := Checksum(src[:], 0)
	s = Checksum(dst[:], s)
	var b [4]byte
	b[1] = proto
	binary.BigEndian.PutUint16(b[2:], n)
	return Checksum(b[:], s)
}
