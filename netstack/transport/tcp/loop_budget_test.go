package tcp_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"testing"
	"time"

	"goxen/netstack/link/loopback"
	"goxen/netstack/stack"
	"goxen/netstack/transport/tcp"
)

// TestBudgetSharedByBothEnds: over the loopback both ends of a connection charge one budget
// (send and receive buffers). Writers of 1 MiB to readers that start late, on 256 KiB: every
// byte arrives, within seconds (no drop-and-back-off spiral).
func TestBudgetSharedByBothEnds(t *testing.T) {
	const size = 1 << 20
	s := stack.New(stack.Options{MemoryBudget: 256 << 10})
	t.Cleanup(s.Close)
	s.AddNIC(1, "lo", loopback.New(0))
	lo := netip.MustParseAddr("127.0.0.1")
	s.AddAddress(1, netip.PrefixFrom(lo, 8))
	tp := tcp.New(s)
	l, _ := tp.Listen(netip.AddrPortFrom(lo, 7), 0, 0)
	defer l.Close()
	for _, n := range []int{1, 3} {
		var cs, ss []*tcp.Endpoint
		for range n {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			c, err := tp.Connect(ctx, netip.AddrPort{}, netip.AddrPortFrom(lo, 7), 0)
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			cs = append(cs, c)
			ss = append(ss, accept(t, l))
		}
		for i, c := range cs {
			go c.Write(pattern(i, size))
		}
		time.Sleep(500 * time.Millisecond)
		start := time.Now()
		errs := make(chan error, n)
		for i, sv := range ss {
			go func() {
				sv.SetReadDeadline(time.Now().Add(20 * time.Second))
				got := make([]byte, size)
				_, err := io.ReadFull(readerOf(sv), got)
				if err == nil && !bytes.Equal(got, pattern(i, size)) {
					err = fmt.Errorf("conn %d of %d: data differs", i, n)
				} else if err != nil {
					err = fmt.Errorf("conn %d of %d: %v\nserver %v\nclient %v\nbudget used %d", i, n, err, sv, cs[i], s.Budget().Used())
				}
				errs <- err
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("%d x 1 MiB read in %v; budget peak %d, %d segments dropped for memory", n, time.Since(start), s.Budget().Peak(), tp.Stats().MemoryDrops)
		for i := range cs {
			cs[i].Close()
			ss[i].Close()
		}
	}
}
