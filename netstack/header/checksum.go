// Package header holds the wire formats as byte-slice views.
//
// Each format is a named []byte type (Ethernet, ARP, IPv4, ICMPv4, UDP) with named field
// offsets, getters and setters, an Encode from a Fields struct, and one length check (the
// format's Valid or a constructor) that callers run once before using any accessor. Accessors
// never check lengths again, so a view must only be used after that check. This package
// imports nothing from net, so std's net can use the stack.
package header

import (
	"encoding/binary"
	"net/netip"
)

// Checksum returns the 16-bit one's complement sum of b added to initial, not complemented
// (RFC 1071). Chain calls by passing the previous result as initial; b's length is treated
// as if padded with a zero byte when odd, so chain only even-length pieces except the last.
func Checksum(b []byte, initial uint16) uint16 {
	// One's complement addition is associative and commutative, so 32-bit big-endian words
	// can be added into a 64-bit accumulator and folded at the end (RFC 1071 2.(B), (C)).
	sum := uint64(initial)
	for len(b) >= 32 {
		sum += uint64(binary.BigEndian.Uint32(b)) + uint64(binary.BigEndian.Uint32(b[4:])) +
			uint64(binary.BigEndian.Uint32(b[8:])) + uint64(binary.BigEndian.Uint32(b[12:])) +
			uint64(binary.BigEndian.Uint32(b[16:])) + uint64(binary.BigEndian.Uint32(b[20:])) +
			uint64(binary.BigEndian.Uint32(b[24:])) + uint64(binary.BigEndian.Uint32(b[28:]))
		b = b[32:]
	}
	for len(b) >= 4 {
		sum += uint64(binary.BigEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		sum += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint64(b[0]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return uint16(sum)
}

// PseudoHeaderChecksum is the partial sum of the pseudo-header for a transport segment of
// length n between src and dst: IPv4's (RFC 768, RFC 9293 3.1) or, for IPv6 addresses,
// IPv6's (RFC 8200 8.1), whose length field is 32 bits.
func PseudoHeaderChecksum(proto uint8, src, dst netip.Addr, n int) uint16 {
	var s uint16
	src, dst = src.Unmap(), dst.Unmap()
	if src.Is4() && dst.Is4() {
		a, b := src.As4(), dst.As4()
		s = Checksum(b[:], Checksum(a[:], 0))
	} else {
		a, b := src.As16(), dst.As16()
		s = Checksum(b[:], Checksum(a[:], 0))
	}
	var b [8]byte
	binary.BigEndian.PutUint32(b[0:], uint32(n))
	b[7] = proto
	return Checksum(b[:], s)
}
