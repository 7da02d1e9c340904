package dhcp

import (
	"context"
	"encoding/binary"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"goxen/netstack/header"
	"goxen/netstack/link/channel"
	"goxen/netstack/stack"
	"goxen/netstack/transport/udp"
)

func TestMessageRoundTrip(t *testing.T) {
	f := Fields{Op: 1, XID: 0xdeadbeef, Broadcast: true, CHAddr: header.LinkAddr{2, 0, 0, 0, 0, 1},
		Options: []Option{{OptMsgType, []byte{Discover}}, {OptHostname, []byte("guest")}}}
	m := make(Message, f.Size())
	m.Encode(&f)
	if len(m) != 300 || !m.Valid() || m.XID() != f.XID || m.Type() != Discover || m.CHAddr() != f.CHAddr ||
		string(m.Options()[OptHostname]) != "guest" || binary.BigEndian.Uint16(m[offFlags:]) != flagBroadcast {
		t.Fatalf("round trip %x", []byte(m))
	}
	bad := append(Message(nil), m...)
	bad[fixedSize+1] = 200 // option length beyond the message
	if bad.Valid() || m[:239].Valid() {
		t.Fatal("invalid message accepted")
	}
}

// fakeServer answers DISCOVER with OFFER and REQUEST with ACK on a second stack.
type fakeServer struct {
	mu       sync.Mutex
	requests []Message
}

func (fs *fakeServer) serve(t *testing.T, ep *udp.Endpoint, lease uint32) {
	buf := make([]byte, 1500)
	for {
		n, _, err := ep.ReadFrom(buf)
		if err != nil {
			return
		}
		m := append(Message(nil), buf[:n]...)
		if !m.Valid() {
			continue
		}
		var typ uint8
		switch m.Type() {
		case Discover:
			typ = Offer
		case Request:
			typ = Ack
			fs.mu.Lock()
			fs.requests = append(fs.requests, m)
			fs.mu.Unlock()
		default:
			continue
		}
		lt := make([]byte, 4)
		binary.BigEndian.PutUint32(lt, lease)
		t1 := make([]byte, 4)
		binary.BigEndian.PutUint32(t1, lease/2)
		r := Fields{Op: 2, XID: m.XID(), CHAddr: m.CHAddr(), YIAddr: netip.MustParseAddr("10.2.0.50"), Options: []Option{
			{OptMsgType, []byte{typ}}, addrOpt(OptServerID, netip.MustParseAddr("10.2.0.1")),
			{OptSubnetMask, []byte{255, 255, 255, 0}}, addrOpt(OptRouter, netip.MustParseAddr("10.2.0.1")),
			addrOpt(OptDNS, netip.MustParseAddr("10.2.0.1")), {OptLeaseTime, lt}, {OptT1, t1}}}
		out := make(Message, r.Size())
		out.Encode(&r)
		dst := netip.AddrFrom4([4]byte{255, 255, 255, 255})
		if ci := netip.AddrFrom4([4]byte(m[offCIAddr : offCIAddr+4])); !ci.IsUnspecified() {
			dst = ci
		}
		ep.WriteTo(out, netip.AddrPortFrom(dst, clientPort))
	}
}

func TestAcquireAndRenew(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs := stack.New(stack.Options{})
	ce := channel.New(64, 1500, header.LinkAddr{2, 0, 0, 0, 0, 0x50})
	cs.AddNIC(1, "eth0", ce)
	ss := stack.New(stack.Options{})
	se := channel.New(64, 1500, header.LinkAddr{2, 0, 0, 0, 0, 1})
	ss.AddNIC(1, "eth0", se)
	ss.AddAddress(1, netip.MustParsePrefix("10.2.0.1/24"))
	defer cs.Close()
	defer ss.Close()
	channel.Wire(ctx, ce, se)
	sep, err := udp.New(ss).Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), serverPort), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sep.Close()
	fs := &fakeServer{}
	go fs.serve(t, sep, 2)

	c, err := NewClient(udp.New(cs), Config{NIC: 1, Hostname: "guest", Retransmit: 200 * time.Millisecond, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	l, err := c.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if l.Addr != netip.MustParsePrefix("10.2.0.50/24") || l.Router != netip.MustParseAddr("10.2.0.1") || l.T1 != time.Second || l.Duration != 2*time.Second {
		t.Fatalf("lease %+v", l)
	}
	if got := cs.LocalAddrs(); len(got) != 1 || got[0] != l.Addr {
		t.Fatalf("stack addresses %v", got)
	}
	r, err := cs.FindRoute(netip.MustParseAddr("192.0.2.1"), 0)
	if err != nil || r.NextHop != l.Router {
		t.Fatalf("default route %+v %v", r, err)
	}
	// Run renews at T1 with a unicast REQUEST carrying ciaddr.
	rctx, rcancel := context.WithTimeout(ctx, 1800*time.Millisecond)
	c.Run(rctx)
	rcancel()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.requests) < 2 {
		t.Fatalf("%d requests, want a renewal", len(fs.requests))
	}
	last := fs.requests[len(fs.requests)-1]
	if ci := netip.AddrFrom4([4]byte(last[offCIAddr : offCIAddr+4])); ci != l.Addr.Addr() {
		t.Fatalf("renewal ciaddr %v", ci)
	}
}

