package header

import (
	"encoding/binary"
	"net/netip"
)

// TCPMinSize is the length of a TCP header without options (RFC 9293 3.1); TCPChecksumOffset
// is where its checksum field is.
const (
	TCPMinSize        = 20
	TCPChecksumOffset = 16
)

// TCPMaxOptions is the most option bytes a header can carry (data offset 15 words).
const TCPMaxOptions = 40

// TCP flags (RFC 9293 3.1, RFC 3168 for ECE/CWR).
const (
	TCPFlagFIN uint8 = 1 << iota
	TCPFlagSYN
	TCPFlagRST
	TCPFlagPSH
	TCPFlagACK
	TCPFlagURG
	TCPFlagECE
	TCPFlagCWR
)

// TCP option kinds (IANA "TCP Option Kind Numbers").
const (
	TCPOptEnd           = 0
	TCPOptNOP           = 1
	TCPOptMSS           = 2 // RFC 9293, length 4
	TCPOptWindowScale   = 3 // RFC 7323, length 3
	TCPOptSACKPermitted = 4 // RFC 2018, length 2
	TCPOptSACK          = 5 // RFC 2018, length 2+8n
	TCPOptTimestamps    = 8 // RFC 7323, length 10
)

// TCPMaxWindowScale is the largest shift RFC 7323 2.3 allows.
const TCPMaxWindowScale = 14

// TCP is a TCP segment view; Valid is its length check.
type TCP []byte

// TCPFields is a TCP header's contents for Encode. Options are copied after the fixed
// header and must be a multiple of 4 bytes long.
type TCPFields struct {
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	Flags            uint8
	Window           uint16
	Urgent           uint16
	Options          []byte
}

// Valid reports whether b holds a fixed header and its data offset lies within
// [TCPMinSize, len(b)].
func (b TCP) Valid() bool {
	if len(b) < TCPMinSize {
		return false
	}
	off := b.DataOffset()
	return off >= TCPMinSize && off <= len(b)
}

func (b TCP) SrcPort() uint16  { return binary.BigEndian.Uint16(b[0:]) }
func (b TCP) DstPort() uint16  { return binary.BigEndian.Uint16(b[2:]) }
func (b TCP) Seq() uint32      { return binary.BigEndian.Uint32(b[4:]) }
func (b TCP) Ack() uint32      { return binary.BigEndian.Uint32(b[8:]) }
func (b TCP) DataOffset() int  { return int(b[12]>>4) * 4 }
func (b TCP) Flags() uint8     { return b[13] }
func (b TCP) Window() uint16   { return binary.BigEndian.Uint16(b[14:]) }
func (b TCP) Checksum() uint16 { return binary.BigEndian.Uint16(b[16:]) }
func (b TCP) Urgent() uint16   { return binary.BigEndian.Uint16(b[18:]) }
func (b TCP) Options() []byte  { return b[TCPMinSize:b.DataOffset()] }
func (b TCP) Payload() []byte  { return b[b.DataOffset():] }

// Encode writes f into b's first TCPMinSize+len(f.Options) bytes with a zero checksum.
func (b TCP) Encode(f *TCPFields) {
	binary.BigEndian.PutUint16(b[0:], f.SrcPort)
	binary.BigEndian.PutUint16(b[2:], f.DstPort)
	binary.BigEndian.PutUint32(b[4:], f.Seq)
	binary.BigEndian.PutUint32(b[8:], f.Ack)
	b[12] = uint8((TCPMinSize+len(f.Options))/4) << 4
	b[13] = f.Flags
	binary.BigEndian.PutUint16(b[14:], f.Window)
	binary.BigEndian.PutUint16(b[16:], 0)
	binary.BigEndian.PutUint16(b[18:], f.Urgent)
	copy(b[TCPMinSize:], f.Options)
}

// SetChecksum computes the checksum over the pseudo-header and the whole of b (RFC 9293 3.1).
func (b TCP) SetChecksum(src, dst netip.Addr) {
	binary.BigEndian.PutUint16(b[16:], 0)
	c := ^Checksum(b, PseudoHeaderChecksum(TCPProtocolNumber, src, dst, len(b)))
	binary.BigEndian.PutUint16(b[16:], c)
}

// SetPartialChecksum stores only the pseudo-header sum for the whole of b, for a device to
// complete (buffer.Offload.CsumPartial; Linux's CHECKSUM_PARTIAL, Xen's NETTXF_csum_blank).
func (b TCP) SetPartialChecksum(src, dst netip.Addr) {
	binary.BigEndian.PutUint16(b[16:], PseudoHeaderChecksum(TCPProtocolNumber, src, dst, len(b)))
}

// SetChecksumPayload is SetChecksum for a segment whose header is b and whose payload lies
// elsewhere (buffer.Packet.SetFrag). The header's length is a multiple of four, so the sums
// of the two parts add up to the sum of the whole.
func (b TCP) SetChecksumPayload(src, dst netip.Addr, payload []byte) {
	binary.BigEndian.PutUint16(b[16:], 0)
	c := ^Checksum(payload, Checksum(b, PseudoHeaderChecksum(TCPProtocolNumber, src, dst, len(b)+len(payload))))
	binary.BigEndian.PutUint16(b[16:], c)
}

