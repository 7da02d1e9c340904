package header

import (
	"encoding/binary"
	"net/netip"
)

// ARP opcodes (RFC 826).
const (
	ARPRequest uint16 = 1
	ARPReply   uint16 = 2
)

// ARPSize is the length of an ARP packet for Ethernet/IPv4.
const ARPSize = 28

const (
	arpHType = 0
	arpPType = 2
	arpHLen  = 4
	arpPLen  = 5
	arpOp    = 6
	arpSHA   = 8
	arpSPA   = 14
	arpTHA   = 18
	arpTPA   = 24
)

// ARP is an Ethernet/IPv4 ARP packet view (RFC 826).
type ARP []byte

// ARPFields is an ARP packet's contents for Encode.
type ARPFields struct {
	Op                       uint16
	SenderHW, TargetHW       LinkAddr
	SenderProto, TargetProto netip.Addr
}

// Valid reports whether b is an Ethernet/IPv4 ARP packet long enough for the accessors.
func (b ARP) Valid() bool {
	return len(b) >= ARPSize && binary.BigEndian.Uint16(b[arpHType:]) == 1 &&
		binary.BigEndian.Uint16(b[arpPType:]) == EtherTypeIPv4 && b[arpHLen] == 6 && b[arpPLen] == 4
}

func (b ARP) Op() uint16              { return binary.BigEndian.Uint16(b[arpOp:]) }
func (b ARP) SenderHW() (a LinkAddr)  { copy(a[:], b[arpSHA:]); return }
func (b ARP) TargetHW() (a LinkAddr)  { copy(a[:], b[arpTHA:]); return }
func (b ARP) SenderProto() netip.Addr { return netip.AddrFrom4([4]byte(b[arpSPA : arpSPA+4])) }
func (b ARP) TargetProto() netip.Addr { return netip.AddrFrom4([4]byte(b[arpTPA : arpTPA+4])) }

// Encode writes f as an Ethernet/IPv4 ARP packet into b's first ARPSize bytes.
func (b ARP) Encode(f *ARPFields) {
	binary.BigEndian.PutUint16(b[arpHType:], 1)
	binary.BigEndian.PutUint16(b[arpPType:], EtherTypeIPv4)
	b[arpHLen], b[arpPLen] = 6, 4
	binary.BigEndian.PutUint16(b[arpOp:], f.Op)
	copy(b[arpSHA:], f.SenderHW[:])
	copy(b[arpTHA:], f.TargetHW[:])
	sp, tp := f.SenderProto.As4(), f.TargetProto.As4()
	copy(b[arpSPA:], sp[:])
	copy(b[arpTPA:], tp[:])
}
