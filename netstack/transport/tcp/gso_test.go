package tcp_test

import (
	"context"
	"sync/atomic"
	"testing"

	"goxen/netstack/buffer"
	"goxen/netstack/link"
	"goxen/netstack/link/channel"
	"goxen/netstack/transport/tcp"
)

var gsoDevice = link.Offloads{TxCsum: true, GSOMaxSize: 65535, GSOv4: true, GSOv6: true}

// With a device that segments (a TAP with a vnet header, netfront with feature-gso-tcpv4),
// TCP hands it segments of many MSS with partial checksums; the peer gets them whole, as
// from a veth or a Xen netback that passes GSO packets on. Data arrives intact both ways,
// with a device on each side or on one only.
func TestGSOBulk(t *testing.T) {
	for _, c := range []struct {
		name   string
		oa, ob link.Offloads
	}{
		{"both", gsoDevice, gsoDevice},
		{"a-only", gsoDevice, link.Offloads{}},
		{"csum-only", link.Offloads{TxCsum: true}, link.Offloads{TxCsum: true}},
		// Devices that read a packet's payload where it lies: TCP sends from the send
		// queue without copying (buffer.Packet.SetFrag).
		{"frags", fragDevice(gsoDevice), fragDevice(gsoDevice)},
		{"frags-csum-only", fragDevice(link.Offloads{TxCsum: true}), link.Offloads{TxCsum: true}},
	} {
		t.Run(c.name, func(t *testing.T) { gsoBulk(t, c.oa, c.ob) })
	}
}

func fragDevice(o link.Offloads) link.Offloads { o.Frags = true; return o }

func gsoBulk(t *testing.T, oa, ob link.Offloads) {
	with := func(o link.Offloads) func(link.Endpoint) link.Endpoint {
		return func(l link.Endpoint) link.Endpoint { l.(*channel.Endpoint).SetOffloads(o); return l }
	}
	a := newHost(t, 1, addrA, with(oa), tcp.Options{})
	b := newHost(t, 2, addrB, with(ob), tcp.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var gsoFrames, partial, frags [2]atomic.Int64
	var biggest [2]atomic.Int64
	pump := func(i int, from, to *channel.Endpoint) {
		for {
			select {
			case p := <-from.C():
				if p.Offload.GSOType != buffer.GSONone {
					gsoFrames[i].Add(1)
				}
				if p.Offload.CsumPartial {
					partial[i].Add(1)
				}
				if _, f := p.Parts(); f != nil {
					frags[i].Add(1)
				}
				if n := int64(p.Len()); n > biggest[i].Load() {
					biggest[i].Store(n)
				}
				to.InjectPacket(p)
			case <-ctx.Done():
				return
			}
		}
	}
	go pump(0, a.ch, b.ch)
	go pump(1, b.ch, a.ch)

	exchange(t, a, b, 4<<20, 3)
	for i, o := range []link.Offloads{oa, ob} {
		st := []*host{a, b}[i].tp.Stats()
		t.Logf("side %d: %d GSO frames, %d partial, %d with fragments, biggest frame %d; %+v", i, gsoFrames[i].Load(), partial[i].Load(), frags[i].Load(), biggest[i].Load(), st)
		if st.InCsumErrors != 0 {
			t.Errorf("side %d: %d checksum errors", i, st.InCsumErrors)
		}
		switch {
		case o.GSOMaxSize > 0 && (gsoFrames[i].Load() == 0 || biggest[i].Load() <= 1514 || biggest[i].Load() > 14+65535):
			t.Errorf("side %d: GSO device got %d GSO frames, biggest %d", i, gsoFrames[i].Load(), biggest[i].Load())
		case o.GSOMaxSize == 0 && (gsoFrames[i].Load() != 0 || biggest[i].Load() > 1514):
			t.Errorf("side %d: device without GSO got %d GSO frames, biggest %d", i, gsoFrames[i].Load(), biggest[i].Load())
		case o.TxCsum != (partial[i].Load() > 0):
			t.Errorf("side %d: %d partial checksums for TxCsum %v", i, partial[i].Load(), o.TxCsum)
		case o.Frags != (frags[i].Load() > 0):
			t.Errorf("side %d: %d frames with fragments for Frags %v", i, frags[i].Load(), o.Frags)
		}
	}
}
