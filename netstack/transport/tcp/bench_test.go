package tcp_test

import (
	"context"
	"io"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"goxen/netstack/link"
	"goxen/netstack/link/channel"
	"goxen/netstack/transport/tcp"
)

// BenchmarkBulk moves 64 KiB per op from one stack to another over a wire that passes
// packets (no copy in the wire), through a device with GSO and one without. allocs/pkt is
// the heap allocations of both stacks, the apps' Write and Read included, per TCP segment
// either side sent: the steady path's goal is 0.
//
//	go test -run - -bench Bulk -benchmem ./transport/tcp
func BenchmarkBulk(b *testing.B) {
	b.Run("gso", func(b *testing.B) { benchBulk(b, gsoDevice) })
	b.Run("mtu", func(b *testing.B) { benchBulk(b, link.Offloads{}) })
}

func benchBulk(b *testing.B, o link.Offloads) {
	t := &testing.T{}
	with := func(l link.Endpoint) link.Endpoint { l.(*channel.Endpoint).SetOffloads(o); return l }
	a := newHost(t, 1, addrA, with, tcp.Options{})
	c := newHost(t, 2, addrB, with, tcp.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	channel.Wire(ctx, a.ch, c.ch)
	l, _ := c.tp.Listen(netip.AddrPortFrom(addrB, 9), 0, 0)
	defer l.Close()
	ctxd, cancel2 := context.WithTimeout(ctx, 10*time.Second)
	defer cancel2()
	cl, err := a.tp.Connect(ctxd, netip.AddrPort{}, netip.AddrPortFrom(addrB, 9), 0)
	if err != nil {
		b.Fatal(err)
	}
	sv, err := l.Accept()
	if err != nil {
		b.Fatal(err)
	}
	const chunk = 64 << 10
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, chunk)
		_, err := io.ReadFull(sv, make([]byte, 0)) // nothing: the first read below
		for err == nil {
			_, err = sv.Read(buf)
		}
		done <- err
	}()
	data := make([]byte, chunk)
	// Warm up: windows open, pools fill.
	for i := 0; i < 64; i++ {
		cl.Write(data)
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	s0 := a.tp.Stats().OutSegs + c.tp.Stats().OutSegs
	b.SetBytes(chunk)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := cl.Write(data); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&m1)
	segs := a.tp.Stats().OutSegs + c.tp.Stats().OutSegs - s0
	if segs > 0 {
		b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(segs), "allocs/pkt")
		b.ReportMetric(float64(segs)/float64(b.N), "pkts/op")
	}
	cl.Close()
	<-done
	cancel()
}
