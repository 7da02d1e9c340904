package stack_test

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"testing"
	"time"

	"goxen/netstack/checker"
	"goxen/netstack/header"
	"goxen/netstack/link/channel"
	"goxen/netstack/stack"
)

func TestARPAnswersRequest(t *testing.T) {
	e := newEnv(t, stack.Options{})
	e.ep.Inject(arpFrame(header.ARPRequest, peerMAC, peerAddr, header.LinkAddr{}, ourAddr, header.BroadcastLinkAddr))
	b := e.read()
	a := header.ARP(header.Ethernet(b).Payload())
	if header.Ethernet(b).Dst() != peerMAC || a.Op() != header.ARPReply || a.SenderHW() != ourMAC ||
		a.SenderProto() != ourAddr || a.TargetHW() != peerMAC || a.TargetProto() != peerAddr {
		t.Fatalf("bad reply %x", b)
	}
	// A request for someone else is not answered, and its sender is not learned.
	e.ep.Inject(arpFrame(header.ARPRequest, peerMAC, netip.MustParseAddr("10.0.0.3"), header.LinkAddr{}, netip.MustParseAddr("10.0.0.4"), header.BroadcastLinkAddr))
	e.expectNone()
	if got := e.stat("ARP.RxNotForUs"); got != 1 {
		t.Fatalf("RxNotForUs %d", got)
	}
	for _, en := range e.s.ARPTable() {
		if en.Addr == netip.MustParseAddr("10.0.0.3") {
			t.Fatal("learned a sender from a request not for us")
		}
	}
}

func TestARPResolvesAndFlushesPending(t *testing.T) {
	e := newEnv(t, stack.Options{})
	ep, err := e.udp.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), 5000), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	for i := range 3 {
		if _, err := ep.WriteTo([]byte{byte(i)}, netip.AddrPortFrom(peerAddr, 9)); err != nil {
			t.Fatal(err)
		}
	}
	e.expectARPRequest(peerAddr) // one request for three packets
	e.expectNone()
	e.ep.Inject(arpFrame(header.ARPReply, peerMAC, peerAddr, ourMAC, ourAddr, ourMAC))
	for i := range 3 {
		checker.Frame(t, e.read(), peerMAC, header.EtherTypeIPv4, checker.SrcAddr(ourAddr), checker.DstAddr(peerAddr),
			checker.UDP(checker.SrcPort(5000), checker.DstPort(9), checker.UDPPayload([]byte{byte(i)})))
	}
	// Now resolved: the next packet goes straight out.
	ep.WriteTo([]byte("x"), netip.AddrPortFrom(peerAddr, 9))
	checker.Frame(t, e.read(), peerMAC, header.EtherTypeIPv4)
}

func TestARPGivesUpAndBoundsQueue(t *testing.T) {
	e := newEnv(t, stack.Options{ARPRetransmit: 20 * time.Millisecond, ARPRetries: 2, ARPMaxPending: 4})
	ep, _ := e.udp.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), 0), 0)
	defer ep.Close()
	for range 10 {
		ep.WriteTo([]byte("q"), netip.AddrPortFrom(peerAddr, 9))
	}
	e.expectARPRequest(peerAddr)
	e.expectARPRequest(peerAddr) // retry
	for deadline := time.Now().Add(5 * time.Second); e.stat("ARP.ResolveFailed") == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	e.expectNone()
	if e.stat("ARP.ResolveFailed") != 1 || e.stat("ARP.PendingDropped") != 10 {
		t.Fatalf("stats: %v", e.s.Stats())
	}
}

func TestRouteViaGateway(t *testing.T) {
	e := newEnv(t, stack.Options{})
	e.learn()
	ep, _ := e.udp.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), 0), 0)
	defer ep.Close()
	if _, err := ep.WriteTo([]byte("far"), netip.AddrPortFrom(farAddr, 53)); err != nil {
		t.Fatal(err)
	}
	checker.Frame(t, e.read(), gwMAC, header.EtherTypeIPv4, checker.DstAddr(farAddr), checker.TTL(64))
	e.s.RemoveRoutes(func(r stack.Route) bool { return r.Gateway.IsValid() })
	if _, err := ep.WriteTo([]byte("far"), netip.AddrPortFrom(farAddr, 53)); !errors.Is(err, stack.ErrNoRoute) {
		t.Fatalf("without default route: %v", err)
	}
}

