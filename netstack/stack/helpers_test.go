package stack_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"goxen/netstack/header"
	"goxen/netstack/link"
	"goxen/netstack/link/channel"
	"goxen/netstack/stack"
	"goxen/netstack/transport/udp"
)

var (
	ourMAC   = header.LinkAddr{2, 0, 0, 0, 0, 1}
	peerMAC  = header.LinkAddr{2, 0, 0, 0, 0, 2}
	gwMAC    = header.LinkAddr{2, 0, 0, 0, 0, 0xfe}
	ourAddr  = netip.MustParseAddr("10.0.0.1")
	peerAddr = netip.MustParseAddr("10.0.0.2")
	gwAddr   = netip.MustParseAddr("10.0.0.254")
	farAddr  = netip.MustParseAddr("192.0.2.9") // TEST-NET-1, reached through the gateway
)

type env struct {
	t   testing.TB
	s   *stack.Stack
	ep  *channel.Endpoint
	udp *udp.Protocol
}

// newEnv is a stack with one NIC on a channel endpoint, 10.0.0.1/24, default route via
// 10.0.0.254. The gratuitous ARP sent on address assignment is drained.
func newEnv(t testing.TB, opts stack.Options) *env {
	t.Helper()
	return newEnvWith(t, opts, link.Offloads{})
}

// newEnvWith is newEnv on an endpoint claiming offloads o.
func newEnvWith(t testing.TB, opts stack.Options, o link.Offloads) *env {
	t.Helper()
	s := stack.New(opts)
	ep := channel.New(256, 1500, ourMAC)
	ep.SetOffloads(o)
	if err := s.AddNIC(1, "eth0", ep); err != nil {
		t.Fatal(err)
	}
	if err := s.AddAddress(1, netip.PrefixFrom(ourAddr, 24)); err != nil {
		t.Fatal(err)
	}
	s.AddRoute(stack.Route{Dest: netip.MustParsePrefix("0.0.0.0/0"), Gateway: gwAddr, NIC: 1})
	e := &env{t: t, s: s, ep: ep, udp: udp.New(s)}
	e.expectARPRequest(ourAddr) // gratuitous
	t.Cleanup(s.Close)
	return e
}

func (e *env) stat(name string) uint64 { return e.s.Stats().Snapshot()[name] }

// read waits up to a second for a sent frame.
func (e *env) read() []byte {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	b := e.ep.ReadContext(ctx)
	if b == nil {
		e.t.Fatal("no frame sent")
	}
	return b
}

func (e *env) expectNone() {
	e.t.Helper()
	if b := e.ep.Read(); b != nil {
		e.t.Fatalf("unexpected frame %x", b)
	}
}

func (e *env) expectARPRequest(target netip.Addr) {
	e.t.Helper()
	b := e.read()
	eth := header.Ethernet(b)
	a := header.ARP(eth.Payload())
	if eth.Type() != header.EtherTypeARP || !eth.Dst().IsBroadcast() || !a.Valid() || a.Op() != header.ARPRequest || a.TargetProto() != target {
		e.t.Fatalf("want ARP request for %v, got %x", target, b)
	}
}

// learn teaches the stack peer's and the gateway's MAC via ARP requests addressed to us.
func (e *env) learn() {
	e.ep.Inject(arpFrame(header.ARPRequest, peerMAC, peerAddr, header.LinkAddr{}, ourAddr, header.BroadcastLinkAddr))
	e.read()
	e.ep.Inject(arpFrame(header.ARPRequest, gwMAC, gwAddr, header.LinkAddr{}, ourAddr, header.BroadcastLinkAddr))
	e.read()
}

func ethFrame(dst, src header.LinkAddr, typ uint16, payload []byte) []byte {
	b := make([]byte, header.EthernetMinSize+len(payload))
	header.Ethernet(b).Encode(&header.EthernetFields{Dst: dst, Src: src, Type: typ})
	copy(b[header.EthernetMinSize:], payload)
	return b
}

func arpFrame(op uint16, sha header.LinkAddr, spa netip.Addr, tha header.LinkAddr, tpa netip.Addr, dst header.LinkAddr) []byte {
	a := make(header.ARP, header.ARPSize)
	a.Encode(&header.ARPFields{Op: op, SenderHW: sha, SenderProto: spa, TargetHW: tha, TargetProto: tpa})
	return ethFrame(dst, sha, header.EtherTypeARP, a)
}

// ipPacket builds an IPv4 packet with the given fields and payload.
func ipPacket(f header.IPv4Fields, payload []byte) []byte {
	b := make([]byte, header.IPv4MinSize+len(f.Options)+len(payload))
	if f.TTL == 0 {
		f.TTL = 64
	}
	f.TotalLen = uint16(len(b))
	header.IPv4(b).Encode(&f)
	copy(b[header.IPv4MinSize+len(f.Options):], payload)
	return b
}

func udpDatagram(src, dst netip.Addr, sport, dport uint16, payload []byte) []byte {
	u := make(header.UDP, header.UDPMinSize+len(payload))
	copy(u[header.UDPMinSize:], payload)
	u.Encode(&header.UDPFields{SrcPort: sport, DstPort: dport, Length: uint16(len(u))})
	u.SetChecksum(src, dst)
	return u
}

func echoRequest(id, seq uint16, payload []byte) []byte {
	m := make(header.ICMPv4, header.ICMPv4MinSize+len(payload))
	copy(m[header.ICMPv4MinSize:], payload)
	m.Encode(&header.ICMPv4Fields{Type: header.ICMPv4Echo, Ident: id, Seq: seq})
	return m
}

// fromPeer wraps an IP packet in a frame from the peer to us.
func fromPeer(ip []byte) []byte { return ethFrame(ourMAC, peerMAC, header.EtherTypeIPv4, ip) }

// fragment splits an IP payload into fragments of at most size payload bytes each.
func fragment(f header.IPv4Fields, payload []byte, size int) [][]byte {
	var out [][]byte
	for off := 0; off < len(payload); off += size {
		end := min(off+size, len(payload))
		g := f
		g.FragmentOffset = uint16(off)
		if end < len(payload) {
			g.Flags |= header.IPv4FlagMF
		}
		out = append(out, ipPacket(g, payload[off:end]))
	}
	return out
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}
