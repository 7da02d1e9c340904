// Package buffer holds the one packet type that flows through every layer of the stack.
//
// A Packet is a byte window [head, tail) inside a pooled backing array. On send, each layer
// pushes its header in front of the payload (Push) without copying; on receive, each layer
// consumes its header from the front (Consume) and trims link padding from the back (Trim).
// Packets come from a sync.Pool; Release returns one to it.
//
// On send, a packet may end in a fragment: payload in memory the packet does not own (a TCP
// send queue's array), kept valid by a reference until Release (SetFrag). A link that
// declares it (link.Offloads.Frags) writes the two parts as they are (Parts), sparing a copy;
// every other reader of Bytes gets the fragment copied in behind the headers first.
package buffer

import "sync"

// Headroom is the space reserved in front of a payload built with New: enough for Ethernet,
// a maximal IPv4 header and a transport header.
const Headroom = 128

// poolSize is the backing size of small pooled packets: any Ethernet frame up to a 1500-byte
// MTU plus Headroom fits. bigPoolSize holds the largest segment a device with segmentation
// offload takes or gives (an IPv4 packet of 65535 bytes, Ethernet and a virtio/netif header in
// front), so 64 KiB segments are pooled too. Between them, classes of 4, 8, 16 and 32 KiB
// pool the TCP segments of a few MSS a GSO sender makes at the end of a write or of its
// window: every packet up to bigPoolSize comes from a pool whose arrays are about twice its
// size at most.
const (
	poolSize    = 2048
	bigPoolSize = 65536 + 256
)

// SmallMax is the most bytes a packet from New(Headroom, n) holds in the small pool's
// backing, BigMin the fewest that New takes from the big pool: a link that reads into a
// big packet hands it on only for a frame of at least BigMin bytes, and copies a shorter one
// into a packet of its own size, so that queues are charged for what it holds.
const (
	SmallMax = poolSize - Headroom
	BigMin   = bigPoolSize/2 - Headroom + 1
)

// classes are the pooled backing sizes, smallest first; pools[i] holds arrays of classes[i].
var (
	classes = [...]int{poolSize, 4 << 10, 8 << 10, 16 << 10, bigPoolSize / 2, bigPoolSize}
	pools   [len(classes)]sync.Pool
)

func init() {
	for i := range pools {
		size, pool := classes[i], &pools[i]
		pool.New = func() any { return &Packet{buf: make([]byte, size), pool: pool} }
	}
}

// Packet is a pooled byte window. The zero value is not usable; use New or FromBytes.
type Packet struct {
	buf  []byte
	head int
	tail int
	pool *sync.Pool // the pool the packet goes back to, nil for none

	frag    []byte // contents after buf[head:tail] that live elsewhere (SetFrag), or nil
	fragRef Ref    // keeps frag's memory unchanged until the packet lets go of it

	// Offload is the work a device does for the stack on this packet (offload.go): zero
	// for a packet whose checksums are complete and that fits the link's MTU.
	Offload Offload
}

// New returns an empty packet with headroom bytes free in front and room for size bytes of
// payload, which Append or Extend fill.
func New(headroom, size int) *Packet {
	var p *Packet
	n := headroom + size
	for i, c := range classes {
		if n <= c {
			// The smallest class that fits: a queue charges a packet's whole array (Size),
			// so a 3 KiB datagram must not hold 64 KiB.
			p = pools[i].Get().(*Packet)
			break
		}
	}
	if p == nil {
		p = &Packet{buf: make([]byte, n)}
	}
	p.head, p.tail = headroom, headroom
	return p
}

// FromBytes returns a packet holding a copy of b with Headroom free in front.
func FromBytes(b []byte) *Packet {
	p := New(Headroom, len(b))
	p.Append(b)
	return p
}

// Bytes returns the packet's current contents (valid until the next Push, Consume or Release).
// A fragment is first copied in behind the rest (see Parts).
func (p *Packet) Bytes() []byte {
	if p.frag != nil {
		p.linearize()
	}
	return p.buf[p.head:p.tail]
}

// Ref is a reference to memory a packet's fragment points into: Unref lets go of it, once.
type Ref interface{ Unref() }

// SetFrag makes b, which r keeps unchanged until Unref, the end of the packet's contents
// without copying it: the headers go into the packet's own array in front (Push), and Len
// counts both. Release, or anything that copies the fragment in (Bytes, Append), calls
// r.Unref.
func (p *Packet) SetFrag(b []byte, r Ref) {
	if p.frag != nil {
		p.linearize()
	}
	p.frag, p.fragRef = b, r
}

