package tcp_test

import (
	"context"
	"testing"
	"time"

	"goxen/netstack/link"
	"goxen/netstack/link/channel"
	"goxen/netstack/transport/tcp"
)

// Over devices without GSO that hand frames over in batches (netfront draining its ring, a
// TAP read loop), each stack coalesces the segments of a batch (stack/gro.go): data arrives
// intact both ways, TCP takes fewer segments than frames arrived, none with a bad checksum.
func TestGROBulk(t *testing.T) {
	batched := func(l link.Endpoint) link.Endpoint { l.(*channel.Endpoint).SetBatch(link.MaxBatch); return l }
	a := newHost(t, 1, addrA, batched, tcp.Options{})
	b := newHost(t, 2, addrB, batched, tcp.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	channel.Wire(ctx, a.ch, b.ch)

	start := time.Now()
	exchange(t, a, b, 4<<20, 5)
	for i, h := range []*host{a, b} {
		st, m := h.tp.Stats(), h.s.Snapshot()
		t.Logf("side %d in %v: %d frames, %d merged into %d, TCP took %d segments", i, time.Since(start),
			m["Link.RxFrames"], m["Link.GROMerged"], m["Link.GROFlushed"], st.InSegs)
		if st.InCsumErrors != 0 {
			t.Errorf("side %d: %d checksum errors", i, st.InCsumErrors)
		}
		// Every frame but the ARP exchange is a TCP segment that TCP took or that joined one.
		if m["Link.GROMerged"] == 0 || st.InSegs+m["Link.GROMerged"] > m["Link.RxFrames"] {
			t.Errorf("side %d: %d frames, %d merged, %d segments", i, m["Link.RxFrames"], m["Link.GROMerged"], st.InSegs)
		}
	}
}
