package stack_test

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"goxen/netstack/header"
	"goxen/netstack/link/channel"
	"goxen/netstack/stack"
	"goxen/netstack/transport/udp"
)

var (
	ourLL   = header.LinkLocalAddr(ourMAC) // fe80::ff:fe00:1
	peerLL  = header.LinkLocalAddr(peerMAC)
	ourG6   = netip.MustParseAddr("2001:db8::1")
	peerG6  = netip.MustParseAddr("2001:db8::2")
	prefix6 = netip.MustParsePrefix("2001:db8:1::/64")
)

// newEnv6 is a stack with IPv6 on one NIC (DAD off unless dad), its link-local address and,
// with static, 2001:db8::1/64.
func newEnv6(t *testing.T, cfg stack.IPv6Config, static, dad bool) *env {
	t.Helper()
	opts := stack.Options{DADTransmits: -1, DADMaxDelay: -1, RouterSolicitInterval: 50 * time.Millisecond,
		ARPRetransmit: 100 * time.Millisecond}
	if dad {
		opts.DADTransmits = 1
	}
	s := stack.New(opts)
	ep := channel.New(256, 1500, ourMAC)
	if err := s.AddNIC(1, "eth0", ep); err != nil {
		t.Fatal(err)
	}
	if err := s.EnableIPv6(1, cfg); err != nil {
		t.Fatal(err)
	}
	if static {
		if err := s.AddAddress(1, netip.PrefixFrom(ourG6, 64)); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(s.Close)
	return &env{t: t, s: s, ep: ep, udp: udp.New(s)}
}

func ip6Packet(src, dst netip.Addr, next, hopLimit uint8, payload []byte) []byte {
	b := make([]byte, header.IPv6MinSize+len(payload))
	header.IPv6(b).Encode(&header.IPv6Fields{PayloadLen: uint16(len(payload)), NextHeader: next, HopLimit: hopLimit, Src: src, Dst: dst})
	copy(b[header.IPv6MinSize:], payload)
	return b
}

func icmp6(src, dst netip.Addr, typ uint8, body []byte) []byte {
	m := make(header.ICMPv6, 4+len(body))
	copy(m[4:], body)
	m.SetTypeCode(typ, 0)
	m.SetChecksum(src, dst)
	return m
}

func frame6(dst header.LinkAddr, ip []byte) []byte {
	return ethFrame(dst, peerMAC, header.EtherTypeIPv6, ip)
}

// read6 returns the next IPv6 packet sent, skipping MLD reports.
func (e *env) read6() (header.Ethernet, header.IPv6) {
	e.t.Helper()
	b := e.read()
	for header.Ethernet(b).Dst() == header.MulticastLinkAddr(netip.MustParseAddr("ff02::16")) {
		b = e.read()
	}
	eth := header.Ethernet(b)
	ip := header.IPv6(eth.Payload())
	if eth.Type() != header.EtherTypeIPv6 || !ip.Valid() {
		e.t.Fatalf("want an IPv6 frame, got %x", b)
	}
	return eth, ip
}

func TestIPv6AddressesAndHeaders(t *testing.T) {
	if ourLL.String() != "fe80::ff:fe00:1" {
		t.Fatalf("link-local %v", ourLL)
	}
	if got := header.SolicitedNodeAddr(netip.MustParseAddr("2001:db8::abcd:1234")); got.String() != "ff02::1:ffcd:1234" {
		t.Fatalf("solicited-node %v", got)
	}
	if got := header.MulticastLinkAddr(netip.MustParseAddr("ff02::1:ffcd:1234")); got.String() != "33:33:ff:cd:12:34" {
		t.Fatalf("multicast MAC %v", got)
	}
	if _, ok := header.ParseNDPOptions([]byte{1, 0, 0, 0, 0, 0, 0, 0}); ok {
		t.Fatal("an option of length 0 parsed")
	}
	if _, ok := header.ParseNDPOptions([]byte{1, 2, 0, 0, 0, 0, 0, 0}); ok {
		t.Fatal("an option past the end parsed")
	}
}

func TestIPv6EchoAndNeighbourDiscovery(t *testing.T) {
	e := newEnv6(t, stack.IPv6Config{}, true, false)
	// The peer solicits our global address: we advertise it, solicited, with our MAC.
	ns := icmp6(peerG6, header.SolicitedNodeAddr(ourG6), header.ICMPv6NeighborSolicit,
		append(append(make([]byte, 4), ourG6.AsSlice()...), 1, 1, 2, 0, 0, 0, 0, 2))
	e.ep.Inject(frame6(header.MulticastLinkAddr(header.SolicitedNodeAddr(ourG6)), ip6Packet(peerG6, header.SolicitedNodeAddr(ourG6), header.ICMPv6ProtocolNumber, 255, ns)))
	eth, ip := e.read6()
	na := header.ICMPv6(ip[header.IPv6MinSize:])
	if eth.Dst() != peerMAC || ip.Dst() != peerG6 || ip.HopLimit() != 255 || na.Type() != header.ICMPv6NeighborAdvert ||
		na[4]&header.NDPNASolicited == 0 || header.NDPTarget(na) != ourG6 || !na.ChecksumValid(ip.Src(), ip.Dst()) {
		t.Fatalf("bad advertisement %x", []byte(eth))
	}
	// An echo request from the (now known) peer is answered without resolution.
	data := pattern(100)
	req := icmp6(peerG6, ourG6, header.ICMPv6EchoRequest, append([]byte{0, 7, 0, 1}, data...))
	e.ep.Inject(frame6(ourMAC, ip6Packet(peerG6, ourG6, header.ICMPv6ProtocolNumber, 64, req)))
	eth, ip = e.read6()
	rep := header.ICMPv6(ip[header.IPv6MinSize:])
	if rep.Type() != header.ICMPv6EchoReply || rep.Ident() != 7 || !bytes.Equal(rep[8:], data) || !rep.ChecksumValid(ourG6, peerG6) {
		t.Fatalf("bad echo reply %x", []byte(eth))
	}
	// A neighbour solicitation with a hop limit below 255 is malformed (RFC 4861 7.1.1).
	e.ep.Inject(frame6(header.MulticastLinkAddr(header.SolicitedNodeAddr(ourG6)), ip6Packet(peerG6, header.SolicitedNodeAddr(ourG6), header.ICMPv6ProtocolNumber, 64, ns)))
	e.expectNone()
	if e.stat("NDP.RxMalformed") != 1 {
		t.Fatal(e.s.Stats())
	}
}

func TestIPv6ResolvesTheNextHop(t *testing.T) {
	e := newEnv6(t, stack.IPv6Config{}, true, false)
	ep, err := e.udp.Bind(netip.AddrPortFrom(netip.IPv6Unspecified(), 5000), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ep.WriteTo([]byte("hi"), netip.AddrPortFrom(peerG6, 53)); err != nil {
		t.Fatal(err)
	}
	eth, ip := e.read6()
	ns := header.ICMPv6(ip[header.IPv6MinSize:])
	if ns.Type() != header.ICMPv6NeighborSolicit || header.NDPTarget(ns) != peerG6 || ip.Dst() != header.SolicitedNodeAddr(peerG6) ||
		eth.Dst() != header.MulticastLinkAddr(ip.Dst()) {
		t.Fatalf("want a solicitation for %v, got %x", peerG6, []byte(eth))
	}
	na := icmp6(peerG6, ourG6, header.ICMPv6NeighborAdvert,
		append(append([]byte{header.NDPNASolicited | header.NDPNAOverride, 0, 0, 0}, peerG6.AsSlice()...), 2, 1, 2, 0, 0, 0, 0, 2))
	e.ep.Inject(frame6(ourMAC, ip6Packet(peerG6, ourG6, header.ICMPv6ProtocolNumber, 255, na)))
	eth, ip = e.read6()
	u := header.UDP(ip[header.IPv6MinSize:])
	if eth.Dst() != peerMAC || ip.NextHeader() != header.UDPProtocolNumber || !u.Valid() || u.DstPort() != 53 ||
		!u.ChecksumValid(ourG6, peerG6) || string(u.Payload()) != "hi" {
		t.Fatalf("want the datagram to %v, got %x", peerG6, []byte(eth))
	}
}

func TestIPv6FragmentsBothWays(t *testing.T) {
	e := newEnv6(t, stack.IPv6Config{}, true, false)
	ep, err := e.udp.Bind(netip.AddrPortFrom(netip.IPv6Unspecified(), 7), 0)
	if err != nil {
		t.Fatal(err)
	}
	// Teach the stack the peer's MAC (an advertisement for an entry it lacks creates none;
	// a solicitation from the peer does).
	ns := icmp6(peerG6, header.SolicitedNodeAddr(ourG6), header.ICMPv6NeighborSolicit,
		append(append(make([]byte, 4), ourG6.AsSlice()...), 1, 1, 2, 0, 0, 0, 0, 2))
	e.ep.Inject(frame6(header.MulticastLinkAddr(header.SolicitedNodeAddr(ourG6)), ip6Packet(peerG6, header.SolicitedNodeAddr(ourG6), header.ICMPv6ProtocolNumber, 255, ns)))
	e.read6()
	data := pattern(4000)
	if _, err := ep.WriteTo(data, netip.AddrPortFrom(peerG6, 9)); err != nil {
		t.Fatal(err)
	}
	var got []byte
	for more := true; more; {
		_, ip := e.read6()
		if ip.NextHeader() != header.IPv6Fragment || len(ip) > 1500 {
			t.Fatalf("want a fragment of at most the MTU, got next header %d, %d bytes", ip.NextHeader(), len(ip))
		}
		fh := header.IPv6FragmentHeader(ip[header.IPv6MinSize:])
		if fh.Offset() != len(got) {
			t.Fatalf("fragment at %d, want %d", fh.Offset(), len(got))
		}
		got = append(got, ip[header.IPv6MinSize+8:]...)
		more = fh.More()
	}
	u := header.UDP(got)
	if !u.Valid() || !u.ChecksumValid(ourG6, peerG6) || !bytes.Equal(u.Payload(), data) {
		t.Fatal("reassembled datagram differs")
	}
	// The peer's fragments, out of order, are reassembled and delivered.
	dgram := udpDatagram(peerG6, ourG6, 9, 7, data)
	for _, off := range []int{1448, 0, 2896} {
		end := min(off+1448, len(dgram))
		fh := make([]byte, 8)
		header.IPv6FragmentHeader(fh).Encode(header.UDPProtocolNumber, off, end < len(dgram), 77)
		e.ep.Inject(frame6(ourMAC, ip6Packet(peerG6, ourG6, header.IPv6Fragment, 64, append(fh, dgram[off:end]...))))
	}
	buf := make([]byte, 8000)
	ep.SetReadDeadline(time.Now().Add(time.Second))
	n, from, err := ep.ReadFrom(buf)
	if err != nil || from != netip.AddrPortFrom(peerG6, 9) || !bytes.Equal(buf[:n], data) {
		t.Fatalf("read %d from %v: %v", n, from, err)
	}
	if e.stat("IPv6.ReasmOKs") != 1 {
		t.Fatal(e.s.Stats())
	}
}

func TestIPv6DuplicateAddressDetection(t *testing.T) {
	e := newEnv6(t, stack.IPv6Config{}, false, true)
	_, ip := e.read6() // the probe for the link-local address
	probe := header.ICMPv6(ip[header.IPv6MinSize:])
	if probe.Type() != header.ICMPv6NeighborSolicit || ip.Src() != netip.IPv6Unspecified() || header.NDPTarget(probe) != ourLL {
		t.Fatalf("want a DAD probe for %v, got %x", ourLL, []byte(ip))
	}
	// Another node answers for it: the address is given up.
	na := icmp6(peerLL, header.IPv6AllNodes, header.ICMPv6NeighborAdvert,
		append(append([]byte{header.NDPNAOverride, 0, 0, 0}, ourLL.AsSlice()...), 2, 1, 2, 0, 0, 0, 0, 2))
	e.ep.Inject(frame6(header.MulticastLinkAddr(header.IPv6AllNodes), ip6Packet(peerLL, header.IPv6AllNodes, header.ICMPv6ProtocolNumber, 255, na)))
	time.Sleep(300 * time.Millisecond)
	if e.stat("NDP.DADConflicts") != 1 || e.stat("NDP.DADDone") != 0 || len(e.s.NICs()[0].Addrs) != 0 {
		t.Fatal(e.s.NICs(), e.s.Stats())
	}
}

func TestIPv6SLAACFromARouterAdvertisement(t *testing.T) {
	e := newEnv6(t, stack.IPv6Config{Autoconf: true}, false, false)
	_, ip := e.read6()
	if rs := header.ICMPv6(ip[header.IPv6MinSize:]); rs.Type() != header.ICMPv6RouterSolicit || ip.Dst() != header.IPv6AllRouters {
		t.Fatalf("want a router solicitation, got %x", []byte(ip))
	}
	ra := make([]byte, 12)
	ra[0], ra[2], ra[3] = 64, 0x07, 0x08 // hop limit; router lifetime 1800 s
	pi := make([]byte, 32)
	pi[0], pi[1], pi[2], pi[3] = header.NDPOptPrefixInfo, 4, 64, header.NDPPrefixOnLink|header.NDPPrefixAutonomous
	copy(pi[4:], []byte{0, 0, 0x0e, 0x10, 0, 0, 0x07, 0x08}) // valid 3600 s, preferred 1800 s
	copy(pi[16:], prefix6.Addr().AsSlice())
	mtu := []byte{header.NDPOptMTU, 1, 0, 0, 0, 0, 0x05, 0x00} // 1280
	body := append(append(ra, pi...), mtu...)
	m := icmp6(peerLL, header.IPv6AllNodes, header.ICMPv6RouterAdvert, body)
	e.ep.Inject(frame6(header.MulticastLinkAddr(header.IPv6AllNodes), ip6Packet(peerLL, header.IPv6AllNodes, header.ICMPv6ProtocolNumber, 255, m)))
	want := netip.PrefixFrom(header.EUI64Addr(prefix6, ourMAC), 64)
	deadline := time.Now().Add(2 * time.Second)
	for {
		addrs := e.s.NICs()[0].Addrs
		if len(addrs) == 2 && addrs[1] == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("addresses %v, want %v too", addrs, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	r, err := e.s.FindRoute(netip.MustParseAddr("2001:db8:77::1"), 0)
	if err != nil || r.NextHop != peerLL || r.Src != want.Addr() {
		t.Fatalf("route off the link: %+v %v", r, err)
	}
	r, err = e.s.FindRoute(netip.MustParseAddr("2001:db8:1::99"), 0)
	if err != nil || r.NextHop != netip.MustParseAddr("2001:db8:1::99") {
		t.Fatalf("route on the link: %+v %v", r, err)
	}
	if e.stat("NDP.AddrsAutoconf") != 1 || e.stat("NDP.RoutersLearned") != 1 {
		t.Fatal(e.s.Stats())
	}
}

func TestIPv6MalformedIsCounted(t *testing.T) {
	e := newEnv6(t, stack.IPv6Config{}, true, false)
	echo := icmp6(peerG6, ourG6, header.ICMPv6EchoRequest, []byte{0, 1, 0, 1})
	good := ip6Packet(peerG6, ourG6, header.ICMPv6ProtocolNumber, 64, echo)
	long := append([]byte(nil), good...)
	header.IPv6(long).SetPayloadLen(200)
	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 0xff
	for _, f := range [][]byte{good[:30], long, ip6Packet(peerG6, ourG6, header.ICMPv6ProtocolNumber, 64, bad[header.IPv6MinSize:]),
		ip6Packet(peerG6, ourG6, 253, 64, make([]byte, 8))} {
		e.ep.Inject(frame6(ourMAC, f))
	}
	time.Sleep(50 * time.Millisecond)
	if e.stat("IPv6.InHdrErrors") != 2 || e.stat("ICMPv6.InCsumErrors") != 1 || e.stat("IPv6.InUnknownProtos") != 1 {
		t.Fatal(e.s.Stats())
	}
}

func TestMLDReportsAndQueries(t *testing.T) {
	e := newEnv6(t, stack.IPv6Config{}, true, false)
	mld := header.MulticastLinkAddr(netip.MustParseAddr("ff02::16"))
	var last []byte
	for len(last) == 0 || header.Ethernet(last).Dst() != mld {
		last = e.read()
	}
	// The last report lists the solicited-node groups of the link-local and the static address.
	ip := header.IPv6(header.Ethernet(last).Payload())
	m := header.ICMPv6(ip[header.IPv6MinSize+8:])
	if ip.NextHeader() != header.IPv6HopByHop || ip.HopLimit() != 1 || m.Type() != 143 || !m.ChecksumValid(ip.Src(), ip.Dst()) {
		t.Fatalf("bad report %x", last)
	}
	for e.ep.Read() != nil { // the robustness copies may follow
	}
	q := make([]byte, 24)
	q[1] = 100 // maximum response delay 100 ms
	hbh := []byte{header.ICMPv6ProtocolNumber, 0, 5, 2, 0, 0, 1, 0}
	msg := append(hbh, icmp6(peerLL, header.IPv6AllNodes, 130, q)...)
	e.ep.Inject(frame6(header.MulticastLinkAddr(header.IPv6AllNodes), ip6Packet(peerLL, header.IPv6AllNodes, header.IPv6HopByHop, 1, msg)))
	deadline := time.Now().Add(2 * time.Second)
	for e.stat("ICMPv6.OutMLDReports") < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if e.stat("ICMPv6.InMLDQueries") != 1 || e.stat("ICMPv6.OutMLDReports") < 3 {
		t.Fatal(e.s.Stats())
	}
}

func TestAnnounceAdvertisesIPv6Addresses(t *testing.T) {
	e := newEnv6(t, stack.IPv6Config{}, true, false)
	for e.ep.Read() != nil {
	}
	if err := e.s.Announce(1); err != nil {
		t.Fatal(err)
	}
	targets := map[netip.Addr]bool{}
	for range 2 {
		eth, ip := e.read6()
		na := header.ICMPv6(ip[header.IPv6MinSize:])
		if na.Type() != header.ICMPv6NeighborAdvert || ip.Dst() != header.IPv6AllNodes || eth.Dst() != header.MulticastLinkAddr(header.IPv6AllNodes) ||
			na[4]&header.NDPNAOverride == 0 || na[4]&header.NDPNASolicited != 0 {
			t.Fatalf("want an unsolicited advertisement, got %x", []byte(eth))
		}
		targets[header.NDPTarget(na)] = true
	}
	if !targets[ourLL] || !targets[ourG6] {
		t.Fatal(targets)
	}
}

func TestDualStackBinding(t *testing.T) {
	any4, any6 := netip.IPv4Unspecified(), netip.IPv6Unspecified()
	for _, c := range []struct {
		a      netip.Addr
		a6only bool
		b      netip.Addr
		b6only bool
		clash  bool
	}{
		{any4, false, any6, false, true},
		{any4, false, any6, true, false},
		{any6, true, ourG6, false, true},
		{any6, true, ourAddr, false, false},
		{ourAddr, false, ourG6, false, false},
		{ourG6, false, ourG6, false, true},
	} {
		if got := stack.BindConflict(c.a, c.a6only, c.b, c.b6only); got != c.clash {
			t.Errorf("BindConflict(%v %v, %v %v) = %v", c.a, c.a6only, c.b, c.b6only, got)
		}
	}
	if !stack.Accepts(any6, false, ourAddr) || stack.Accepts(any6, true, ourAddr) || stack.Accepts(any4, false, ourG6) ||
		!stack.Accepts(any6, true, ourG6) {
		t.Error("Accepts")
	}
	e := newEnv6(t, stack.IPv6Config{}, true, false)
	if _, err := e.udp.BindV6Only(netip.AddrPortFrom(any6, 53), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.udp.Bind(netip.AddrPortFrom(any4, 53), 0); err != nil {
		t.Fatalf("0.0.0.0 beside an IPv6-only [::]: %v", err)
	}
	if _, err := e.udp.Bind(netip.AddrPortFrom(any6, 53), 0); err != udp.ErrPortInUse {
		t.Fatalf("a dual-stack [::] over both: %v", err)
	}
}
