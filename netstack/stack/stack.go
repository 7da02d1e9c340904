// Package stack is the core of netstack: NICs on link endpoints, ARP, IPv4 (routing,
// fragmentation, reassembly), ICMP and the dispatch of transport packets to the protocols
// registered with RegisterTransport (transport/udp; transport/tcp fits the same hook).
//
// Concurrency: one mutex guards all protocol state. A link endpoint's receive goroutine
// delivers a frame and the stack processes it to completion on that goroutine; timers (ARP
// retries and expiry, reassembly timeouts) are time.AfterFunc callbacks that take the same
// mutex. Frames produced under the mutex are queued and written to the link after it is
// released (flush), in order, by one goroutine at a time, so a link blocking for
// back-pressure never holds up the stack; replies such as ARP and echo are written before
// DeliverFrame returns unless another goroutine is already flushing. A device that is a
// link.Poller (the only one besides loopbacks: Poller) may instead be read by a goroutine of
// a transport about to wait for the network, which then processes the frames itself, as
// the device's goroutine would. Nothing polls or spins,
// so the stack runs on GOOS=xen's single M. Transport handlers are called with the
// mutex held and must not call back into the Stack; their sockets call WriteIPv4 from
// user goroutines.
package stack

import (
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
)

// NICID names a NIC within a Stack.
type NICID int

// Errors returned by the stack.
var (
	ErrNoRoute       = errors.New("netstack: no route to host")
	ErrNoAddress     = errors.New("netstack: no local address")
	ErrMessageTooBig = errors.New("netstack: message too long")
	ErrUnknownNIC    = errors.New("netstack: unknown NIC")
	ErrDuplicateNIC  = errors.New("netstack: duplicate NIC")
	ErrHostUnreach   = errors.New("netstack: host unreachable (no ARP reply)")
)

// Options tune the stack; zero fields take the defaults noted.
type Options struct {
	DefaultTTL uint8 // 64

	ARPRetransmit time.Duration // 1 s between requests
	ARPRetries    int           // 3 requests before giving up
	ARPReachable  time.Duration // 60 s lifetime of a learned entry
	ARPMaxPending int           // 16 packets queued per unresolved address
	ARPMaxEntries int           // 512 cache entries per NIC

	ReasmTimeout      time.Duration // 30 s per datagram (RFC 791 suggests 15 s upwards)
	ReasmMaxDatagrams int           // 64 datagrams being reassembled at once
	ReasmMaxBytes     int           // 4 MiB held in all reassembly buffers
	ReasmMaxFragments int           // 256 fragments per datagram

	ICMPErrorRate  int // 1000 ICMP errors per second at most (token bucket; echo replies exempt)
	ICMPErrorBurst int // 50

	// DADTransmits is the number of duplicate address detection probes sent for each IPv6
	// address before it is used, ARPRetransmit apart (RFC 4862 5.1): 1; negative: none.
	DADTransmits int
	// DADMaxDelay bounds the random wait before an address's first probe (RFC 4862 5.4.2,
	// MAX_RTR_SOLICITATION_DELAY): 1 s; negative: none.
	DADMaxDelay time.Duration
	// RouterSolicitInterval is the time between router solicitations (RFC 4861 10): 4 s.
	RouterSolicitInterval time.Duration

	// Logf, if set, is told of address events ("eth0: fd00::1/64 (SLAAC)"): an IPv6
	// address formed by SLAAC, expired, or given up because another node has it.
	Logf func(msg string)

	// MemoryBudget bounds the bytes held for data in flight by every endpoint and the
	// reassembly of this stack together (budget.go): 64 MiB; negative: no limit.
	MemoryBudget int64
}

func (o *Options) setDefaults() {
	def := func(p *time.Duration, d time.Duration) {
		if *p == 0 {
			*p = d
		}
	}
	defi := func(p *int, d int) {
		if *p == 0 {
			*p = d
		}
	}
	if o.MemoryBudget == 0 {
		o.MemoryBudget = 64 << 20
	}
	if o.DefaultTTL == 0 {
		o.DefaultTTL = 64
	}
	def(&o.ARPRetransmit, time.Second)
	def(&o.ARPReachable, 60*time.Second)
	def(&o.ReasmTimeout, 30*time.Second)
	def(&o.RouterSolicitInterval, 4*time.Second)
	def(&o.DADMaxDelay, time.Second)
	defi(&o.DADTransmits, 1)
	defi(&o.ARPRetries, 3)
	defi(&o.ARPMaxPending, 16)
	defi(&o.ARPMaxEntries, 512)
	defi(&o.ReasmMaxDatagrams, 64)
	defi(&o.ReasmMaxBytes, 4<<20)
	defi(&o.ReasmMaxFragments, 256)
	defi(&o.ICMPErrorRate, 1000)
	defi(&o.ICMPErrorBurst, 50)
}

// TransportHandler receives the packets of one IP protocol. The packet starts at the
// transport header. Returning true means the handler took the packet (it owns it now);
// false means no endpoint wanted it: the stack keeps the packet and answers with ICMP port
// unreachable (unless the packet was broadcast).
type TransportHandler interface {
	HandlePacket(info PacketInfo, p *buffer.Packet) bool
}

// ErrorHandler is implemented by transport handlers that want ICMP errors about datagrams
// they sent (destination unreachable, time exceeded), e.g. to fail a connected socket.
type ErrorHandler interface {
	HandleError(e ICMPError)
}

