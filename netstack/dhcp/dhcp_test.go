package dhcp

import (
	"context"
	"encoding/binary"
	"net/netip"
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
