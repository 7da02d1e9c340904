package stack

import (
	"encoding/binary"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
)

// Segmentation and checksum offload (buffer.Offload), done in software for the devices that
// do not do them, as gVisor's stack does for links without GSO: the transport layer builds
// one large segment either way and pays its per-segment costs once.

// takesGSO reports whether the NIC's device cuts a GSO packet of size bytes (IP header
// included) itself.
func (n *NIC) takesGSO(size int, v6 bool) bool {
	o := n.offloads()
	return size <= o.GSOMaxSize && (v6 && o.GSOv6 || !v6 && o.GSOv4)
}

// completeChecksum fills in a partial transport checksum for a device that cannot.
func (n *NIC) completeChecksum(p *buffer.Packet) {
	if p.Offload.CsumPartial && !n.offloads().TxCsum {
		CompleteChecksum(p)
	}
}

// CompleteChecksum fills in p's partial transport checksum (buffer.Offload.CsumPartial) as
// a device would: the field holds the pseudo-header sum, so summing the transport bytes over
// it gives the checksum. For a link endpoint that takes partial checksums for some packets
// only (netfront without IPv6 checksum offload).
func CompleteChecksum(p *buffer.Packet) {
	if !p.Offload.CsumPartial {
		return
	}
	l4 := p.Bytes()[p.CsumStart():]
	field := l4[p.Offload.CsumOffset:]
	c := ^header.Checksum(l4, 0)
	if c == 0 && p.Offload.CsumOffset == header.UDPChecksumOffset {
		c = 0xffff // UDP's zero means "no checksum" (RFC 768)
	}
	binary.BigEndian.PutUint16(field, c)
	p.Offload.CsumPartial = false
}

// softwareGSO cuts p, a TCP segment with GSO set (transport header and payload; no IP header
// yet), into segments of at most GSOSize payload bytes with complete checksums, and sends each
// with write (the IP layer's). Each piece gets a copy of the header with its own sequence
// number; FIN and PSH stay on the last piece and CWR on the first only, as Linux's
// tcp_gso_segment does. Owns p. Called with s.mu held.
func (s *Stack) softwareGSO(info PacketInfo, p *buffer.Packet, write func(PacketInfo, *buffer.Packet) error) error {
	defer p.Release()
	o := p.Offload
	b := p.Bytes()
	hl, mss := o.L4HdrLen, int(o.GSOSize)
	if mss <= 0 || hl < header.TCPMinSize || hl > len(b) {
		s.stats.IP.OutDiscards.Inc() // a transport layer's mistake; never the network's
		return ErrMessageTooBig
	}
	hdr, data := header.TCP(b[:hl]), b[hl:]
	seq, flags := hdr.Seq(), hdr.Flags()
	var err error
	for off := 0; off < len(data); off += mss {
		end := min(off+mss, len(data))
		q := buffer.New(buffer.Headroom, hl+end-off)
		t := header.TCP(q.Extend(hl + end - off))
		copy(t, hdr)
		copy(t[hl:], data[off:end])
		binary.BigEndian.PutUint32(t[4:], seq+uint32(off))
		f := flags
		if end < len(data) {
			f &^= header.TCPFlagFIN | header.TCPFlagPSH
		}
		if off > 0 {
			f &^= header.TCPFlagCWR
		}
		t[13] = f
		t.SetChecksum(info.Src, info.Dst)
		if e := write(info, q); e != nil && err == nil {
			err = e
		}
	}
	return err
}
