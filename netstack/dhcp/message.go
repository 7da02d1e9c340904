package dhcp

import (
	"encoding/binary"
	"net/netip"
	"time"

	"goxen/netstack/header"
)

// DHCP message types (option 53, RFC 2132 9.6).
const (
	Discover uint8 = 1
	Offer    uint8 = 2
	Request  uint8 = 3
	Decline  uint8 = 4
	Ack      uint8 = 5
	Nak      uint8 = 6
	Release  uint8 = 7
)

// Option codes used (RFC 2132).
const (
	OptPad         = 0
	OptSubnetMask  = 1
	OptRouter      = 3
	OptDNS         = 6
	OptHostname    = 12
	OptDomainName  = 15
	OptSearch      = 119 // domain search list (RFC 3397)
	OptRequestedIP = 50
	OptLeaseTime   = 51
	OptMsgType     = 53
	OptServerID    = 54
	OptParamList   = 55
	OptT1          = 58
	OptT2          = 59
	OptClientID    = 61
	OptEnd         = 255
)

// Field offsets of the BOOTP/DHCP fixed part (RFC 2131 2, figure 1).
const (
	offOp         = 0
	offHType      = 1
	offHLen       = 2
	offXID        = 4
	offSecs       = 8
	offFlags      = 10
	offCIAddr     = 12
	offYIAddr     = 16
	offSIAddr     = 20
	offCHAddr     = 28
	offMagic      = 236
	fixedSize     = 240 // through the magic cookie
	flagBroadcast = 0x8000
)

const magicCookie = 0x63825363

// Message is a DHCP message view; Valid is its length check.
type Message []byte

// Fields is a message's contents for Encode.
type Fields struct {
	Op        uint8 // 1 request, 2 reply
	XID       uint32
	Broadcast bool
	CIAddr    netip.Addr
	YIAddr    netip.Addr
	CHAddr    header.LinkAddr
	Options   []Option
}

// Option is one TLV option.
type Option struct {
	Code uint8
	Data []byte
}

// Valid reports whether m holds the fixed part with the magic cookie and well-formed options.
func (m Message) Valid() bool {
	if len(m) < fixedSize || binary.BigEndian.Uint32(m[offMagic:]) != magicCookie || m[offHLen] != 6 || m[offHType] != 1 {
		return false
	}
	_, ok := m.options()
	return ok
}

func (m Message) Op() uint8   { return m[offOp] }
func (m Message) XID() uint32 { return binary.BigEndian.Uint32(m[offXID:]) }
func (m Message) YIAddr() netip.Addr {
	return netip.AddrFrom4([4]byte(m[offYIAddr : offYIAddr+4]))
}
func (m Message) CHAddr() (a header.LinkAddr) { copy(a[:], m[offCHAddr:]); return }

func (m Message) options() (map[uint8][]byte, bool) {
	opts := make(map[uint8][]byte)
	o := m[fixedSize:]
	for len(o) > 0 {
		switch o[0] {
		case OptPad:
			o = o[1:]
			continue
		case OptEnd:
			return opts, true
		}
		if len(o) < 2 || int(o[1])+2 > len(o) {
			return nil, false
		}
		opts[o[0]] = append(opts[o[0]], o[2:2+o[1]]...) // RFC 3396 concatenation
		o = o[2+o[1]:]
	}
	return opts, true
}

// Options returns the options by code (call after Valid).
func (m Message) Options() map[uint8][]byte {
	o, _ := m.options()
	return o
}

// Type returns option 53, or 0.
func (m Message) Type() uint8 {
	if v := m.Options()[OptMsgType]; len(v) == 1 {
		return v[0]
	}
	return 0
}

// Size returns the encoded length of f.
func (f *Fields) Size() int {
	n := fixedSize + 1
	for _, o := range f.Options {
		n += 2 + len(o.Data)
	}
	return max(n, 300) // BOOTP minimum (RFC 1542 2.1)
}

// Encode writes f into m (of f.Size() bytes).
func (m Message) Encode(f *Fields) {
	clear(m)
	m[offOp], m[offHType], m[offHLen] = f.Op, 1, 6
	binary.BigEndian.PutUint32(m[offXID:], f.XID)
	if f.Broadcast {
		binary.BigEndian.PutUint16(m[offFlags:], flagBroadcast)
	}
	put4 := func(off int, a netip.Addr) {
		if a.Is4() {
			b := a.As4()
			copy(m[off:], b[:])
		}
	}
	put4(offCIAddr, f.CIAddr)
	put4(offYIAddr, f.YIAddr)
	copy(m[offCHAddr:], f.CHAddr[:])
	binary.BigEndian.PutUint32(m[offMagic:], magicCookie)
	o := m[fixedSize:]
	for _, op := range f.Options {
		o[0], o[1] = op.Code, byte(len(op.Data))
		copy(o[2:], op.Data)
		o = o[2+len(op.Data):]
	}
	o[0] = OptEnd
}

func addrOpt(code uint8, a netip.Addr) Option {
	b := a.As4()
	return Option{code, b[:]}
}

func durOpt(v []byte) (time.Duration, bool) {
	if len(v) != 4 {
		return 0, false
	}
	return time.Duration(binary.BigEndian.Uint32(v)) * time.Second, true
}
