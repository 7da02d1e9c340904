package stack_test

import (
	"fmt"
	"math/rand"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"

	"goxen/netstack/buffer"
	"goxen/netstack/checker"
	"goxen/netstack/header"
	"goxen/netstack/stack"
)

func bufferOf(b []byte) *buffer.Packet { return buffer.FromBytes(b) }

// malformedFrames are broken in one way each; every one must be dropped and counted.
func malformedFrames() map[string][]byte {
	good := ipPacket(header.IPv4Fields{Protocol: header.ICMPv4ProtocolNumber, Src: peerAddr, Dst: ourAddr}, echoRequest(1, 1, pattern(32)))
	mod := func(f func(b []byte)) []byte {
		b := append([]byte(nil), good...)
		f(b)
		return fromPeer(b)
	}
	fix := func(b []byte) { header.IPv4(b).SetChecksum() }
	return map[string][]byte{
		"empty":           {},
		"short-ethernet":  fromPeer(nil)[:10],
		"ip-truncated":    fromPeer(good[:12]),
		"ip-bad-version":  mod(func(b []byte) { b[0] = 0x55; fix(b) }),
		"ip-ihl-small":    mod(func(b []byte) { b[0] = 0x41; fix(b) }),
		"ip-ihl-big":      mod(func(b []byte) { b[0] = 0x4f; fix(b) }),
		"ip-len-big":      mod(func(b []byte) { b[2] = 0x40; fix(b) }),
		"ip-len-small":    mod(func(b []byte) { b[2], b[3] = 0, 8; fix(b) }),
		"ip-bad-checksum": mod(func(b []byte) { b[10] ^= 0x55 }),
		"ip-bad-options": fromPeer(ipPacket(header.IPv4Fields{Protocol: header.ICMPv4ProtocolNumber, Src: peerAddr, Dst: ourAddr,
			Options: []byte{0x07, 0x20, 0, 0}}, echoRequest(1, 1, nil))),
		"icmp-bad-checksum": mod(func(b []byte) { b[len(b)-1] ^= 1 }),
		"icmp-truncated":    fromPeer(ipPacket(header.IPv4Fields{Protocol: header.ICMPv4ProtocolNumber, Src: peerAddr, Dst: ourAddr}, []byte{8, 0, 0})),
		"udp-bad-length": fromPeer(ipPacket(header.IPv4Fields{Protocol: header.UDPProtocolNumber, Src: peerAddr, Dst: ourAddr},
			[]byte{0, 1, 0, 7, 0, 99, 0, 0, 1, 2})),
		"udp-truncated": fromPeer(ipPacket(header.IPv4Fields{Protocol: header.UDPProtocolNumber, Src: peerAddr, Dst: ourAddr}, []byte{0, 1, 0})),
		"arp-truncated": ethFrame(header.BroadcastLinkAddr, peerMAC, header.EtherTypeARP, make([]byte, 20)),
		"arp-bad-htype": ethFrame(header.BroadcastLinkAddr, peerMAC, header.EtherTypeARP, append([]byte{0, 6}, arpFrame(1, peerMAC, peerAddr, header.LinkAddr{}, ourAddr, header.BroadcastLinkAddr)[16:]...)),
		"frag-odd-size": fromPeer(ipPacket(header.IPv4Fields{Protocol: header.ICMPv4ProtocolNumber, Src: peerAddr, Dst: ourAddr,
			Flags: header.IPv4FlagMF, ID: 9}, pattern(13))),
		"frag-beyond-64k": fromPeer(ipPacket(header.IPv4Fields{Protocol: header.ICMPv4ProtocolNumber, Src: peerAddr, Dst: ourAddr,
			FragmentOffset: 65520, ID: 10}, pattern(100))),
		"src-broadcast":     fromPeer(ipPacket(header.IPv4Fields{Protocol: header.ICMPv4ProtocolNumber, Src: netip.MustParseAddr("10.0.0.255"), Dst: ourAddr}, echoRequest(1, 1, nil))),
		"unknown-ethertype": ethFrame(ourMAC, peerMAC, 0x86dd, pattern(40)),
		"other-mac":         ethFrame(header.LinkAddr{2, 9, 9, 9, 9, 9}, peerMAC, header.EtherTypeIPv4, good),
	}
}

// TestMalformedDroppedAndCounted injects each malformed frame: no reply, the receive counters
// grow, and a normal ping is still answered afterwards.
func TestMalformedDroppedAndCounted(t *testing.T) {
	e := newEnv(t, stack.Options{})
	e.learn()
	drops := func() uint64 {
		m := e.s.Stats().Snapshot()
		return m["Link.RxMalformed"] + m["Link.RxNotForUs"] + m["Link.RxUnknownType"] + m["ARP.RxMalformed"] +
			m["IP.InHdrErrors"] + m["IP.InAddrErrors"] + m["IP.ReasmFails"] + m["ICMP.InErrors"] + m["UDP.InErrors"]
	}
	for name, f := range malformedFrames() {
		before := drops()
		e.ep.Inject(f)
		if b := e.ep.Read(); b != nil {
			// A non-first fragment cannot be judged yet; nothing else may be answered.
			t.Errorf("%s: answered with %x", name, b)
		}
		if drops() == before {
			t.Errorf("%s: not counted as a drop", name)
		}
	}
	e.ep.Inject(fromPeer(ipPacket(header.IPv4Fields{Protocol: header.ICMPv4ProtocolNumber, Src: peerAddr, Dst: ourAddr}, echoRequest(5, 5, []byte("alive")))))
	checker.Frame(t, e.read(), peerMAC, header.EtherTypeIPv4, checker.ICMPv4(checker.ICMPEcho(5, 5, []byte("alive"))))
}

// FuzzDeliverFrame feeds arbitrary frames to a stack; it must never panic. Without -fuzz it
// runs the malformed corpus plus random mutations of valid frames.
func FuzzDeliverFrame(f *testing.F) {
	for _, b := range malformedFrames() {
		f.Add(b)
	}
	f.Add(fromPeer(ipPacket(header.IPv4Fields{Protocol: header.UDPProtocolNumber, Src: peerAddr, Dst: ourAddr}, udpDatagram(peerAddr, ourAddr, 1, 7, []byte("u")))))
	rng := rand.New(rand.NewSource(1))
	base := fromPeer(ipPacket(header.IPv4Fields{Protocol: header.ICMPv4ProtocolNumber, Src: peerAddr, Dst: ourAddr, Flags: header.IPv4FlagMF}, echoRequest(1, 1, pattern(64))))
	for range 200 {
		b := append([]byte(nil), base...)
		for range 1 + rng.Intn(4) {
			b[rng.Intn(len(b))] = byte(rng.Intn(256))
		}
		f.Add(b[:rng.Intn(len(b)+1)])
	}
	e := newEnv(&testing.T{}, stack.Options{})
	f.Fuzz(func(t *testing.T, frame []byte) {
		w := time.AfterFunc(5*time.Second, func() {
			buf := make([]byte, 1<<20)
			os.Stderr.Write(buf[:runtime.Stack(buf, true)])
			panic(fmt.Sprintf("hang on %x", frame))
		})
		e.ep.Inject(frame)
		e.ep.Drain()
		w.Stop()
	})
}
