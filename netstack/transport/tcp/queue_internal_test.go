package tcp

import "testing"

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
