package tcp

import (
	"bytes"
	"testing"

	"goxen/netstack/stack"
)

// The queues' array pools cover every power of two from minQueue to maxSetBuffer.
func TestQueuePoolClasses(t *testing.T) {
	if minQueue<<(len(blockPools)-1) != maxSetBuffer {
		t.Fatalf("pools up to %d, buffers up to %d", minQueue<<(len(blockPools)-1), maxSetBuffer)
	}
	for size := minQueue; size <= maxSetBuffer; size *= 2 {
		b, blk := newArray(10, size)
		if blk == nil || blk.pool == nil || len(b) != 10 || cap(b) != size {
			t.Fatalf("size %d: not pooled", size)
		}
		freeArray(blk)
	}
	if _, blk := newArray(0, 3*minQueue); blk.pool != nil {
		t.Fatal("a size between classes is pooled")
	}
	if poolSize(5000, 1<<20) != 8192 || poolSize(5000, 6000) != 5000 || poolSize(100, 1<<20) != 100 {
		t.Fatal("poolSize")
	}
}

// A bulk append into a queue that has emptied takes the size the queue last had at once,
// instead of doubling from minQueue again (each doubling moves every queued byte); a small one
// starts small, so a connection that once moved bulk data does not hold a big array for a
// short message.
func TestQueueRegrowsToLastSize(t *testing.T) {
	budget := stack.NewBudget(64 << 20)
	var q byteQueue
	chunk := make([]byte, 32<<10)
	for q.Len() < 512<<10 {
		q.Append(chunk, 1<<20, budget)
	}
	grown := q.Held()
	q.Consume(q.Len(), budget)
	if q.Held() != 0 || budget.Used() != 0 {
		t.Fatalf("empty queue holds %d, budget %d", q.Held(), budget.Used())
	}
	q.Append(make([]byte, 100), 1<<20, budget)
	if q.Held() != minQueue {
		t.Fatalf("small append after emptying: array of %d, want %d", q.Held(), minQueue)
	}
	q.Consume(q.Len(), budget)
	q.Append(chunk, 1<<20, budget)
	if q.Held() != grown {
		t.Fatalf("bulk append after emptying: array of %d, want the last size %d", q.Held(), grown)
	}
	if budget.Used() != int64(grown) {
		t.Fatalf("budget charged %d, array %d", budget.Used(), grown)
	}
}

// Bytes a packet sends in place (a reference to the send queue's block) stay where they are,
// unchanged, until it lets go: the queue moves into a fresh array rather than compacting over
// them, and an emptied queue's array goes back to its pool only with the last reference.
func TestQueueKeepsReferencedBytes(t *testing.T) {
	budget := stack.NewBudget(64 << 20)
	var q byteQueue
	const limit = 16 << 10
	fill := func(v byte, n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = v + byte(i)
		}
		return b
	}
	if q.Append(fill(1, limit), limit, budget) != limit {
		t.Fatal("short append")
	}
	blk := q.Block()
	sent := q.Slice(0, 8<<10)
	want := append([]byte(nil), sent...)
	blk.ref()
	q.Consume(8<<10, budget)
	if q.Append(fill(7, 8<<10), limit, budget) != 8<<10 { // full: needs the dead space
		t.Fatal("no room after consume")
	}
	if q.Block() == blk || !bytes.Equal(sent, want) {
		t.Fatal("compacted over bytes a packet still sends")
	}
	if !bytes.Equal(q.Bytes(), append(fill(1, limit)[8<<10:], fill(7, 8<<10)...)) {
		t.Fatal("queue contents wrong after the move")
	}
	if blk.refs.Load() != 1 {
		t.Fatalf("old block: %d references, want the packet's only", blk.refs.Load())
	}
	blk.Unref()

	// Unshared, the queue compacts in place as before.
	b2 := q.Block()
	q.Consume(8<<10, budget)
	q.Append(fill(3, 8<<10), limit, budget)
	if q.Block() != b2 {
		t.Fatal("moved an unshared array")
	}

	// Reset with a reference out: the block stays with the packet.
	b2.ref()
	q.Reset(budget)
	if b2.refs.Load() != 1 {
		t.Fatalf("after Reset: %d references", b2.refs.Load())
	}
	b2.Unref()
	if b2.refs.Load() != 0 {
		t.Fatal("not released")
	}
}
