// Package checker has composable assertions on packets for tests:
//
//	checker.IPv4(t, pkt, checker.SrcAddr(a), checker.TTL(64),
//		checker.UDP(checker.DstPort(7), checker.Payload(want)))
package checker

import (
	"bytes"
	"net/netip"
	"testing"

	"goxen/netstack/header"
)

// NetworkChecker checks an IPv4 packet.
type NetworkChecker func(testing.TB, header.IPv4)

// TransportChecker checks a transport message (UDP datagram or ICMP message).
type TransportChecker func(testing.TB, []byte)

// Frame checks an Ethernet frame's header and runs the checkers on its IPv4 payload.
func Frame(t testing.TB, frame []byte, dst header.LinkAddr, typ uint16, checkers ...NetworkChecker) {
	t.Helper()
	e := header.Ethernet(frame)
	if !e.Valid() {
		t.Fatalf("frame of %d bytes has no Ethernet header", len(frame))
	}
	if e.Dst() != dst || e.Type() != typ {
		t.Fatalf("frame to %v type %#04x, want %v %#04x", e.Dst(), e.Type(), dst, typ)
	}
	if typ == header.EtherTypeIPv4 {
		IPv4(t, e.Payload(), checkers...)
	}
}

// IPv4 validates b as an IPv4 packet and runs the checkers on it.
func IPv4(t testing.TB, b []byte, checkers ...NetworkChecker) {
	t.Helper()
	h := header.IPv4(b)
	if err := h.Validate(); err != header.IPv4OK {
		t.Fatalf("invalid IPv4 packet: %v", err)
	}
	for _, c := range checkers {
		c(t, h[:h.TotalLen()])
	}
}

func SrcAddr(a netip.Addr) NetworkChecker {
	return func(t testing.TB, h header.IPv4) {
		t.Helper()
		if h.Src() != a {
			t.Errorf("IPv4 src %v, want %v", h.Src(), a)
		}
	}
}

func DstAddr(a netip.Addr) NetworkChecker {
	return func(t testing.TB, h header.IPv4) {
		t.Helper()
		if h.Dst() != a {
			t.Errorf("IPv4 dst %v, want %v", h.Dst(), a)
		}
	}
}

func TTL(v uint8) NetworkChecker {
	return func(t testing.TB, h header.IPv4) {
		t.Helper()
		if h.TTL() != v {
			t.Errorf("IPv4 TTL %d, want %d", h.TTL(), v)
		}
	}
}

// Fragment checks the fragment offset (bytes) and the more-fragments flag.
func Fragment(off uint16, more bool) NetworkChecker {
	return func(t testing.TB, h header.IPv4) {
		t.Helper()
		if h.FragmentOffset() != off || h.More() != more {
			t.Errorf("IPv4 fragment offset %d MF %v, want %d %v", h.FragmentOffset(), h.More(), off, more)
		}
	}
}

// PayloadLen checks the IP payload length.
func PayloadLen(n int) NetworkChecker {
	return func(t testing.TB, h header.IPv4) {
		t.Helper()
		if got := len(h.Payload()); got != n {
			t.Errorf("IPv4 payload length %d, want %d", got, n)
		}
	}
}

// UDP checks the protocol, the datagram's validity and checksum, then runs the checkers.
func UDP(checkers ...TransportChecker) NetworkChecker {
	return func(t testing.TB, h header.IPv4) {
		t.Helper()
		if h.Protocol() != header.UDPProtocolNumber {
			t.Fatalf("IPv4 protocol %d, want UDP", h.Protocol())
		}
		u := header.UDP(h.Payload())
		if !u.Valid() || !u.ChecksumValid(h.Src(), h.Dst()) {
			t.Fatalf("invalid UDP datagram")
		}
		for _, c := range checkers {
			c(t, u)
		}
	}
}

// ICMPv4 checks the protocol and the message checksum, then runs the checkers.
func ICMPv4(checkers ...TransportChecker) NetworkChecker {
	return func(t testing.TB, h header.IPv4) {
		t.Helper()
		if h.Protocol() != header.ICMPv4ProtocolNumber {
			t.Fatalf("IPv4 protocol %d, want ICMP", h.Protocol())
		}
		m := header.ICMPv4(h.Payload())
		if !m.Valid() || !m.ChecksumValid() {
			t.Fatalf("invalid ICMP message")
		}
		for _, c := range checkers {
			c(t, m)
		}
	}
}

func SrcPort(p uint16) TransportChecker {
	return func(t testing.TB, b []byte) {
		t.Helper()
		if got := header.UDP(b).SrcPort(); got != p {
			t.Errorf("UDP src port %d, want %d", got, p)
		}
	}
}

func DstPort(p uint16) TransportChecker {
	return func(t testing.TB, b []byte) {
		t.Helper()
		if got := header.UDP(b).DstPort(); got != p {
			t.Errorf("UDP dst port %d, want %d", got, p)
		}
	}
}

// UDPPayload checks the datagram's payload.
func UDPPayload(want []byte) TransportChecker {
	return func(t testing.TB, b []byte) {
		t.Helper()
		if got := header.UDP(b).Payload(); !bytes.Equal(got, want) {
			t.Errorf("UDP payload %d bytes, want %d (equal=%v)", len(got), len(want), bytes.Equal(got, want))
		}
	}
}

// ICMPType checks type and code.
func ICMPType(typ, code uint8) TransportChecker {
	return func(t testing.TB, b []byte) {
		t.Helper()
		m := header.ICMPv4(b)
		if m.Type() != typ || m.Code() != code {
			t.Errorf("ICMP type %d code %d, want %d %d", m.Type(), m.Code(), typ, code)
		}
	}
}

// ICMPEcho checks the identifier, sequence and payload of an echo message.
func ICMPEcho(id, seq uint16, payload []byte) TransportChecker {
	return func(t testing.TB, b []byte) {
		t.Helper()
		m := header.ICMPv4(b)
		if m.Ident() != id || m.Seq() != seq || !bytes.Equal(m.Payload(), payload) {
			t.Errorf("ICMP echo id %d seq %d (%d bytes), want %d %d (%d bytes)", m.Ident(), m.Seq(), len(m.Payload()), id, seq, len(payload))
		}
	}
}