func TestPingReply(t *testing.T) {
	e := newEnv(t, stack.Options{})
	e.learn()
	for _, n := range []int{0, 56, 1472} {
		data := pattern(n)
		e.ep.Inject(fromPeer(ipPacket(header.IPv4Fields{Protocol: header.ICMPv4ProtocolNumber, Src: peerAddr, Dst: ourAddr}, echoRequest(9, uint16(n), data))))
		checker.Frame(t, e.read(), peerMAC, header.EtherTypeIPv4, checker.SrcAddr(ourAddr), checker.DstAddr(peerAddr),
			checker.Fragment(0, false), checker.ICMPv4(checker.ICMPType(header.ICMPv4EchoReply, 0), checker.ICMPEcho(9, uint16(n), data)))
	}
	if e.stat("ICMP.InEchos") != 3 || e.stat("ICMP.OutEchoReps") != 3 {
		t.Fatal(e.s.Stats())
	}
}

// reassembleFrames collects the fragments the stack sends and reassembles them.
func reassembleFrames(t *testing.T, e *env, n int) (header.IPv4, []byte) {
	t.Helper()
	var first header.IPv4
	var payload []byte
	for i := range n {
		b := e.read()
		h := header.IPv4(header.Ethernet(b).Payload())
		if h.Validate() != header.IPv4OK {
			t.Fatalf("fragment %d invalid", i)
		}
		if int(h.FragmentOffset()) != len(payload) || h.More() != (i < n-1) {
			t.Fatalf("fragment %d offset %d MF %v, have %d bytes", i, h.FragmentOffset(), h.More(), len(payload))
		}
		if i == 0 {
			first = append(header.IPv4(nil), h...)
		}
		payload = append(payload, h.Payload()...)
	}
	e.expectNone()
	return first, payload
}

func TestPingFragmentedBothWays(t *testing.T) {
	e := newEnv(t, stack.Options{})
	e.learn()
	for _, size := range []int{8000, 65507 - 8} { // ping -s 8000; the largest echo
		data := pattern(size)
		f := header.IPv4Fields{ID: uint16(size), Protocol: header.ICMPv4ProtocolNumber, Src: peerAddr, Dst: ourAddr}
		frags := fragment(f, echoRequest(3, 4, data), 1480)
		// Deliver out of order: last first.
		e.ep.Inject(fromPeer(frags[len(frags)-1]))
		for _, fr := range frags[:len(frags)-1] {
			e.ep.Inject(fromPeer(fr))
		}
		first, payload := reassembleFrames(t, e, len(frags))
		if first.Src() != ourAddr || first.Dst() != peerAddr {
			t.Fatal("reply addresses")
		}
		m := header.ICMPv4(payload)
		if !m.ChecksumValid() || m.Type() != header.ICMPv4EchoReply || !bytes.Equal(m.Payload(), data) {
			t.Fatalf("reassembled reply of %d bytes wrong", size)
		}
	}
	if e.stat("IP.ReasmOKs") != 2 || e.stat("IP.FragOKs") != 2 {
		t.Fatal(e.s.Stats())
	}
}

func TestReassemblyOverlapDropsDatagram(t *testing.T) {
	e := newEnv(t, stack.Options{})
	e.learn()
	data := echoRequest(1, 1, pattern(3000))
	f := header.IPv4Fields{ID: 77, Protocol: header.ICMPv4ProtocolNumber, Src: peerAddr, Dst: ourAddr}
	frags := fragment(f, data, 1480)
	// An overlapping piece at offset 8 with different contents.
	g := f
	g.FragmentOffset, g.Flags = 8, header.IPv4FlagMF
	evil := ipPacket(g, bytes.Repeat([]byte{0xee}, 16))
	e.ep.Inject(fromPeer(frags[0]))
	e.ep.Inject(fromPeer(evil))
	for _, fr := range frags[1:] {
		e.ep.Inject(fromPeer(fr))
	}
	e.expectNone()
	if e.stat("IP.ReasmOverlaps") != 1 {
		t.Fatal(e.s.Stats())
	}
	// Exact duplicates are harmless.
	for _, fr := range append(frags, frags[1]) {
		e.ep.Inject(fromPeer(fr))
	}
	reassembleFrames(t, e, 3)
}

func TestReassemblyTimeoutSendsTimeExceeded(t *testing.T) {
	e := newEnv(t, stack.Options{ReasmTimeout: 30 * time.Millisecond})
	e.learn()
	frags := fragment(header.IPv4Fields{ID: 5, Protocol: header.ICMPv4ProtocolNumber, Src: peerAddr, Dst: ourAddr}, echoRequest(1, 1, pattern(3000)), 1480)
	e.ep.Inject(fromPeer(frags[0]))
	checker.Frame(t, e.read(), peerMAC, header.EtherTypeIPv4, checker.DstAddr(peerAddr),
		checker.ICMPv4(checker.ICMPType(header.ICMPv4TimeExceeded, header.ICMPv4ReassemblyTimeout)))
	if e.stat("IP.ReasmTimeouts") != 1 {
		t.Fatal(e.s.Stats())
	}
	// A timed-out non-first fragment gets no error.
	e.ep.Inject(fromPeer(frags[1]))
	time.Sleep(80 * time.Millisecond)
	e.expectNone()
}

