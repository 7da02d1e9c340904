package header

import (
	"encoding/binary"
	"net/netip"
)

// ICMPv6 types (RFC 4443, neighbour discovery: RFC 4861 4) and codes.
const (
	ICMPv6DstUnreachable  uint8 = 1
	ICMPv6PacketTooBig    uint8 = 2
	ICMPv6TimeExceeded    uint8 = 3
	ICMPv6ParamProblem    uint8 = 4
	ICMPv6EchoRequest     uint8 = 128
	ICMPv6EchoReply       uint8 = 129
	ICMPv6RouterSolicit   uint8 = 133
	ICMPv6RouterAdvert    uint8 = 134
	ICMPv6NeighborSolicit uint8 = 135
	ICMPv6NeighborAdvert  uint8 = 136
	ICMPv6Redirect        uint8 = 137

	ICMPv6NoRoute            uint8 = 0 // codes of ICMPv6DstUnreachable
	ICMPv6AddressUnreachable uint8 = 3
	ICMPv6PortUnreachable    uint8 = 4
	ICMPv6ReassemblyTimeout  uint8 = 1 // code of ICMPv6TimeExceeded
	ICMPv6ErroneousHeader    uint8 = 0 // codes of ICMPv6ParamProblem
	ICMPv6UnknownNextHeader  uint8 = 1
	ICMPv6UnknownOption      uint8 = 2
)

// ICMPv6MinSize is the ICMPv6 header: type, code, checksum and 4 bytes of message body.
const ICMPv6MinSize = 8

// ICMPv6 is an ICMPv6 message view (RFC 4443 2.1); Valid is its length check.
type ICMPv6 []byte

func (b ICMPv6) Valid() bool      { return len(b) >= ICMPv6MinSize }
func (b ICMPv6) Type() uint8      { return b[0] }
func (b ICMPv6) Code() uint8      { return b[1] }
func (b ICMPv6) Ident() uint16    { return binary.BigEndian.Uint16(b[4:]) }
func (b ICMPv6) Seq() uint16      { return binary.BigEndian.Uint16(b[6:]) }
func (b ICMPv6) Word() uint32     { return binary.BigEndian.Uint32(b[4:]) } // MTU, pointer
func (b ICMPv6) Payload() []byte  { return b[ICMPv6MinSize:] }
func (b ICMPv6) SetWord(v uint32) { binary.BigEndian.PutUint32(b[4:], v) }

// SetTypeCode writes the type and code and clears the checksum.
func (b ICMPv6) SetTypeCode(t, c uint8) { b[0], b[1], b[2], b[3] = t, c, 0, 0 }

// SetChecksum computes the checksum over the IPv6 pseudo-header and all of b (RFC 4443 2.3).
func (b ICMPv6) SetChecksum(src, dst netip.Addr) {
	binary.BigEndian.PutUint16(b[2:], 0)
	binary.BigEndian.PutUint16(b[2:], ^Checksum(b, PseudoHeaderChecksum(ICMPv6ProtocolNumber, src, dst, len(b))))
}

// ChecksumValid reports whether the checksum over the pseudo-header and b is correct.
func (b ICMPv6) ChecksumValid(src, dst netip.Addr) bool {
	return Checksum(b, PseudoHeaderChecksum(ICMPv6ProtocolNumber, src, dst, len(b))) == 0xffff
}

// Neighbour discovery message layouts (RFC 4861 4): the body after the 4-byte ICMPv6 header,
// then options.
const (
	NDPRSSize       = 8  // router solicitation: header, reserved
	NDPRASize       = 16 // router advertisement: header, hop limit, flags, lifetime, reachable, retrans
	NDPNSSize       = 24 // neighbour solicitation: header, reserved, target
	NDPNASize       = 24 // neighbour advertisement: header, flags, target
	NDPRedirectSize = 40 // redirect: header, reserved, target, destination

	// Flags of a neighbour advertisement (first byte of the word after the header).
	NDPNARouter    = 0x80
	NDPNASolicited = 0x40
	NDPNAOverride  = 0x20

	// Option types (RFC 4861 4.6).
	NDPOptSourceLinkAddr = 1
	NDPOptTargetLinkAddr = 2
	NDPOptPrefixInfo     = 3
	NDPOptMTU            = 5

	// Flags of a prefix information option.
	NDPPrefixOnLink     = 0x80
	NDPPrefixAutonomous = 0x40
)

// NDPTarget is the target address of a neighbour solicitation or advertisement (b holds at
// least NDPNSSize bytes).
func NDPTarget(b ICMPv6) netip.Addr { return netip.AddrFrom16([16]byte(b[8:24])) }

// NDPOption is one option of a neighbour discovery message: its type and its bytes after the
// type and length octets.
type NDPOption struct {
	Type uint8
	Data []byte
}

// ParseNDPOptions splits an options area into options. It fails (ok false) on an option of
// length zero or one that runs past the area, which RFC 4861 4.6 says makes the whole
// message invalid.
func ParseNDPOptions(b []byte) (opts []NDPOption, ok bool) {
	for len(b) > 0 {
		if len(b) < 2 || b[1] == 0 || int(b[1])*8 > len(b) {
			return nil, false
		}
		n := int(b[1]) * 8
		opts = append(opts, NDPOption{Type: b[0], Data: b[2:n]})
		b = b[n:]
	}
	return opts, true
}

// LinkAddr returns the link-layer address carried by a source or target link-layer
// address option (on Ethernet: 6 bytes of an 8-byte option, RFC 2464 6).
func (o NDPOption) LinkAddr() (LinkAddr, bool) {
	if len(o.Data) < 6 {
		return LinkAddr{}, false
	}
	return LinkAddr(o.Data[:6]), true
}

// PrefixInfo is a prefix information option's contents (RFC 4861 4.6.2).
type PrefixInfo struct {
	Prefix             netip.Prefix
	OnLink, Autonomous bool
	ValidLifetime      uint32 // seconds; 0xffffffff is infinity
	PreferredLifetime  uint32
}

// PrefixInfo parses a prefix information option (ok false if it is not 32 bytes long or its
// prefix length is over 128).
func (o NDPOption) PrefixInfo() (PrefixInfo, bool) {
	d := o.Data
	if len(d) != 30 || d[0] > 128 {
		return PrefixInfo{}, false
	}
	p := netip.PrefixFrom(netip.AddrFrom16([16]byte(d[14:30])), int(d[0])).Masked()
	return PrefixInfo{Prefix: p, OnLink: d[1]&NDPPrefixOnLink != 0, Autonomous: d[1]&NDPPrefixAutonomous != 0,
		ValidLifetime: binary.BigEndian.Uint32(d[2:]), PreferredLifetime: binary.BigEndian.Uint32(d[6:])}, true
}

// AppendLinkAddrOption appends a source or target link-layer address option.
func AppendLinkAddrOption(b []byte, typ uint8, a LinkAddr) []byte {
	return append(append(b, typ, 1), a[:]...)
}

// EncodeNeighbor writes a neighbour solicitation or advertisement's body into b (NDPNSSize
// bytes): type, code 0, flags (NA only) and the target; the checksum is left to SetChecksum.
func EncodeNeighbor(b ICMPv6, typ uint8, flags uint8, target netip.Addr) {
	b.SetTypeCode(typ, 0)
	b.SetWord(uint32(flags) << 24)
	t := target.As16()
	copy(b[8:24], t[:])
}
