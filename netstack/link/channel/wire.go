package channel

import (
	"context"

	"goxen/netstack/buffer"
)

// Wire connects two endpoints like a cable: each frame a sends is delivered to b's
// dispatcher and vice versa, each direction on its own goroutine, until ctx ends. Frames go
// one at a time, or in batches towards an endpoint given SetBatch.
func Wire(ctx context.Context, a, b *Endpoint) {
	pump := func(from, to *Endpoint) {
		var batch []*buffer.Packet
		if to.batch > 1 {
			batch = make([]*buffer.Packet, 0, to.batch)
		}
		for {
			select {
			case p := <-from.out:
				if batch == nil {
					to.InjectPacket(p)
					continue
				}
				batch = append(batch[:0], p)
				batch = from.takeQueued(batch)
				to.InjectPackets(batch)
				clear(batch)
			case <-ctx.Done():
				return
			}
		}
	}
	go pump(a, b)
	go pump(b, a)
}

// takeQueued appends the frames queued now to batch, up to its capacity.
func (e *Endpoint) takeQueued(batch []*buffer.Packet) []*buffer.Packet {
	for len(batch) < cap(batch) {
		select {
		case p := <-e.out:
			batch = append(batch, p)
		default:
			return batch
		}
	}
	return batch
}
