package tcp

import (
	"math/bits"
	"sync"
	"sync/atomic"

	"goxen/netstack/stack"
)

// byteQueue is a connection's receive or send buffer: bytes in one contiguous array that
// grows by doubling when they do not fit (up to the endpoint's limit) and is given back when
// it empties, so an idle connection holds no buffer at all. Every change of the array's
// capacity is charged to the stack's memory budget first: Held is what the queue charged.
//
// Consumed bytes leave dead space in front. Moving the live bytes down costs their length,
// so it is done only when the dead space is at least as long (each byte consumed pays for at
// most one byte moved); otherwise the array grows. Room says how much Append can take on
// those terms, which is what a writer may queue and a receiver may offer as its window.
//
// Arrays whose size is a power of two from minQueue up come from pools (one per size) and go
// back to them, so a busy connection that drains its queue and fills it again allocates
// nothing; the budget is charged the same either way.
type byteQueue struct {
	buf  []byte // buf[head:] holds the bytes
	head int
	blk  *block // the array behind buf, or nil
	last int    // the capacity the queue had when it last emptied, if above minQueue
}

// block is a queue's array. Packets that send straight from a send queue (buffer.Packet
// SetFrag) hold references to it beside the queue's own, so that it is neither rewritten in
// place (compact) nor handed to another queue (its pool) while a device may still read it:
// the last Unref gives it back.
type block struct {
	b    []byte
	refs atomic.Int32
	pool *sync.Pool // nil: not a pooled size
}

// ref takes a reference for a packet (buffer.Ref); Unref lets go of one.
func (blk *block) ref() *block { blk.refs.Add(1); return blk }

func (blk *block) Unref() {
	if blk.refs.Add(-1) == 0 && blk.pool != nil {
		blk.pool.Put(blk)
	}
}

// shared reports whether packets still read the array.
func (blk *block) shared() bool { return blk.refs.Load() > 1 }

// blockPools[i] holds arrays of minQueue<<i bytes, up to maxSetBuffer (4 KiB << 12).
var blockPools [13]sync.Pool

func blockPool(size int) *sync.Pool {
	if size < minQueue || size&(size-1) != 0 {
		return nil
	}
	i := bits.Len(uint(size/minQueue)) - 1
	if i >= len(blockPools) {
		return nil
	}
	return &blockPools[i]
}

// newArray returns an array of length n and capacity size, pooled when size is a class's,
// and the block the queue holds it by.
func newArray(n, size int) ([]byte, *block) {
	p := blockPool(size)
	var blk *block
	if p != nil {
		blk, _ = p.Get().(*block)
	}
	if blk == nil {
		blk = &block{b: make([]byte, size), pool: p}
	}
	blk.refs.Store(1)
	return blk.b[:n], blk
}

// freeArray lets go of the queue's reference to its array.
func freeArray(blk *block) {
	if blk != nil {
		blk.Unref()
	}
}

// poolSize rounds a growth step up to a pooled size when that stays within limit.
func poolSize(size, limit int) int {
	if size <= minQueue {
		return size
	}
	r := 1 << bits.Len(uint(size-1))
	if r <= limit {
		return r
	}
	return size
}

// minQueue is the smallest array a queue takes.
const minQueue = 4 << 10

// Len is the number of bytes queued.
func (q *byteQueue) Len() int { return len(q.buf) - q.head }

// Held is the memory the queue holds (and has charged).
func (q *byteQueue) Held() int { return cap(q.buf) }

// Bytes returns the queued bytes (valid until the next Append or Consume).
func (q *byteQueue) Bytes() []byte { return q.buf[q.head:] }

// Slice returns n queued bytes from off.
func (q *byteQueue) Slice(off, n int) []byte { return q.buf[q.head+off : q.head+off+n] }

// Block is the array the queued bytes lie in, for a packet to reference while it sends them
// (block.ref): they stay where they are, unchanged, until it lets go.
func (q *byteQueue) Block() *block { return q.blk }

