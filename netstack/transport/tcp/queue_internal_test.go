package tcp

import (
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
		if blk == nil || len(b) != 10 || cap(b) != size {
			t.Fatalf("size %d: not pooled", size)
		}
		freeArray(blk)
	}
	if _, blk := newArray(0, 3*minQueue); blk != nil {
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
