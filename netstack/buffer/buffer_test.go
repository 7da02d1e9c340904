package buffer

import (
	"bytes"
	"testing"
)

func TestPushConsume(t *testing.T) {
	p := New(Headroom, 4)
	p.Append([]byte("data"))
	copy(p.Push(2), "h2")
	copy(p.Push(2), "h1")
	if got := string(p.Bytes()); got != "h1h2data" {
		t.Fatalf("contents %q", got)
	}
	if h, ok := p.Consume(2); !ok || string(h) != "h1" {
		t.Fatalf("consume %q %v", h, ok)
	}
	if _, ok := p.Consume(100); ok {
		t.Fatal("consume past end succeeded")
	}
	p.Trim(4)
	if got := string(p.Bytes()); got != "h2da" {
		t.Fatalf("after trim %q", got)
	}
	p.Release()
}

func TestLargeAndExtend(t *testing.T) {
	big := bytes.Repeat([]byte{7}, 70000)
	p := FromBytes(big)
	if p.Len() != len(big) || !bytes.Equal(p.Bytes(), big) {
		t.Fatal("large packet mismatch")
	}
	q := New(0, 0)
	q.Append(big[:3000])
	if q.Len() != 3000 {
		t.Fatal("extend beyond pool size")
	}
	p.Release()
	q.Release()
}

func TestPushPanicsWithoutHeadroom(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	New(1, 0).Push(2)
}

// Grow hands out the room New promised without zeroing it, and refuses beyond it; Append
// uses it and falls back to growing the backing array.
func TestGrowAndAppend(t *testing.T) {
	p := New(Headroom, 100)
	if b, ok := p.Grow(100); !ok || len(b) != 100 || p.Len() != 100 {
		t.Fatal("grow within the room New promised")
	}
	if _, ok := p.Grow(len(p.buf)); ok {
		t.Fatal("grow beyond the backing array")
	}
	p.Release()
	q := New(Headroom, 10)
	big := make([]byte, 3000)
	big[2999] = 7
	q.Append(big)
	if q.Len() != 3000 || q.Bytes()[2999] != 7 {
		t.Fatal("append beyond the pooled size")
	}
	q.Release()
	r := New(Headroom, 70000-Headroom)
	if r.pool != nil || cap(r.buf) != 70000 {
		t.Fatal("packets beyond the big pool are not pooled")
	}
	bigPool := &pools[len(pools)-1]
	s := New(Headroom, 60000)
	if s.pool != bigPool {
		t.Fatal("a 64 KiB segment comes from the big pool")
	}
	if New(0, BigMin+Headroom-1).pool == bigPool || New(Headroom, BigMin).pool != bigPool {
		t.Fatal("BigMin is not where the big pool starts")
	}
	if New(0, SmallMax+Headroom).Size() > poolSize+packetHeader {
		t.Fatal("SmallMax is not where the small pool ends")
	}
	// Every size up to the big pool's comes from a pool whose arrays are about twice it at most.
	for n := 1; n <= bigPoolSize; n += 97 {
		m := New(0, n)
		if m.pool == nil || cap(m.buf) < n || n > poolSize && cap(m.buf) > 2*n+Headroom {
			t.Fatalf("a packet of %d bytes: pooled %v, array of %d", n, m.pool != nil, cap(m.buf))
		}
		m.Release()
	}
}

// countRef counts Unref calls.
type countRef struct{ n int }

func (r *countRef) Unref() { r.n++ }

// A fragment is part of the contents without being copied: Parts shows it where it lies, Len
// counts it, Clone copies it and leaves it; Bytes copies it in behind the headers (into a
// larger array when the packet's own is too small) and lets go of the reference, once.
func TestFrag(t *testing.T) {
	for _, size := range []int{100, 60000} {
		frag := bytes.Repeat([]byte{9}, size)
		r := &countRef{}
		p := New(Headroom, 4)
		p.Append([]byte("tcp:"))
		p.SetFrag(frag, r)
		copy(p.Push(3), "ip:")
		head, f := p.Parts()
		if string(head) != "ip:tcp:" || &f[0] != &frag[0] || p.Len() != 7+size {
			t.Fatalf("size %d: parts %q, %d bytes of fragment, Len %d", size, head, len(f), p.Len())
		}
		c := p.Clone()
		if _, f := p.Parts(); f == nil || r.n != 0 || !bytes.Equal(c.Bytes(), append([]byte("ip:tcp:"), frag...)) {
			t.Fatalf("size %d: Clone changed the packet or copied wrong", size)
		}
		c.Release()
		want := append([]byte("ip:tcp:"), frag...)
		frag[0] = 1 // the packet reads the fragment where it lies until it copies it in
		want[7] = 1
		if got := p.Bytes(); !bytes.Equal(got, want) || r.n != 1 || p.Len() != 7+size {
			t.Fatalf("size %d: Bytes %d bytes, %d Unrefs", size, len(got), r.n)
		}
		if _, f := p.Parts(); f != nil {
			t.Fatal("fragment kept after Bytes")
		}
		frag[1] = 1
		if p.Bytes()[8] != 9 {
			t.Fatal("the copied-in bytes follow the fragment")
		}
		p.Release()
		if r.n != 1 {
			t.Fatalf("%d Unrefs", r.n)
		}
	}
	// Release of a packet that never copied its fragment in lets go of it.
	r := &countRef{}
	p := New(Headroom, 0)
	p.SetFrag([]byte("x"), r)
	p.Release()
	if r.n != 1 {
		t.Fatalf("Release: %d Unrefs", r.n)
	}
}
