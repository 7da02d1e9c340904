package header

import (
	"encoding/binary"
	"net/netip"
)

// EtherTypeIPv6 is IPv6's EtherType (RFC 2464 3).
const EtherTypeIPv6 uint16 = 0x86dd

// IPv6 next-header values (IANA): the extension headers this stack walks, ICMPv6 and
// "no next header".
const (
	IPv6HopByHop         uint8 = 0
	IPv6Routing          uint8 = 43
	IPv6Fragment         uint8 = 44
	ICMPv6ProtocolNumber uint8 = 58
	IPv6NoNextHeader     uint8 = 59
	IPv6DestOptions      uint8 = 60
)

// IPv6 sizes (RFC 8200): the fixed header, the fragment header, and the minimum link MTU
// every IPv6 link must carry (5).
const (
	IPv6MinSize         = 40
	IPv6FragmentSize    = 8
	IPv6MinMTU          = 1280
	IPv6MaxPayloadLen   = 65535
	ipv6PayloadLen      = 4
	ipv6NextHeader      = 6
	ipv6HopLimit        = 7
	ipv6Src             = 8
	ipv6Dst             = 24
	ipv6FragOffsetFlags = 2
	ipv6FragID          = 4
)

// IPv6 is an IPv6 fixed header view (RFC 8200 3). Check it with Valid before using accessors.
type IPv6 []byte

// IPv6Fields is an IPv6 header's contents for Encode.
type IPv6Fields struct {
	TrafficClass uint8
	FlowLabel    uint32
	PayloadLen   uint16
	NextHeader   uint8
	HopLimit     uint8
	Src, Dst     netip.Addr
}

// Valid is the one length check before the accessors: version 6, the fixed header within b
// and a payload length within b (a jumbogram's zero payload length is not supported and
// fails here, as nothing in this stack sends one).
func (b IPv6) Valid() bool {
	return len(b) >= IPv6MinSize && b[0]>>4 == 6 && IPv6MinSize+int(b.PayloadLen()) <= len(b)
}

func (b IPv6) TrafficClass() uint8 { return uint8(binary.BigEndian.Uint16(b[0:]) >> 4) }
func (b IPv6) PayloadLen() uint16  { return binary.BigEndian.Uint16(b[ipv6PayloadLen:]) }
func (b IPv6) NextHeader() uint8   { return b[ipv6NextHeader] }
func (b IPv6) HopLimit() uint8     { return b[ipv6HopLimit] }
func (b IPv6) Src() netip.Addr     { return netip.AddrFrom16([16]byte(b[ipv6Src : ipv6Src+16])) }
func (b IPv6) Dst() netip.Addr     { return netip.AddrFrom16([16]byte(b[ipv6Dst : ipv6Dst+16])) }
func (b IPv6) SetPayloadLen(n uint16) {
	binary.BigEndian.PutUint16(b[ipv6PayloadLen:], n)
}
func (b IPv6) SetNextHeader(n uint8) { b[ipv6NextHeader] = n }

// Encode writes f into b's first IPv6MinSize bytes.
func (b IPv6) Encode(f *IPv6Fields) {
	binary.BigEndian.PutUint32(b[0:], 6<<28|uint32(f.TrafficClass)<<20|f.FlowLabel&0xfffff)
	binary.BigEndian.PutUint16(b[ipv6PayloadLen:], f.PayloadLen)
	b[ipv6NextHeader] = f.NextHeader
	b[ipv6HopLimit] = f.HopLimit
	s, d := f.Src.As16(), f.Dst.As16()
	copy(b[ipv6Src:], s[:])
	copy(b[ipv6Dst:], d[:])
}

// IPv6FragmentHeader is a fragment extension header view (RFC 8200 4.5), IPv6FragmentSize bytes.
type IPv6FragmentHeader []byte

func (b IPv6FragmentHeader) NextHeader() uint8 { return b[0] }

// Offset is the fragment's offset in bytes.
func (b IPv6FragmentHeader) Offset() int {
	return int(binary.BigEndian.Uint16(b[ipv6FragOffsetFlags:]) &^ 7)
}
func (b IPv6FragmentHeader) More() bool { return b[3]&1 != 0 }
func (b IPv6FragmentHeader) ID() uint32 { return binary.BigEndian.Uint32(b[ipv6FragID:]) }