// ICMPError is a received ICMP error: its type and code, the quoted datagram's addresses
// (Src is ours) and the first 8 bytes of its transport header.
type ICMPError struct {
	Type, Code uint8
	Src, Dst   netip.Addr
	Transport  []byte
}

// PacketInfo describes an IP packet: on receive, its addresses and how it arrived; on send,
// what WriteIPv4 should put in the header.
type PacketInfo struct {
	NIC       NICID
	Src, Dst  netip.Addr
	Protocol  uint8
	TTL       uint8 // 0 means the stack default on send
	TOS       uint8
	DontFrag  bool
	Broadcast bool // received on a broadcast address; on send, use the link broadcast
	NextHop   netip.Addr
}

// Stack is an IPv4 and IPv6 host stack.
type Stack struct {
	mu         sync.Mutex
	opts       Options
	nics       map[NICID]*NIC
	poller     atomic.Pointer[pollerRef] // nic.go
	routes     []Route
	transports map[uint8]TransportHandler
	reasm      reassembler
	ipID       uint16
	ipID6      uint32                 // the last IPv6 fragment identification
	pings      map[uint16]chan []byte // Ping's waiting for their echo reply, by identifier
	pingID     uint16
	stats      Stats
	budget     *Budget
	icmpTokens float64
	icmpLast   time.Time

	outq    []outFrame // frames to write once mu is released
	flushMu sync.Mutex // held by the goroutine writing outq
	spare   []outFrame // the flusher's emptied queue, outq's next array (flushMu held)
}

type outFrame struct {
	n *NIC
	p *buffer.Packet
}

// New returns an empty stack.
func New(opts Options) *Stack {
	opts.setDefaults()
	s := &Stack{opts: opts, nics: make(map[NICID]*NIC), transports: make(map[uint8]TransportHandler),
		budget: NewBudget(max(opts.MemoryBudget, 0))}
	s.reasm.init(s)
	s.ipID = uint16(time.Now().UnixNano())
	s.ipID6 = uint32(time.Now().UnixNano() >> 16)
	s.icmpTokens = float64(opts.ICMPErrorBurst)
	return s
}

// Budget is the stack's memory budget for data in flight (Options.MemoryBudget).
func (s *Stack) Budget() *Budget { return s.budget }

// Stats returns the live counters.
func (s *Stack) Stats() *Stats { return &s.stats }

// Snapshot returns the counters (Stats.Snapshot) and the memory budget's gauges: its Limit,
// the bytes Used now, their Peak, and the charges Refused.
func (s *Stack) Snapshot() map[string]uint64 {
	m := s.stats.Snapshot()
	b := s.budget
	m["Budget.Limit"], m["Budget.Used"], m["Budget.Peak"] = uint64(b.Limit()), uint64(b.Used()), uint64(b.Peak())
	m["Budget.Refused"] = b.Refused()
	return m
}

// RegisterTransport makes h the receiver of IP protocol proto.
func (s *Stack) RegisterTransport(proto uint8, h TransportHandler) {
	s.mu.Lock()
	s.transports[proto] = h
	s.mu.Unlock()
}

// DefaultTTL is the TTL used when PacketInfo.TTL is zero.
func (s *Stack) DefaultTTL() uint8 { return s.opts.DefaultTTL }

// Close detaches and closes every NIC's endpoint and stops the timers.
func (s *Stack) Close() {
	s.mu.Lock()
	nics := s.nics
	s.nics = map[NICID]*NIC{}
	s.poller.Store(nil)
	for _, n := range nics {
		n.arpFlush()
	}
	s.reasm.flush()
	for _, f := range s.outq {
		f.p.Release()
	}
	s.outq = nil
	s.mu.Unlock()
	for _, n := range nics {
		n.ep.Attach(nil)
		n.ep.Close()
	}
}

// writeFrame pushes an Ethernet header onto p and queues it for n's link. Called with s.mu
// held; the frame goes out at the next flush.
func (s *Stack) writeFrame(n *NIC, dst header.LinkAddr, typ uint16, p *buffer.Packet) {
	header.Ethernet(p.Push(header.EthernetMinSize)).Encode(&header.EthernetFields{Dst: dst, Src: n.ep.LinkAddr(), Type: typ})
	s.outq = append(s.outq, outFrame{n, p})
}

// unlock releases s.mu and writes the queued frames.
func (s *Stack) unlock() {
	s.mu.Unlock()
	s.flush()
}

// flush writes queued frames to their links without holding s.mu. Only one goroutine
// flushes at a time (keeping frames in order); one that finds another flushing leaves its
// frames to it, and the flusher looks again after letting go, so no frame is stranded.
func (s *Stack) flush() {
	for s.flushMu.TryLock() {
		for {
			s.mu.Lock()
			q := s.outq
			s.outq, s.spare = s.spare[:0], nil // two arrays take turns: no allocation
			s.mu.Unlock()
			if len(q) == 0 {
				s.spare = q
				break
			}
			for i, f := range q {
				s.stats.Link.TxFrames.Inc()
				if err := f.n.ep.WritePacket(f.p); err != nil {
					s.stats.Link.TxErrors.Inc()
				}
				q[i] = outFrame{}
			}
			s.spare = q[:0]
		}
		s.flushMu.Unlock()
		s.mu.Lock()
		empty := len(s.outq) == 0
		s.mu.Unlock()
		if empty {
			return
		}
	}
}
