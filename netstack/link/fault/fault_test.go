package fault

import (
	"testing"
	"time"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
	"goxen/netstack/link/channel"
)

func send(ep *Endpoint, n int) {
	for i := range n {
		ep.WritePacket(buffer.FromBytes([]byte{byte(i)}))
	}
}

func TestDropDuplicateReorder(t *testing.T) {
	ch := channel.New(1000, 1500, header.LinkAddr{2})
	ep := New(ch, Config{Drop: 0.1, Seed: 1})
	send(ep, 500)
	if s := ep.Stats(); s.Dropped < 20 || s.Dropped > 80 || int(s.Passed)+int(s.Dropped) != 500 || ch.Len() != int(s.Passed) {
		t.Fatalf("drop stats %+v, queued %d", s, ch.Len())
	}
	ch.Drain()
	ep.SetConfig(Config{Duplicate: 1})
	send(ep, 3)
	if ch.Len() != 6 {
		t.Fatalf("duplicates: %d frames", ch.Len())
	}
	ch.Drain()
	ep.SetConfig(Config{Reorder: 1})
	send(ep, 2)
	a, b := ch.Read(), ch.Read()
	if a[0] != 1 || b[0] != 0 {
		t.Fatalf("order %v %v", a, b)
	}
}

func TestDelay(t *testing.T) {
	ch := channel.New(10, 1500, header.LinkAddr{2})
	ep := New(ch, Config{Delay: 30 * time.Millisecond, DelayRate: 1})
	start := time.Now()
	send(ep, 1)
	<-ch.C()
	if time.Since(start) < 25*time.Millisecond {
		t.Fatal("not delayed")
	}
}

func TestHeldFrameIsSentWhenNoNextFrameComes(t *testing.T) {
	ch := channel.New(10, 1500, header.LinkAddr{2})
	ep := New(ch, Config{Reorder: 1})
	send(ep, 1) // held back, and nothing follows it
	deadline := time.Now().Add(5 * time.Second)
	for ch.Len() == 0 && time.Now().Before(deadline) {
		time.Sleep(MaxHold)
	}
	if ch.Len() != 1 {
		t.Fatalf("the held frame never left: %d frames, stats %+v", ch.Len(), ep.Stats())
	}
	if s := ep.Stats(); s.Reordered != 1 || s.Passed != 1 {
		t.Fatalf("stats %+v", s)
	}
}