// Parts returns the packet's contents as its own bytes and the fragment after them (nil
// without one), for a device that writes both where they are (link.Offloads.Frags).
func (p *Packet) Parts() (head, frag []byte) { return p.buf[p.head:p.tail], p.frag }

// linearize copies the fragment in behind the packet's own bytes, into a larger array when
// they do not fit, and lets go of its reference.
func (p *Packet) linearize() {
	n := p.Len()
	if p.head+n <= len(p.buf) {
		copy(p.buf[p.tail:], p.frag)
	} else {
		q := New(p.head, n)
		copy(q.buf[p.head:], p.buf[p.head:p.tail])
		copy(q.buf[p.tail:], p.frag)
		// Swap the arrays (each with its own pool): p keeps the larger, q goes back.
		p.buf, q.buf = q.buf, p.buf
		p.pool, q.pool = q.pool, p.pool
		q.Release()
	}
	p.tail = p.head + n
	p.dropFrag()
}

func (p *Packet) dropFrag() {
	if p.fragRef != nil {
		p.fragRef.Unref()
	}
	p.frag, p.fragRef = nil, nil
}

// Size is the memory the packet holds: its backing array and its own header, whatever the
// length of its contents (what a queue charges, as Linux charges an skb's truesize).
func (p *Packet) Size() int { return cap(p.buf) + packetHeader }

// packetHeader approximates a Packet and the queue entry that holds it.
const packetHeader = 64

// Len returns the length of the packet's contents, a fragment included.
func (p *Packet) Len() int { return p.tail - p.head + len(p.frag) }

// Headroom returns how many bytes Push can still add in front.
func (p *Packet) Headroom() int { return p.head }

// Push grows the packet by n bytes in front and returns them (zeroed) for a header to be
// written into. It panics if the headroom is exhausted: a programming error in a layer.
func (p *Packet) Push(n int) []byte {
	if n > p.head {
		panic("buffer: Push beyond headroom")
	}
	p.head -= n
	b := p.buf[p.head : p.head+n]
	clear(b)
	return b
}

// Consume removes n bytes from the front and returns them, or returns false if the packet is
// shorter than n (the packet is then unchanged).
func (p *Packet) Consume(n int) ([]byte, bool) {
	if p.frag != nil {
		p.linearize()
	}
	if n < 0 || n > p.Len() {
		return nil, false
	}
	b := p.buf[p.head : p.head+n]
	p.head += n
	return b, true
}

// Trim shortens the packet to n bytes (dropping link-layer padding); n beyond Len is ignored.
func (p *Packet) Trim(n int) {
	if p.frag != nil {
		p.linearize()
	}
	if n >= 0 && n < p.Len() {
		p.tail = p.head + n
	}
}

// Extend grows the packet by n bytes at the back and returns them (zeroed).
func (p *Packet) Extend(n int) []byte {
	if p.frag != nil {
		p.linearize()
	}
	if p.tail+n > len(p.buf) {
		nb := make([]byte, p.tail+n+(p.tail+n)/4)
		copy(nb[p.head:], p.buf[p.head:p.tail])
		p.buf, p.pool = nb, nil
	}
	b := p.buf[p.tail : p.tail+n]
	p.tail += n
	clear(b)
	return b
}

// Grow is Extend without zeroing, for a reader about to fill the n bytes (read(2) into the
// packet); it does not reallocate, and returns false when the backing array has no room.
func (p *Packet) Grow(n int) ([]byte, bool) {
	if p.frag != nil {
		p.linearize()
	}
	if n < 0 || p.tail+n > len(p.buf) {
		return nil, false
	}
	b := p.buf[p.tail : p.tail+n]
	p.tail += n
	return b, true
}

// Append copies b to the back of the packet.
func (p *Packet) Append(b []byte) {
	if dst, ok := p.Grow(len(b)); ok {
		copy(dst, b)
		return
	}
	copy(p.Extend(len(b)), b)
}

// Clone returns an independent copy of the packet's contents (and offload state) with
// Headroom in front; p is left as it is.
func (p *Packet) Clone() *Packet {
	head, frag := p.Parts()
	q := New(Headroom, len(head)+len(frag))
	q.Append(head)
	q.Append(frag)
	q.Offload = p.Offload
	return q
}

// Release returns the packet to its pool. The packet must not be used afterwards.
func (p *Packet) Release() {
	if p == nil {
		return
	}
	if p.frag != nil {
		p.dropFrag()
	}
	if p.pool == nil {
		return
	}
	p.head, p.tail, p.Offload = 0, 0, Offload{}
	p.pool.Put(p)
}