// ack is a DHCPACK offering yiaddr with opts.
func ack(yiaddr string, opts ...Option) Message {
	f := Fields{Op: 2, XID: 1, YIAddr: netip.MustParseAddr(yiaddr), Options: append([]Option{{OptMsgType, []byte{Ack}}}, opts...)}
	m := make(Message, f.Size())
	m.Encode(&f)
	return m
}

// TestLeaseDistrustsTheServer: what a hostile or broken server puts in an ACK is bounded.
func TestLeaseDistrustsTheServer(t *testing.T) {
	u32 := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	for _, a := range []string{"0.0.0.0", "127.0.0.1", "224.0.0.1", "255.255.255.255", "240.0.0.1"} {
		if _, err := leaseFrom(ack(a)); err == nil {
			t.Errorf("address %s accepted", a)
		}
	}
	// T1 = 0 would renew in a loop; T2 before T1 and T1 past the lease are nonsense.
	for _, tc := range []struct {
		lease, t1, t2      uint32
		wantT1, wantT2, wd time.Duration
	}{
		{3600, 0, 0, 1800 * time.Second, 3150 * time.Second, 3600 * time.Second},
		{3600, 3000, 100, 3000 * time.Second, 3150 * time.Second, 3600 * time.Second},
		{3600, 9999, 9999, 1800 * time.Second, 3150 * time.Second, 3600 * time.Second},
		{1, 0, 0, time.Second, 1750 * time.Millisecond, 2 * time.Second}, // at least minLease
	} {
		l, err := leaseFrom(ack("10.0.0.5", Option{OptLeaseTime, u32(tc.lease)}, Option{OptT1, u32(tc.t1)}, Option{OptT2, u32(tc.t2)}))
		if err != nil || l.T1 != tc.wantT1 || l.T2 != tc.wantT2 || l.Duration != tc.wd {
			t.Errorf("lease %d T1 %d T2 %d: got T1 %v T2 %v lease %v (%v)", tc.lease, tc.t1, tc.t2, l.T1, l.T2, l.Duration, err)
		}
	}
	// A mask with holes is ignored (/24); a router outside the subnet or equal to the
	// address, or unusable DNS servers, are left out.
	l, err := leaseFrom(ack("10.0.0.5", Option{OptSubnetMask, []byte{255, 0, 255, 0}},
		addrOpt(OptRouter, netip.MustParseAddr("192.168.1.1")), Option{OptDNS, []byte{0, 0, 0, 0, 10, 0, 0, 53}}))
	if err != nil || l.Addr.Bits() != 24 || l.Router.IsValid() || len(l.DNS) != 1 {
		t.Fatalf("lease %+v, %v", l, err)
	}
	if l, _ := leaseFrom(ack("10.0.0.5", addrOpt(OptRouter, netip.MustParseAddr("10.0.0.5")))); l.Router.IsValid() {
		t.Fatal("the lease's own address taken as router")
	}
	if l, _ := leaseFrom(ack("10.0.0.5", Option{OptSubnetMask, []byte{255, 255, 0, 0}}, addrOpt(OptRouter, netip.MustParseAddr("10.0.200.1")))); l.Addr.Bits() != 16 || !l.Router.IsValid() {
		t.Fatalf("a good mask and router: %+v", l)
	}
}

// Option 15 becomes the search domain only when it is a DNS name: nothing a server sends can
// put resolv.conf syntax into the guest's configuration.
func TestLeaseDomain(t *testing.T) {
	for _, tc := range []struct{ opt, want string }{
		{"example.test", "example.test"}, {"lan.\x00", "lan."}, {"a-b.c1", "a-b.c1"},
		{"bad domain", ""}, {"x\nnameserver 6.6.6.6", ""}, {"-x.test", ""}, {"", ""},
		{strings.Repeat("a", 64) + ".test", ""},
	} {
		l, err := leaseFrom(ack("10.0.0.5", Option{OptDomainName, []byte(tc.opt)}))
		if err != nil || l.Domain != tc.want {
			t.Errorf("option 15 %q: domain %q (%v), want %q", tc.opt, l.Domain, err, tc.want)
		}
	}
}

// Option 119: names with compression pointers into the option; a pointer forwards or to
// itself (a loop), a label past the end, or an invalid name are left out.
func TestSearchList(t *testing.T) {
	wire := []byte("\x03eng\x07example\x04test\x00\x03lab\xc0\x04\x03bad\x01-\x00")
	if got := searchList(wire); strings.Join(got, ",") != "eng.example.test,lab.example.test" {
		t.Fatalf("search list %q", got)
	}
	for _, bad := range [][]byte{
		[]byte("\xc0\x00"), []byte("\x03abc\xc0\x00"), []byte("\x05ab"), []byte("\x03abc\xc0\x09"),
		[]byte("\x40abc\x00"), {},
	} {
		if got := searchList(bad); len(got) != 0 {
			t.Errorf("%q: %q", bad, got)
		}
	}
	var many []byte
	for i := 0; i < 10; i++ {
		many = append(many, "\x01x\x00"...)
	}
	if got := searchList(many); len(got) != maxSearch {
		t.Errorf("%d names kept", len(got))
	}
	l, err := leaseFrom(ack("10.0.0.5", Option{OptSearch, wire}))
	if err != nil || len(l.Search) != 2 {
		t.Fatalf("lease %+v %v", l, err)
	}
}