func TestReassemblyLimits(t *testing.T) {
	e := newEnv(t, stack.Options{ReasmMaxDatagrams: 4, ReasmMaxBytes: 64 << 10, ReasmMaxFragments: 8})
	e.learn()
	f := header.IPv4Fields{Protocol: header.ICMPv4ProtocolNumber, Src: peerAddr, Dst: ourAddr}
	for id := range 10 { // only 4 datagrams in progress at once
		g := f
		g.ID = uint16(100 + id)
		e.ep.Inject(fromPeer(fragment(g, pattern(3000), 1480)[0]))
	}
	if e.stat("IP.ReasmLimitDrops") != 6 {
		t.Fatalf("datagram limit: %v", e.s.Stats())
	}
	// Too many tiny fragments for one datagram.
	e = newEnv(t, stack.Options{ReasmMaxFragments: 8})
	g := f
	g.ID = 200
	for _, fr := range fragment(g, pattern(200), 8)[:12] {
		e.ep.Inject(fromPeer(fr))
	}
	if e.stat("IP.ReasmLimitDrops") != 1 {
		t.Fatalf("fragment limit: %v", e.s.Stats())
	}
	// A fragment reaching beyond 64 KiB is rejected by validation.
	g.ID, g.FragmentOffset = 201, 65528
	e.ep.Inject(fromPeer(ipPacket(g, pattern(16))))
	if e.stat("IP.InHdrErrors") == 0 {
		t.Fatal("oversized fragment accepted")
	}
	e.expectNone()
}

func TestUDPDeliverAndPortUnreachable(t *testing.T) {
	e := newEnv(t, stack.Options{})
	e.learn()
	ep, err := e.udp.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), 7), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	e.ep.Inject(fromPeer(ipPacket(header.IPv4Fields{Protocol: header.UDPProtocolNumber, Src: peerAddr, Dst: ourAddr},
		udpDatagram(peerAddr, ourAddr, 4000, 7, []byte("ping")))))
	buf := make([]byte, 100)
	ep.SetReadDeadline(time.Now().Add(time.Second))
	n, from, err := ep.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "ping" || from != netip.AddrPortFrom(peerAddr, 4000) {
		t.Fatalf("ReadFrom %q %v %v", buf[:n], from, err)
	}
	ep.WriteTo(buf[:n], from)
	checker.Frame(t, e.read(), peerMAC, header.EtherTypeIPv4, checker.UDP(checker.SrcPort(7), checker.DstPort(4000), checker.UDPPayload([]byte("ping"))))

	// A closed port: ICMP port unreachable quoting the datagram.
	dg := udpDatagram(peerAddr, ourAddr, 4000, 9, []byte("closed"))
	e.ep.Inject(fromPeer(ipPacket(header.IPv4Fields{Protocol: header.UDPProtocolNumber, Src: peerAddr, Dst: ourAddr}, dg)))
	b := e.read()
	checker.Frame(t, b, peerMAC, header.EtherTypeIPv4, checker.ICMPv4(checker.ICMPType(header.ICMPv4DstUnreachable, header.ICMPv4PortUnreachable)))
	quoted := header.ICMPv4(header.IPv4(header.Ethernet(b).Payload()).Payload()).Payload()
	if !bytes.Equal(quoted[header.IPv4MinSize:], dg) {
		t.Fatalf("quoted %x", quoted)
	}
	// ... but not for a broadcast.
	e.ep.Inject(ethFrame(header.BroadcastLinkAddr, peerMAC, header.EtherTypeIPv4, ipPacket(header.IPv4Fields{Protocol: header.UDPProtocolNumber, Src: peerAddr,
		Dst: netip.MustParseAddr("10.0.0.255")}, udpDatagram(peerAddr, netip.MustParseAddr("10.0.0.255"), 4000, 9, []byte("b")))))
	e.expectNone()
	if e.stat("UDP.NoPorts") != 2 || e.stat("ICMP.OutDestUnreachs") != 1 {
		t.Fatal(e.s.Stats())
	}
}

