// Package fault wraps a link endpoint and disturbs the frames passing through it in both
// directions: drop, duplicate, reorder (hold one frame back and send it after the next, or
// after MaxHold when no next frame comes) and delay, each with its own probability, from a
// seeded generator so runs repeat.
package fault

import (
	"math/rand"
	"sync"
	"time"

	"goxen/netstack/buffer"
	"goxen/netstack/link"
)

// Config gives each fault's probability in [0, 1] per frame and direction.
type Config struct {
	Drop, Duplicate, Reorder float64
	Delay                    time.Duration // added to a frame with probability DelayRate
	DelayRate                float64
	Seed                     int64
}

// Stats counts the faults injected.
type Stats struct {
	Passed, Dropped, Duplicated, Reordered, Delayed uint64
}

// Endpoint is a fault-injecting wrapper.
type Endpoint struct {
	link.Endpoint
	cfg Config

	mu    sync.Mutex
	rng   *rand.Rand
	stats Stats
	held  [2]*buffer.Packet // per direction: a frame held back for reordering
	gen   [2]uint64         // per direction: which hold a MaxHold timer belongs to
}

// MaxHold is how long a frame held back for reordering waits for the next frame: a held frame
// is reordered, never lost, also when the traffic stops behind it.
const MaxHold = 20 * time.Millisecond

// New returns the wrapper around lower.
func New(lower link.Endpoint, cfg Config) *Endpoint {
	return &Endpoint{Endpoint: lower, cfg: cfg, rng: rand.New(rand.NewSource(cfg.Seed))}
}

// Offloads are none but the lower link's Frags: faults act on wire-sized frames with
// complete checksums, and carry a packet's fragment as it is (a duplicate copies it).
func (e *Endpoint) Offloads() link.Offloads {
	return link.Offloads{Frags: link.OffloadsOf(e.Endpoint).Frags}
}

// Stats returns the counts so far.
func (e *Endpoint) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stats
}

// SetConfig changes the probabilities (the seed is kept).
func (e *Endpoint) SetConfig(cfg Config) {
	e.mu.Lock()
	e.cfg = cfg
	e.mu.Unlock()
}

// apply decides the fate of p in direction dir and passes the surviving frames to out.
func (e *Endpoint) apply(dir int, p *buffer.Packet, out func(*buffer.Packet)) {
	e.mu.Lock()
	c := e.cfg
	if e.rng.Float64() < c.Drop {
		e.stats.Dropped++
		e.mu.Unlock()
		p.Release()
		return
	}
	var send []*buffer.Packet
	if e.rng.Float64() < c.Duplicate {
		e.stats.Duplicated++
		send = append(send, p.Clone())
	}
	send = append(send, p)
	if h := e.held[dir]; h != nil {
		e.held[dir] = nil
		send = append(send, h)
	} else if e.rng.Float64() < c.Reorder {
		e.stats.Reordered++
		e.held[dir] = send[len(send)-1]
		send = send[:len(send)-1]
		e.gen[dir]++
		gen := e.gen[dir]
		time.AfterFunc(MaxHold, func() { e.release(dir, gen, out) })
	}
	delay := c.DelayRate > 0 && e.rng.Float64() < c.DelayRate
	if delay {
		e.stats.Delayed++
	}
	e.stats.Passed += uint64(len(send))
	e.mu.Unlock()
	for _, q := range send {
		if delay {
			q := q
			time.AfterFunc(c.Delay, func() { out(q) })
		} else {
			out(q)
		}
	}
}

// release sends the frame held in direction dir if it is still the one hold gen held.
func (e *Endpoint) release(dir int, gen uint64, out func(*buffer.Packet)) {
	e.mu.Lock()
	h := e.held[dir]
	if h == nil || e.gen[dir] != gen {
		e.mu.Unlock()
		return
	}
	e.held[dir] = nil
	e.stats.Passed++
	e.mu.Unlock()
	out(h)
}

func (e *Endpoint) WritePacket(p *buffer.Packet) error {
	e.apply(0, p, func(q *buffer.Packet) { e.Endpoint.WritePacket(q) })
	return nil
}

func (e *Endpoint) Attach(d link.Dispatcher) {
	if d == nil {
		e.Endpoint.Attach(nil)
		return
	}
	e.Endpoint.Attach(link.DispatcherFunc(func(p *buffer.Packet) {
		e.apply(1, p, d.DeliverFrame)
	}))
}
