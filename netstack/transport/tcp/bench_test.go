package tcp_test

import (
	"context"
	"net/netip"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"goxen/netstack/link"
	"goxen/netstack/link/channel"
	"goxen/netstack/transport/tcp"
)

// BenchmarkBulk moves 64 KiB per op from one stack to another over a wire that passes
// packets (no copy in the wire), through a device with GSO (and one that also takes the
// payload where it lies: the receiver copies it in), one without, and one without
// that hands frames over in batches, which the stack coalesces (stack/gro.go). allocs/pkt is
// the heap allocations of both stacks, the apps' Write and Read included, per TCP segment
// either side sent: the steady path's goal is 0.
//
//	go test -run - -bench Bulk -benchmem ./transport/tcp
func BenchmarkBulk(b *testing.B) {
	b.Run("gso", func(b *testing.B) { benchBulk(b, gsoDevice, 0) })
	b.Run("gso-frags", func(b *testing.B) { benchBulk(b, fragDevice(gsoDevice), 0) })
	b.Run("mtu", func(b *testing.B) { benchBulk(b, link.Offloads{}, 0) })
	b.Run("mtu-gro", func(b *testing.B) { benchBulk(b, link.Offloads{}, link.MaxBatch) })
}

// bulkPair connects two stacks whose devices have offloads o (and hand frames over in
// batches of up to batch) over a packet-passing wire and starts a reader that discards what
// arrives; it returns the writing end and a function that waits until n bytes more have
// been read.
func bulkPair(tb testing.TB, o link.Offloads, batch int) (*tcp.Endpoint, func(n int), *host, *host) {
	t := &testing.T{}
	with := func(l link.Endpoint) link.Endpoint {
		l.(*channel.Endpoint).SetOffloads(o)
		l.(*channel.Endpoint).SetBatch(batch)
		return l
	}
	a := newHost(t, 1, addrA, with, tcp.Options{})
	c := newHost(t, 2, addrB, with, tcp.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	channel.Wire(ctx, a.ch, c.ch)
	l, _ := c.tp.Listen(netip.AddrPortFrom(addrB, 9), 0, 0)
	ctxd, cancel2 := context.WithTimeout(ctx, 10*time.Second)
	defer cancel2()
	cl, err := a.tp.Connect(ctxd, netip.AddrPort{}, netip.AddrPortFrom(addrB, 9), 0)
	if err != nil {
		tb.Fatal(err)
	}
	sv, err := l.Accept()
	if err != nil {
		tb.Fatal(err)
	}
	var got atomic.Int64 // bytes read so far
	more := make(chan struct{}, 1)
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := sv.Read(buf)
			if err != nil {
				return
			}
			got.Add(int64(n))
			select {
			case more <- struct{}{}:
			default:
			}
		}
	}()
	tb.Cleanup(func() { cl.Close(); l.Close(); cancel(); a.s.Close(); c.s.Close() })
	var waited int64
	wait := func(n int) {
		waited += int64(n)
		for got.Load() < waited {
			<-more
		}
	}
	return cl, wait, a, c
}

func benchBulk(b *testing.B, o link.Offloads, batch int) {
	cl, wait, a, c := bulkPair(b, o, batch)
	const chunk = 64 << 10
	data := make([]byte, chunk)
	for i := 0; i < 64; i++ { // warm up: windows open, pools fill
		cl.Write(data)
	}
	wait(64 * chunk)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	s0 := a.tp.Stats().OutSegs + c.tp.Stats().OutSegs
	in0 := c.tp.Stats().InSegs
	b.SetBytes(chunk)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := cl.Write(data); err != nil {
			b.Fatal(err)
		}
	}
	wait(b.N * chunk)
	b.StopTimer()
	runtime.ReadMemStats(&m1)
	segs := a.tp.Stats().OutSegs + c.tp.Stats().OutSegs - s0
	if segs > 0 {
		b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(segs), "allocs/pkt")
		b.ReportMetric(float64(segs)/float64(b.N), "pkts/op")
		// The segments the receiver's TCP took: fewer than the sender's pieces when coalesced.
		b.ReportMetric(float64(c.tp.Stats().InSegs-in0)/float64(b.N), "rxsegs/op")
	}
}

// The steady bulk path allocates nothing per packet: 100 writes of 64 KiB, each read by the
// peer, with and without GSO (about 3 and 70 segments each, ACKs included), and without GSO
// but coalesced on receive, average less than one allocation per write. (A GC during the
// run empties the pools once: that is the margin.)
func TestBulkSteadyPathAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, c := range []struct {
		name  string
		o     link.Offloads
		batch int
	}{{"gso", gsoDevice, 0}, {"mtu", link.Offloads{}, 0}, {"mtu-gro", link.Offloads{}, link.MaxBatch}} {
		t.Run(c.name, func(t *testing.T) {
			cl, wait, _, _ := bulkPair(t, c.o, c.batch)
			data := make([]byte, 64<<10)
			for i := 0; i < 64; i++ {
				cl.Write(data)
			}
			wait(64 * len(data))
			allocs := testing.AllocsPerRun(100, func() {
				cl.Write(data)
				wait(len(data))
			})
			t.Logf("%.2f allocations per 64 KiB write", allocs)
			if allocs >= 1 {
				t.Fatalf("%.2f allocations per 64 KiB write", allocs)
			}
		})
	}
}