// SetPartialChecksumLen is SetPartialChecksum for a segment n bytes long of which b holds
// only the header (its payload lies elsewhere: buffer.Packet.SetFrag).
func (b TCP) SetPartialChecksumLen(src, dst netip.Addr, n int) {
	binary.BigEndian.PutUint16(b[16:], PseudoHeaderChecksum(TCPProtocolNumber, src, dst, n))
}

// ChecksumValid reports whether the checksum over the pseudo-header and b is correct.
func (b TCP) ChecksumValid(src, dst netip.Addr) bool {
	return Checksum(b, PseudoHeaderChecksum(TCPProtocolNumber, src, dst, len(b))) == 0xffff
}

// TCPSACKBlock is one SACK block: the bytes [Start, End) were received (RFC 2018 3).
type TCPSACKBlock struct{ Start, End uint32 }

// TCPOptions is the parsed form of the options this stack uses. Zero values mean absent.
type TCPOptions struct {
	MSS           uint16
	WindowScale   int8 // -1: absent; else the shift (clamped to TCPMaxWindowScale)
	SACKPermitted bool
	TS            bool // timestamps present
	TSVal, TSEcr  uint32
	SACK          []TCPSACKBlock
}

// ParseTCPOptions decodes opts. It reports false for a malformed list: a length byte below
// 2 or running past the end, or a known option with the wrong length (RFC 9293 3.1 asks
// receivers to treat these as errors rather than guess).
func ParseTCPOptions(opts []byte) (TCPOptions, bool) {
	o := TCPOptions{WindowScale: -1}
	for i := 0; i < len(opts); {
		kind := opts[i]
		if kind == TCPOptEnd {
			break
		}
		if kind == TCPOptNOP {
			i++
			continue
		}
		if i+1 >= len(opts) {
			return o, false
		}
		l := int(opts[i+1])
		if l < 2 || i+l > len(opts) {
			return o, false
		}
		v := opts[i+2 : i+l]
		switch kind {
		case TCPOptMSS:
			if l != 4 {
				return o, false
			}
			o.MSS = binary.BigEndian.Uint16(v)
		case TCPOptWindowScale:
			if l != 3 {
				return o, false
			}
			o.WindowScale = int8(min(v[0], TCPMaxWindowScale))
		case TCPOptSACKPermitted:
			if l != 2 {
				return o, false
			}
			o.SACKPermitted = true
		case TCPOptTimestamps:
			if l != 10 {
				return o, false
			}
			o.TS = true
			o.TSVal = binary.BigEndian.Uint32(v)
			o.TSEcr = binary.BigEndian.Uint32(v[4:])
		case TCPOptSACK:
			if (l-2)%8 != 0 || l == 2 {
				return o, false
			}
			for j := 0; j < len(v); j += 8 {
				o.SACK = append(o.SACK, TCPSACKBlock{binary.BigEndian.Uint32(v[j:]), binary.BigEndian.Uint32(v[j+4:])})
			}
		}
		i += l
	}
	return o, true
}

// AppendTCPOptions appends o's present options to b in the layout Linux uses (NOPs aligning
// each option to 4 bytes) and pads the result to a multiple of 4. SACK blocks beyond what
// fits in TCPMaxOptions are left out.
func AppendTCPOptions(b []byte, o *TCPOptions) []byte {
	start := len(b)
	if o.MSS != 0 {
		b = append(b, TCPOptMSS, 4, byte(o.MSS>>8), byte(o.MSS))
	}
	switch {
	case o.SACKPermitted && o.TS:
		b = append(b, TCPOptSACKPermitted, 2)
		b = appendTS(b, o)
	case o.TS:
		b = append(b, TCPOptNOP, TCPOptNOP)
		b = appendTS(b, o)
	case o.SACKPermitted:
		b = append(b, TCPOptNOP, TCPOptNOP, TCPOptSACKPermitted, 2)
	}
	if o.WindowScale >= 0 {
		b = append(b, TCPOptNOP, TCPOptWindowScale, 3, byte(o.WindowScale))
	}
	if n := len(o.SACK); n > 0 {
		room := (TCPMaxOptions - (len(b) - start) - 4) / 8
		n = min(n, room)
		if n > 0 {
			b = append(b, TCPOptNOP, TCPOptNOP, TCPOptSACK, byte(2+8*n))
			for _, s := range o.SACK[:n] {
				b = binary.BigEndian.AppendUint32(b, s.Start)
				b = binary.BigEndian.AppendUint32(b, s.End)
			}
		}
	}
	for (len(b)-start)%4 != 0 {
		b = append(b, TCPOptEnd)
	}
	return b
}

func appendTS(b []byte, o *TCPOptions) []byte {
	b = append(b, TCPOptTimestamps, 10)
	b = binary.BigEndian.AppendUint32(b, o.TSVal)
	return binary.BigEndian.AppendUint32(b, o.TSEcr)
}
