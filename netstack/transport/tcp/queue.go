package tcp

import "goxen/netstack/stack"

// byteQueue is a connection's receive or send buffer: bytes in one contiguous array that
// grows by doubling when they do not fit (up to the endpoint's limit) and is given back when
// it empties, so an idle connection holds no buffer at all. Every change of the array's
// capacity is charged to the stack's memory budget first: Held is what the queue charged.
//
// Consumed bytes leave dead space in front. Moving the live bytes down costs their length,
// so it is done only when the dead space is at least as long (each byte consumed pays for at
// most one byte moved); otherwise the array grows. Room says how much Append can take on
// those terms, which is what a writer may queue and a receiver may offer as its window.
type byteQueue struct {
	buf  []byte // buf[head:] holds the bytes
	head int
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

// Room is how many bytes Append can take without passing limit queued bytes or moving more
// than the dead space in front. Growing counts while the budget is not tight, and up to
// minQueue even when it is: every queue is promised that much (as Linux promises each socket
// tcp_rmem's minimum), so that one connection cannot starve while others hold the budget.
func (q *byteQueue) Room(limit int, budget *stack.Budget) int {
	room := cap(q.buf) - len(q.buf)
	if q.head >= q.Len() {
		room += q.head
	}
	switch {
	case cap(q.buf) < limit && !budget.Tight():
		room = limit
	case cap(q.buf) < minQueue:
		room = max(room, min(minQueue, limit)-q.Len())
	}
	return max(0, min(room, limit-q.Len()))
}

// Append queues as much of b as fits within limit queued bytes and the budget, and returns
// how much that was: a growing queue takes one doubling at a time.
func (q *byteQueue) Append(b []byte, limit int, budget *stack.Budget) int {
	n := min(len(b), limit-q.Len())
	if n <= 0 {
		return 0
	}
	if n > cap(q.buf)-len(q.buf) {
		need := q.Len() + n
		switch {
		case need <= cap(q.buf) && q.head >= q.Len():
			q.compact()
		case cap(q.buf) < limit && q.grow(limit, budget):
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
	l := copy(q.buf[:cap(q.buf)], q.buf[q.head:])
	q.buf, q.head = q.buf[:l], 0
}

// grow moves the bytes into an array twice as large (at least minQueue, at most limit),
// charging the difference. Growth past minQueue must leave the budget below tight
// (Budget.TryGrow); up to minQueue a queue may take from the reserve that keeps Room's
// promise to every queue.
func (q *byteQueue) grow(limit int, budget *stack.Budget) bool {
	size := min(max(2*cap(q.buf), minQueue), limit)
	if size > minQueue && !budget.TryGrow(size-cap(q.buf)) {
		size = min(minQueue, limit) // the promised minimum, from the reserve
	}
	if size <= cap(q.buf) {
		return false
	}
	if size == min(minQueue, limit) && !budget.TryCharge(size-cap(q.buf)) {
		return false
	}
	nb := make([]byte, q.Len(), size)
	copy(nb, q.buf[q.head:])
	q.buf, q.head = nb, 0
	return true
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
	q.buf, q.head = nil, 0
}
