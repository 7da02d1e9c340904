package tcp_test

import (
	"bytes"
	"io"
	"math/rand"
	"net/netip"
	"sync"
	"testing"
	"time"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
	"goxen/netstack/link"
	"goxen/netstack/link/fault"
	"goxen/netstack/transport/tcp"
)

// sackLog records the ACK number and SACK blocks of every TCP segment its link sends.
type sackLog struct {
	link.Endpoint
	mu   sync.Mutex
	acks []sackedAck
}

type sackedAck struct {
	ack    uint32
	blocks []header.TCPSACKBlock
}

func (l *sackLog) WritePacket(p *buffer.Packet) error {
	if t, ok := tcpSegment(p); ok {
		if o, ok := header.ParseTCPOptions(t.Options()); ok && len(o.SACK) > 0 {
			l.mu.Lock()
			l.acks = append(l.acks, sackedAck{t.Ack(), append([]header.TCPSACKBlock(nil), o.SACK...)})
			l.mu.Unlock()
		}
	}
	return l.Endpoint.WritePacket(p)
}

// TestDSACK: over a link that duplicates segments, the receiver reports each duplicate as a
// D-SACK (RFC 2883): the first SACK block of an ACK, below the cumulative ACK or inside the
// block after it. Without SACK it sends none.
func TestDSACK(t *testing.T) {
	for _, noSACK := range []bool{false, true} {
		log := &sackLog{}
		var fe *fault.Endpoint
		a, b := pair(t, func(l link.Endpoint) link.Endpoint {
			fe = fault.New(l, fault.Config{Duplicate: 0.2, Seed: 3})
			log.Endpoint = fe
			return log
		}, tcp.Options{NoSACK: noSACK})
		l, _ := b.tp.Listen(netip.AddrPortFrom(addrB, 9), 0, 0)
		c := dial(t, a, netip.AddrPortFrom(addrB, 9))
		s := accept(t, l)
		data := make([]byte, 256<<10)
		rand.New(rand.NewSource(4)).Read(data)
		go func() {
			c.Write(data)
			c.CloseWrite()
		}()
		s.SetReadDeadline(time.Now().Add(20 * time.Second))
		got, err := io.ReadAll(s)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("nosack %v: read %d bytes, %v", noSACK, len(got), err)
		}
		l.Close()
		st := b.tp.Stats()
		log.mu.Lock()
		acks := log.acks
		log.mu.Unlock()
		if fe.Stats().Duplicated == 0 {
			t.Fatal("no duplicates injected")
		}
		if noSACK {
			if st.DSACKsSent != 0 || len(acks) != 0 {
				t.Fatalf("without SACK: %d D-SACKs, %d ACKs with SACK blocks", st.DSACKsSent, len(acks))
			}
			continue
		}
		dsacks := 0
		for _, a := range acks {
			first := a.blocks[0]
			below := seqLE(first.End, a.ack)
			inside := len(a.blocks) > 1 && seqLE(a.blocks[1].Start, first.Start) && seqLE(first.End, a.blocks[1].End)
			if below || inside {
				dsacks++
			}
		}
		if st.DSACKsSent == 0 || dsacks == 0 || uint64(dsacks) > st.DSACKsSent {
			t.Fatalf("D-SACKs counted %d, seen on the wire %d (of %d ACKs with SACK blocks)", st.DSACKsSent, dsacks, len(acks))
		}
		t.Logf("%d duplicates injected, %d D-SACKs sent", fe.Stats().Duplicated, st.DSACKsSent)
	}
}

func seqLE(a, b uint32) bool { return int32(a-b) <= 0 }
