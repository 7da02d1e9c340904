package stack_test

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
	"goxen/netstack/link"
	"goxen/netstack/stack"
)

// gsoSegment builds what TCP hands the IP layer for a 64 KiB-style segment: a header with
// timestamps-sized options, data of n bytes, a partial checksum and GSO at mss.
func gsoSegment(n, mss int, flags uint8, v6 bool) *buffer.Packet {
	f := header.TCPFields{SrcPort: 4000, DstPort: 80, Seq: 0xfffff000, Ack: 7, Flags: header.TCPFlagACK | flags,
		Window: 1000, Options: []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}}
	hl := header.TCPMinSize + len(f.Options)
	p := buffer.New(buffer.Headroom, hl+n)
	t := header.TCP(p.Extend(hl + n))
	t.Encode(&f)
	copy(t[hl:], pattern(n))
	src, dst := ourAddr, peerAddr
	typ := buffer.GSOTCPv4
	if v6 {
		src, dst, typ = ourAddr6, peerAddr6, buffer.GSOTCPv6
	}
	t.SetPartialChecksum(src, dst)
	p.Offload = buffer.Offload{GSOType: typ, GSOSize: uint16(mss), CsumPartial: true, L4Len: hl + n,
		CsumOffset: header.TCPChecksumOffset, L4HdrLen: hl}
	return p
}

// A device without GSO gets the segment cut by the stack into MTU-sized IPv4 packets with
// complete checksums, consecutive sequence numbers, PSH and FIN only on the last piece and
// the payload intact.
func TestSoftwareGSOv4(t *testing.T) {
	e := newEnv(t, stack.Options{})
	e.learn()
	const n, mss = 10000, 1448
	p := gsoSegment(n, mss, header.TCPFlagPSH|header.TCPFlagFIN, false)
	if err := e.s.WriteIP(stack.PacketInfo{Src: ourAddr, Dst: peerAddr, Protocol: header.TCPProtocolNumber}, p); err != nil {
		t.Fatal(err)
	}
	var got []byte
	pieces := (n + mss - 1) / mss
	for i := 0; i < pieces; i++ {
		fr := e.read()
		ip := header.IPv4(fr[header.EthernetMinSize:])
		if ip.Validate() != header.IPv4OK || int(ip.TotalLen()) > 1500 {
			t.Fatalf("piece %d: bad IPv4 packet (len %d)", i, ip.TotalLen())
		}
		tcp := header.TCP(ip[ip.HeaderLen():ip.TotalLen()])
		if !tcp.ChecksumValid(ourAddr, peerAddr) {
			t.Fatalf("piece %d: bad TCP checksum", i)
		}
		if want := uint32(0xfffff000) + uint32(i*mss); tcp.Seq() != want {
			t.Fatalf("piece %d: seq %#x, want %#x", i, tcp.Seq(), want)
		}
		last := i == pieces-1
		if fin := tcp.Flags()&(header.TCPFlagFIN|header.TCPFlagPSH) != 0; fin != last {
			t.Fatalf("piece %d: flags %#x", i, tcp.Flags())
		}
		if len(tcp.Options()) != 12 {
			t.Fatalf("piece %d: options not copied", i)
		}
		got = append(got, tcp.Payload()...)
	}
	if !bytes.Equal(got, pattern(n)) {
		t.Fatal("payload changed")
	}
	e.expectNone()
}

var (
	ourAddr6  = netip.MustParseAddr("fd00::1")
	peerAddr6 = netip.MustParseAddr("fd00::2")
)

// A device that takes GSO gets one frame: the IP length covers all of it and the checksum
// stays partial; completing it as the device would gives a valid checksum. A device with
// checksum offload only gets pieces whose checksums it completes.
func TestGSOToDevice(t *testing.T) {
	for _, c := range []struct {
		name     string
		offloads link.Offloads
		frames   int
	}{
		{"gso", link.Offloads{TxCsum: true, GSOMaxSize: 65535, GSOv4: true}, 1},
		{"csum-only", link.Offloads{TxCsum: true}, 7},
		{"gso-v6-only", link.Offloads{TxCsum: true, GSOMaxSize: 65535, GSOv6: true}, 7},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnvWith(t, stack.Options{}, c.offloads)
			e.learn()
			p := gsoSegment(10000, 1448, header.TCPFlagPSH, false)
			if err := e.s.WriteIP(stack.PacketInfo{Src: ourAddr, Dst: peerAddr, Protocol: header.TCPProtocolNumber}, p); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < c.frames; i++ {
				q := <-e.ep.C()
				ip := header.IPv4(q.Bytes()[header.EthernetMinSize:])
				if ip.Validate() != header.IPv4OK {
					t.Fatal("bad IPv4 header")
				}
				tcp := header.TCP(ip[ip.HeaderLen():ip.TotalLen()])
				if c.frames == 1 {
					if int(ip.TotalLen()) != 20+32+10000 || q.Offload.GSOType != buffer.GSOTCPv4 || q.Offload.GSOSize != 1448 {
						t.Fatalf("frame: len %d, offload %+v", ip.TotalLen(), q.Offload)
					}
				}
				if q.Offload.CsumPartial {
					if q.CsumStart() != header.EthernetMinSize+ip.HeaderLen() {
						t.Fatalf("csum start %d", q.CsumStart())
					}
					c := ^header.Checksum(tcp, 0)
					binary.BigEndian.PutUint16(tcp[header.TCPChecksumOffset:], c)
				}
				if !tcp.ChecksumValid(ourAddr, peerAddr) {
					t.Fatalf("frame %d: checksum wrong once completed", i)
				}
				q.Release()
			}
			e.expectNone()
		})
	}
}