// Room is how many bytes Append can take without passing limit queued bytes or moving more
// than the dead space in front. Growing counts as far as the budget has headroom before it is
// tight, and up to minQueue even when it is: every queue is promised that much (as Linux
// promises each socket tcp_rmem's minimum), so one connection cannot starve while others hold
// the budget. A receive window offered from Room is thus one the budget can back.
func (q *byteQueue) Room(limit int, budget *stack.Budget) int {
	room := cap(q.buf) - len(q.buf)
	if q.head >= q.Len() {
		room += q.head
	}
	if cap(q.buf) < limit {
		// Growing: as far as the budget can give before it is tight, and minQueue anyway.
		grown := min(int64(limit), int64(cap(q.buf))+budget.Headroom())
		room = max(room, int(grown)-q.Len(), min(minQueue, limit)-q.Len())
	}
	return max(0, min(room, limit-q.Len()))
}

// Append queues as much of b as fits within limit queued bytes and the budget, and returns
// how much that was.
//
// AppendPromised is Append for bytes the queue promised to take (a receive window already
// offered): growing for them may use the whole budget, not only what lies below tight.
func (q *byteQueue) AppendPromised(b []byte, limit int, budget *stack.Budget) int {
	return q.appendBytes(b, limit, budget, true)
}

func (q *byteQueue) Append(b []byte, limit int, budget *stack.Budget) int {
	return q.appendBytes(b, limit, budget, false)
}

func (q *byteQueue) appendBytes(b []byte, limit int, budget *stack.Budget, promised bool) int {
	n := min(len(b), limit-q.Len())
	if n <= 0 {
		return 0
	}
	if n > cap(q.buf)-len(q.buf) {
		need := q.Len() + n
		switch {
		case need <= cap(q.buf) && q.head >= q.Len():
			q.compact()
		case cap(q.buf) < limit && q.grow(need, limit, budget, promised):
		case q.head > 0:
			q.compact() // at the limit, or no budget to grow: move rather than drop
		}
		n = min(n, cap(q.buf)-len(q.buf))
		if n <= 0 {
			return 0
		}
	}
	q.buf = append(q.buf, b[:n]...)
	return n
}

func (q *byteQueue) compact() {
	if q.blk != nil && q.blk.shared() {
		// Packets may still be sending from the dead space: move into a fresh array.
		q.moveTo(cap(q.buf))
		return
	}
	l := copy(q.buf[:cap(q.buf)], q.buf[q.head:])
	q.buf, q.head = q.buf[:l], 0
}

// grow moves the bytes into a larger array, charging the difference: one of need bytes
// (what the caller wants to queue: a whole segment) or, failing that, twice the current size
// (a writer's next step), at least minQueue and at most limit. Growth past minQueue must leave
// the budget below tight (Budget.TryGrow) unless it is for promised bytes; up to minQueue a
// queue may take from the reserve that keeps Room's promise to every queue.
func (q *byteQueue) grow(need, limit int, budget *stack.Budget, promised bool) bool {
	step := poolSize(min(max(2*cap(q.buf), minQueue), limit), limit)
	if cap(q.buf) == 0 && need >= minQueue {
		// A bulk write into an empty queue: take the size the queue had when it last
		// emptied at once. A sender that outruns its peer empties its queue on every
		// ACK, and doubling from minQueue each time moved every byte several times.
		step = max(step, min(q.last, limit))
	}
	need = poolSize(need, limit)
	if size := min(max(step, need), limit); promised && size > cap(q.buf) && budget.TryCharge(size-cap(q.buf)) {
		q.moveTo(size)
		return true
	}
	for _, size := range [2]int{min(max(step, need), limit), step} {
		if size > cap(q.buf) && size > minQueue && budget.TryGrow(size-cap(q.buf)) {
			q.moveTo(size)
			return true
		}
	}
	if size := min(minQueue, limit); size > cap(q.buf) && budget.TryCharge(size-cap(q.buf)) {
		q.moveTo(size)
		return true
	}
	return false
}

func (q *byteQueue) moveTo(size int) {
	nb, blk := newArray(q.Len(), size)
	copy(nb, q.buf[q.head:])
	freeArray(q.blk)
	q.buf, q.head, q.blk = nb, 0, blk
}

// Consume drops n bytes from the front; the array goes back when the queue empties.
func (q *byteQueue) Consume(n int, budget *stack.Budget) {
	q.head += n
	if q.head >= len(q.buf) {
		q.Reset(budget)
	}
}

// Reset empties the queue and gives its array back.
func (q *byteQueue) Reset(budget *stack.Budget) {
	budget.Release(cap(q.buf))
	freeArray(q.blk)
	if cap(q.buf) > minQueue { // a short message between bulk writes does not reset it
		q.last = cap(q.buf)
	}
	q.buf, q.head, q.blk = nil, 0, nil
}