func TestUDPReadDeadlineAndClose(t *testing.T) {
	e := newEnv(t, stack.Options{})
	ep, _ := e.udp.Bind(netip.AddrPortFrom(ourAddr, 0), 0)
	ep.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	start := time.Now()
	if _, _, err := ep.ReadFrom(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("deadline late")
	}
	ep.SetReadDeadline(time.Time{})
	done := make(chan error)
	go func() { _, _, err := ep.ReadFrom(make([]byte, 10)); done <- err }()
	time.Sleep(10 * time.Millisecond)
	ep.Close()
	if err := <-done; err == nil {
		t.Fatal("read after close succeeded")
	}
	if _, err := e.udp.Bind(ep.LocalAddr(), 0); err != nil {
		t.Fatalf("port not freed: %v", err)
	}
}

func TestUDPFragmentsOnSendAndDF(t *testing.T) {
	e := newEnv(t, stack.Options{})
	e.learn()
	ep, _ := e.udp.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), 0), 0)
	defer ep.Close()
	data := pattern(4000)
	if _, err := ep.WriteTo(data, netip.AddrPortFrom(peerAddr, 9)); err != nil {
		t.Fatal(err)
	}
	first, payload := reassembleFrames(t, e, 3)
	u := header.UDP(payload)
	if !u.Valid() || !u.ChecksumValid(first.Src(), first.Dst()) || !bytes.Equal(u.Payload(), data) {
		t.Fatal("reassembled UDP")
	}
	r, _ := e.s.FindRoute(peerAddr, 0)
	r.Protocol, r.DontFrag = header.UDPProtocolNumber, true
	if err := e.s.WriteIPv4(r, bufferOf(pattern(2000))); !errors.Is(err, stack.ErrMessageTooBig) {
		t.Fatalf("DF: %v", err)
	}
}

func TestUDPBadChecksumDropped(t *testing.T) {
	e := newEnv(t, stack.Options{})
	ep, _ := e.udp.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), 7), 0)
	defer ep.Close()
	dg := udpDatagram(peerAddr, ourAddr, 1, 7, []byte("x"))
	dg[len(dg)-1] ^= 0xff
	e.ep.Inject(fromPeer(ipPacket(header.IPv4Fields{Protocol: header.UDPProtocolNumber, Src: peerAddr, Dst: ourAddr}, dg)))
	if e.stat("UDP.InCsumErrors") != 1 || e.stat("UDP.InDatagrams") != 0 {
		t.Fatal(e.s.Stats())
	}
	e.expectNone()
}

func TestARPEntryExpires(t *testing.T) {
	e := newEnv(t, stack.Options{ARPReachable: 30 * time.Millisecond})
	e.learn()
	ep, _ := e.udp.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), 0), 0)
	defer ep.Close()
	ep.WriteTo([]byte("1"), netip.AddrPortFrom(peerAddr, 9))
	checker.Frame(t, e.read(), peerMAC, header.EtherTypeIPv4)
	time.Sleep(50 * time.Millisecond)
	ep.WriteTo([]byte("2"), netip.AddrPortFrom(peerAddr, 9))
	e.expectARPRequest(peerAddr) // stale: resolved afresh, the packet waits
	e.ep.Inject(arpFrame(header.ARPReply, peerMAC, peerAddr, ourMAC, ourAddr, ourMAC))
	checker.Frame(t, e.read(), peerMAC, header.EtherTypeIPv4, checker.UDP(checker.UDPPayload([]byte("2"))))
}

func TestStatsSnapshotAndString(t *testing.T) {
	e := newEnv(t, stack.Options{})
	m := e.s.Stats().Snapshot()
	if _, ok := m["UDP.NoPorts"]; !ok || m["ARP.TxRequests"] != 1 || len(m) < 40 {
		t.Fatalf("snapshot %v", m)
	}
	if s := e.s.Stats().String(); !bytes.Contains([]byte(s), []byte("    TxRequests: 1\n")) {
		t.Fatalf("String:\n%s", s)
	}
}

func TestICMPErrorRateLimit(t *testing.T) {
	e := newEnv(t, stack.Options{ICMPErrorRate: 1, ICMPErrorBurst: 3})
	e.learn()
	for i := range 10 {
		e.ep.Inject(fromPeer(ipPacket(header.IPv4Fields{Protocol: header.UDPProtocolNumber, Src: peerAddr, Dst: ourAddr},
			udpDatagram(peerAddr, ourAddr, 4000, uint16(100+i), []byte("x")))))
	}
	if got := e.ep.Drain(); got != 3 || e.stat("ICMP.OutRateLimited") != 7 {
		t.Fatalf("%d errors sent, %d limited", got, e.stat("ICMP.OutRateLimited"))
	}
	// Echo replies are not limited.
	for i := range 5 {
		e.ep.Inject(fromPeer(ipPacket(header.IPv4Fields{Protocol: header.ICMPv4ProtocolNumber, Src: peerAddr, Dst: ourAddr}, echoRequest(1, uint16(i), nil))))
	}
	if got := e.ep.Drain(); got != 5 {
		t.Fatalf("%d echo replies", got)
	}
}

