package stack

import (
	"sync"
	"sync/atomic"
)

// Budget bounds the memory a stack holds for data in flight: TCP receive and send buffers and
// out-of-order queues, UDP receive queues and IP reassembly. Each holder charges what it
// actually holds (a buffer's capacity, a pooled packet's size, not the payload in it) before
// it takes the memory and releases it when the memory goes, so Used is the stack's real
// footprint for data. A charge past the limit fails: the holder drops the data and counts it
// (the peer retransmits TCP; a UDP datagram is lost) or refuses a new connection, and nothing
// crashes for want of memory however many peers send.
//
// The methods are safe for concurrent use.
type Budget struct {
	limit   int64 // bytes; 0: no limit
	used    atomic.Int64
	peak    atomic.Int64
	refused atomic.Uint64

	mu      sync.Mutex
	freed   chan struct{} // closed by the first Release after a refusal
	waiting atomic.Bool   // a refusal since freed was last closed
}

// NewBudget returns a budget of limit bytes (0: no limit).
func NewBudget(limit int64) *Budget { return &Budget{limit: limit} }

// TryCharge takes n bytes from the budget, or reports false (and counts a refusal) when
// that would exceed the limit.
func (b *Budget) TryCharge(n int) bool { return b.charge(n, b.limit) }

// TryGrow is TryCharge for memory a holder may do without (a buffer growing beyond its
// minimum): it fails once the budget would be tight, so the last quarter stays for minimums.
func (b *Budget) TryGrow(n int) bool { return b.charge(n, b.limit/4*3) }

// charge takes n bytes unless that would pass ceiling (with a limit set).
func (b *Budget) charge(n int, ceiling int64) bool {
	if n <= 0 {
		return true
	}
	for {
		u := b.used.Load()
		if b.limit > 0 && u+int64(n) > ceiling {
			b.refused.Add(1)
			b.waiting.Store(true)
			return false
		}
		if b.used.CompareAndSwap(u, u+int64(n)) {
			b.notePeak(u + int64(n))
			return true
		}
	}
}

// Headroom is what TryGrow could still take: the bytes left below the tight threshold.
func (b *Budget) Headroom() int64 {
	if b.limit <= 0 {
		return 1 << 62
	}
	return max(0, b.limit/4*3-b.used.Load())
}

// Release gives back n bytes charged before.
func (b *Budget) Release(n int) {
	if n > 0 {
		if b.used.Add(-int64(n)) < 0 {
			panic("netstack: budget released more than was charged")
		}
		if b.waiting.Load() {
			b.mu.Lock()
			if b.waiting.Swap(false) && b.freed != nil {
				close(b.freed)
				b.freed = nil
			}
			b.mu.Unlock()
		}
	}
}

// Freed returns a channel closed once memory comes back after a refused charge: a writer
// that could not queue for want of budget waits on it (taken before it gives up its locks).
func (b *Budget) Freed() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.freed == nil {
		b.freed = make(chan struct{})
	}
	return b.freed
}

func (b *Budget) notePeak(u int64) {
	for {
		p := b.peak.Load()
		if u <= p || b.peak.CompareAndSwap(p, u) {
			return
		}
	}
}

// Limit is the budget in bytes (0: no limit).
func (b *Budget) Limit() int64 { return b.limit }

// Used is what holders hold now.
func (b *Budget) Used() int64 { return b.used.Load() }

// Peak is the most held at once.
func (b *Budget) Peak() int64 { return b.peak.Load() }

// Refused counts the charges that failed.
func (b *Budget) Refused() uint64 { return b.refused.Load() }

// Tight reports whether more than three quarters of the budget is used: holders stop growing
// what they may grow (TCP's buffers and receive windows) and new TCP connections are refused,
// so that the last quarter keeps the minimum each existing connection is promised.
func (b *Budget) Tight() bool {
	return b.limit > 0 && b.used.Load() > b.limit/4*3
}