// EncodeFragment writes a fragment header: next header, offset in bytes (a multiple of 8),
// the M flag and the identification.
func (b IPv6FragmentHeader) Encode(next uint8, offset int, more bool, id uint32) {
	b[0], b[1] = next, 0
	v := uint16(offset) &^ 7
	if more {
		v |= 1
	}
	binary.BigEndian.PutUint16(b[ipv6FragOffsetFlags:], v)
	binary.BigEndian.PutUint32(b[ipv6FragID:], id)
}

// IPv6ExtLen returns the length in bytes of the hop-by-hop, routing or destination options
// header at the start of b ((Hdr Ext Len + 1) * 8, RFC 8200 4.3), or 0 if b is too short
// for it.
func IPv6ExtLen(b []byte) int {
	if len(b) < 8 {
		return 0
	}
	n := (int(b[1]) + 1) * 8
	if n > len(b) {
		return 0
	}
	return n
}

// IPv6OptionAction says what to do with an options header (RFC 8200 4.2): process the
// packet (-1), or drop it, with an ICMPv6 parameter problem pointing at the unrecognized
// option at this offset of the header (>= 0, returned with icmp true) or silently.
func IPv6OptionAction(opts []byte, multicastDst bool) (ptr int, icmp bool, drop bool) {
	for i := 2; i < len(opts); {
		t := opts[i]
		if t == 0 { // Pad1
			i++
			continue
		}
		if i+1 >= len(opts) || i+2+int(opts[i+1]) > len(opts) {
			return i, true, true // malformed TLV: a parameter problem at the option
		}
		if t != 1 { // not PadN: unrecognized (this host knows no other option)
			switch t >> 6 {
			case 1:
				return i, false, true
			case 2:
				return i, true, true
			case 3:
				return i, !multicastDst, true
			}
		}
		i += 2 + int(opts[i+1])
	}
	return -1, false, false
}

// SolicitedNodeAddr is the solicited-node multicast address of a (RFC 4291 2.7.1):
// ff02::1:ffXX:XXXX with a's low 24 bits.
func SolicitedNodeAddr(a netip.Addr) netip.Addr {
	b := a.As16()
	return netip.AddrFrom16([16]byte{0xff, 0x02, 10: 0, 11: 1, 12: 0xff, 13: b[13], 14: b[14], 15: b[15]})
}

// IPv6AllNodes is ff02::1, the link's all-nodes group; IPv6AllRouters is ff02::2.
var (
	IPv6AllNodes   = netip.AddrFrom16([16]byte{0xff, 0x02, 15: 1})
	IPv6AllRouters = netip.AddrFrom16([16]byte{0xff, 0x02, 15: 2})
)

// MulticastLinkAddr maps an IPv6 multicast address to its Ethernet group address
// 33:33 + the low 32 bits (RFC 2464 7).
func MulticastLinkAddr(a netip.Addr) LinkAddr {
	b := a.As16()
	return LinkAddr{0x33, 0x33, b[12], b[13], b[14], b[15]}
}

// LinkLocalAddr is the link-local address of a NIC with MAC mac: fe80::/64 with the modified
// EUI-64 interface identifier (RFC 4291 2.5.1 and appendix A, RFC 2464 4).
func LinkLocalAddr(mac LinkAddr) netip.Addr {
	return EUI64Addr(netip.PrefixFrom(netip.AddrFrom16([16]byte{0xfe, 0x80}), 64), mac)
}

// EUI64Addr is the address of prefix (a /64) with mac's modified EUI-64 identifier
// (SLAAC, RFC 4862 5.5.3).
func EUI64Addr(prefix netip.Prefix, mac LinkAddr) netip.Addr {
	b := prefix.Masked().Addr().As16()
	b[8], b[9], b[10] = mac[0]^2, mac[1], mac[2]
	b[11], b[12] = 0xff, 0xfe
	b[13], b[14], b[15] = mac[3], mac[4], mac[5]
	return netip.AddrFrom16(b)
}
