package channel

import (
	"context"

	"goxen/netstack/link"
)

// Wire connects two endpoints like a cable: each frame a sends is delivered to b's
// dispatcher and vice versa, each direction on its own goroutine, until ctx ends.
func Wire(ctx context.Context, a, b *Endpoint) {
	pump := func(from *Endpoint, to link.Endpoint) {
		for {
			select {
			case p := <-from.out:
				to.(*Endpoint).InjectPacket(p)
			case <-ctx.Done():
				return
			}
		}
	}
	go pump(a, b)
	go pump(b, a)
}