func TestUDPBindConflicts(t *testing.T) {
	e := newEnv(t, stack.Options{})
	any7 := netip.AddrPortFrom(netip.IPv4Unspecified(), 7)
	a, err := e.udp.Bind(any7, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.udp.Bind(any7, 0); err == nil {
		t.Fatal("wildcard NIC bind over a NIC-bound one")
	}
	if _, err := e.udp.Bind(netip.AddrPortFrom(ourAddr, 7), 1); err == nil {
		t.Fatal("address bind over a wildcard one")
	}
	if b, err := e.udp.Bind(any7, 2); err != nil {
		t.Fatalf("another NIC: %v", err)
	} else {
		b.Close()
	}
	a.Close()
	if b, err := e.udp.Bind(any7, 0); err != nil {
		t.Fatalf("after close: %v", err)
	} else {
		b.Close()
	}
}

// TestTwoNICs: each NIC answers on its own subnet and routes pick the NIC by prefix.
func TestTwoNICs(t *testing.T) {
	e := newEnv(t, stack.Options{})
	ep2 := channel.New(16, 1500, header.LinkAddr{2, 0, 0, 0, 1, 1})
	if err := e.s.AddNIC(2, "eth1", ep2); err != nil {
		t.Fatal(err)
	}
	if err := e.s.AddNIC(2, "dup", ep2); !errors.Is(err, stack.ErrDuplicateNIC) {
		t.Fatalf("duplicate NIC: %v", err)
	}
	e.s.AddAddress(2, netip.MustParsePrefix("10.9.0.1/24"))
	ep2.Read() // gratuitous ARP
	r, err := e.s.FindRoute(netip.MustParseAddr("10.9.0.7"), 0)
	if err != nil || r.NIC != 2 || r.Src != netip.MustParseAddr("10.9.0.1") {
		t.Fatalf("route %+v %v", r, err)
	}
	if r, _ := e.s.FindRoute(farAddr, 0); r.NIC != 1 {
		t.Fatalf("default route on NIC %d", r.NIC)
	}
	// An ARP request for NIC 2's address arriving on NIC 1 is not answered there.
	e.ep.Inject(arpFrame(header.ARPRequest, peerMAC, peerAddr, header.LinkAddr{}, netip.MustParseAddr("10.9.0.1"), header.BroadcastLinkAddr))
	e.expectNone()
	ep2.Inject(arpFrame(header.ARPRequest, peerMAC, netip.MustParseAddr("10.9.0.7"), header.LinkAddr{}, netip.MustParseAddr("10.9.0.1"), header.BroadcastLinkAddr))
	if b := ep2.Read(); b == nil || header.ARP(header.Ethernet(b).Payload()).SenderHW() != ep2.LinkAddr() {
		t.Fatalf("NIC 2 did not answer: %x", b)
	}
	if n := e.s.NICs(); len(n) != 2 || n[1].Name != "eth1" || len(n[1].Addrs) != 1 {
		t.Fatalf("NICs %+v", n)
	}
}

// Announce repeats the gratuitous ARP of each address (after a restore or migration).
func TestAnnounce(t *testing.T) {
	e := newEnv(t, stack.Options{})
	if err := e.s.Announce(1); err != nil {
		t.Fatal(err)
	}
	b := e.read()
	a := header.ARP(header.Ethernet(b).Payload())
	if a.SenderProto() != ourAddr || a.TargetProto() != ourAddr || !header.Ethernet(b).Dst().IsBroadcast() {
		t.Fatalf("not a gratuitous ARP for %v: %x", ourAddr, b)
	}
	e.expectNone()
	if err := e.s.Announce(9); err != stack.ErrUnknownNIC {
		t.Fatalf("Announce of an unknown NIC: %v", err)
	}
}

// Snapshot carries the counters and the memory budget's gauges.
func TestSnapshotBudget(t *testing.T) {
	e := newEnv(t, stack.Options{MemoryBudget: 1 << 20})
	m := e.s.Snapshot()
	if m["Budget.Limit"] != 1<<20 || m["Link.TxFrames"] == 0 {
		t.Fatalf("snapshot: %v", m)
	}
}
