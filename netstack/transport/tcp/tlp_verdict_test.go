package tcp_test

import (
	"io"
	"net/netip"
	"sync"
	"testing"
	"time"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
	"goxen/netstack/link"
	"goxen/netstack/transport/tcp"
)

// segFilter drops, once, the first TCP segment its link sends that pick chooses.
type segFilter struct {
	link.Endpoint
	mu      sync.Mutex
	pick    func(t header.TCP) bool
	dropped bool
}

func (f *segFilter) WritePacket(p *buffer.Packet) error {
	if t, ok := tcpSegment(p); ok {
		f.mu.Lock()
		drop := !f.dropped && f.pick(t)
		f.dropped = f.dropped || drop
		f.mu.Unlock()
		if drop {
			p.Release()
			return nil
		}
	}
	return f.Endpoint.WritePacket(p)
}

// sendRounds has from write each piece in turn to to, waiting until to has read it.
func sendRounds(t *testing.T, from, to *tcp.Endpoint, pieces ...[]byte) {
	t.Helper()
	for _, p := range pieces {
		if _, err := from.Write(p); err != nil {
			t.Fatal(err)
		}
		to.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadFull(to, make([]byte, len(p))); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTLPVerdict (RFC 8985 7.4): a probe that sent the last segment again and was needed (the
// segment was lost) cuts the window once the ACKs pass it; one that was not (the segment
// arrived, its ACK was lost) draws a D-SACK and cuts nothing.
func TestTLPVerdict(t *testing.T) {
	piece := make([]byte, 1000)
	t.Run("repaired", func(t *testing.T) {
		// B sends; its first data segment is lost.
		f := &segFilter{pick: func(h header.TCP) bool { return len(h.Payload()) > 0 }}
		a, b := pair(t, func(l link.Endpoint) link.Endpoint { f.Endpoint = l; return f }, tcp.Options{})
		l, _ := b.tp.Listen(netip.AddrPortFrom(addrB, 9), 0, 0)
		defer l.Close()
		c := dial(t, a, netip.AddrPortFrom(addrB, 9))
		s := accept(t, l)
		before := s.Info().Ssthresh
		sendRounds(t, s, c, piece, piece)
		deadline := time.Now().Add(5 * time.Second) // the second piece's ACK may be delayed
		for b.tp.Stats().TLPRepairs == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if st := b.tp.Stats(); st.TLPProbes == 0 || st.TLPRepairs != 1 || st.RTOs != 0 {
			t.Fatalf("stats %+v", st)
		}
		if after := s.Info().Ssthresh; after >= before {
			t.Fatalf("ssthresh %d, was %d: the repair did not cut the window", after, before)
		}
	})
	t.Run("spurious", func(t *testing.T) {
		// A sends; B's ACK of the first piece is lost.
		f := &segFilter{pick: func(h header.TCP) bool { return len(h.Payload()) == 0 && h.Flags() == header.TCPFlagACK }}
		a, b := pair(t, func(l link.Endpoint) link.Endpoint { f.Endpoint = l; return f }, tcp.Options{})
		l, _ := b.tp.Listen(netip.AddrPortFrom(addrB, 9), 0, 0)
		defer l.Close()
		c := dial(t, a, netip.AddrPortFrom(addrB, 9))
		s := accept(t, l)
		before := c.Info().Ssthresh
		sendRounds(t, c, s, piece)
		// The probe's D-SACK has to be back before the next piece goes.
		deadline := time.Now().Add(5 * time.Second)
		for a.tp.Stats().TLPProbes == 0 || b.tp.Stats().DSACKsSent == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("no probe or no D-SACK: A %+v, B %+v", a.tp.Stats(), b.tp.Stats())
			}
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
		sendRounds(t, c, s, piece)
		time.Sleep(100 * time.Millisecond) // its ACK, even delayed, is back
		if st := a.tp.Stats(); st.TLPRepairs != 0 || st.RTOs != 0 {
			t.Fatalf("stats %+v", st)
		}
		if after := c.Info().Ssthresh; after != before {
			t.Fatalf("ssthresh %d, was %d: a needless probe cut the window", after, before)
		}
	})
}
