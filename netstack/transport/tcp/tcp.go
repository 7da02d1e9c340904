// Package tcp is TCP (RFC 9293) on the stack: connection demultiplexing, the state machine,
// retransmission (RFC 6298), timestamps with RTTM and PAWS (RFC 7323), SACK (RFC 2018) with
// SACK-based loss recovery (RFC 6675) or NewReno (RFC 6582) without it, CUBIC (RFC 9438, the
// default) or Reno (RFC 5681) congestion control, window scaling (RFC 7323), delayed ACKs,
// Nagle, zero-window probes and the RFC 5961 defences, with
// socket-like endpoints: Listen/Accept, Connect, Read/Write, CloseWrite, Close and deadlines.
// The net.Conn/net.Listener adapter is in adapters/gonet.
//
// Concurrency: one mutex (Protocol.mu) guards every endpoint's protocol state. Segments are
// handled to completion under it; the segments they produce are queued and written with
// stack.WriteIP after the mutex is released, in order, by one goroutine at a time. The
// stack calls HandlePacket with its own mutex held, so segments produced there are written
// by the protocol's sender goroutine instead. Timers are run by one goroutine per protocol,
// in batches under the same mutex (timerq.go); socket calls block on channels and deadline
// timers. Nothing polls.
//
// Files: tcp.go (protocol, demultiplexing), segment.go (building and sending segments),
// accept.go (passive open), connect.go (active open), receive.go (incoming segments),
// send.go (the send path, Nagle, Read/Write), timers.go (RTO, delayed ACK, persist,
// TIME-WAIT), timerq.go (the timer service), cc.go (the congestion-control interface),
// reno.go, cubic.go, recovery.go (fast recovery, the SACK scoreboard), sack.go (SACK blocks
// we send), ts.go (timestamps), isn.go (RFC 6528), cookie.go (SYN cookies), keepalive.go.
package tcp

import (
	"errors"
	"net/netip"
	"reflect"
	"sync"
	"syscall"
	"time"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
	"goxen/netstack/link"
	"goxen/netstack/stack"
)

// Errors returned by endpoints.
var (
	ErrPortInUse    = errors.New("tcp: address already in use")
	ErrClosed       = errors.New("tcp: use of closed endpoint")
	ErrNoPorts      = errors.New("tcp: no free ephemeral port")
	ErrNotConnected = errors.New("tcp: endpoint not connected")
	// Connection errors, as Linux reports them.
	ErrConnRefused error = syscall.ECONNREFUSED
	ErrConnReset   error = syscall.ECONNRESET
	ErrTimedOut    error = syscall.ETIMEDOUT
	ErrBrokenPipe  error = syscall.EPIPE
	ErrNoBufs      error = syscall.ENOBUFS // MaxConnections reached
)

// Options tune the protocol; zero fields take the defaults noted.
type Options struct {
	ReceiveBuffer int // 1 MiB: the receive window's ceiling (scaled, RFC 7323)
	SendBuffer    int // 1 MiB of unacknowledged plus unsent data per endpoint
	Backlog       int // 128 unaccepted connections per listener (Listen's backlog if given)
	// SynBacklog bounds each listener's half-open connections (256); SYNs past it get SYN
	// cookies (RFC 4987 3.6), which complete whenever the accept queue has room but carry no
	// window scaling, SACK or timestamps. Linux's tcp_max_syn_backlog is 128 on small
	// machines and grows with memory; here a half-open connection costs about 2 KiB and
	// counts against MaxConnections and MemoryPressure (on xen a 16 KiB reserve each), so
	// 256 lets a burst of a few hundred connects keep every option while a flood of spoofed
	// SYNs holds at most 512 KiB (4 MiB of xen's reserve) per listener before cookies make
	// it free.
	SynBacklog int
	// MaxConnections bounds the connections open at once, half-open and closing ones
	// included, TIME-WAIT not (0: no limit). Past it a SYN is answered with a reset and
	// Connect fails with ErrNoBufs; both count in Stats.ConnsRefused.
	MaxConnections int
	// MemoryPressure, when set, is asked before each new connection (a SYN, a SYN cookie's
	// ACK, a Connect) with the number open now: true refuses it as past MaxConnections
	// (counted in PressureRefused too), so that connections a peer opens cannot take the
	// memory the program needs (on xen: the Go heap near its limit). Called with the
	// protocol's lock held: it must not call into the stack.
	MemoryPressure func(open int) bool
	TimeWait       time.Duration // 60 s (2 MSL as Linux counts it)
	MinRTO         time.Duration // 200 ms (Linux's floor; RFC 6298 says 1 s)
	MaxRTO         time.Duration // 60 s
	InitialRTO     time.Duration // 1 s (RFC 6298 2.1)
	DelayedAck     time.Duration // 40 ms
	SynRetries     int           // 6
	Retries        int           // 15 retransmissions of one segment before ETIMEDOUT
	FinWait2       time.Duration // 60 s for an orphaned FIN-WAIT-2

	CongestionControl string // CCCubic (default) or CCReno
	NoSACK            bool   // neither offer nor accept SACK (RFC 2018)
	NoTimestamps      bool   // neither offer nor accept timestamps (RFC 7323)
	NoTLP             bool   // no tail loss probes (RFC 8985 7): wait for the RTO
	NoRACK            bool   // no RACK loss detection (RFC 8985 6): RFC 6675's DupThresh rule
}

func (o *Options) setDefaults() {
	d := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	i := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	i(&o.ReceiveBuffer, 1<<20)
	i(&o.SendBuffer, 1<<20)
	i(&o.Backlog, 128)
	i(&o.SynBacklog, 256)
	i(&o.SynRetries, 6)
	i(&o.Retries, 15)
	d(&o.TimeWait, 60*time.Second)
	d(&o.MinRTO, 200*time.Millisecond)
	d(&o.MaxRTO, 60*time.Second)
	d(&o.InitialRTO, time.Second)
	d(&o.DelayedAck, 40*time.Millisecond)
	d(&o.FinWait2, 60*time.Second)
	if o.CongestionControl == "" {
		o.CongestionControl = defaultCC
	}
}

const ephemeralFirst, ephemeralLast = 49152, 65535

type tuple struct{ local, remote netip.AddrPort }

type outSeg struct {
	info stack.PacketInfo
	p    *buffer.Packet
}

// Protocol is the TCP layer of one stack.
type Protocol struct {
	s    *stack.Stack
	opts Options

	mu        sync.Mutex
	conns     map[tuple]*Endpoint    // synchronized and half-open connections
	listeners map[uint16][]*Endpoint // by local port
	ports     map[uint16]int         // local port -> endpoints using it
	mtus      map[stack.NICID]int
	offl      map[stack.NICID]link.Offloads
	next      uint16
	outq      []outSeg
	spare     []outSeg // the flusher's emptied queue, outq's next array (flushMu held)
	stats     Stats
	live      int        // connections counted against MaxConnections (Endpoint.live)
	timers    timerQueue // armed endpoint timers (timerq.go)

	flushMu sync.Mutex
	kick    chan struct{}
	isn     isnGen
	tsStart time.Time // the timestamp clock's origin
}

// Stats counts TCP events (named after Linux's netstat -s Tcp and TcpExt lines).
type Stats struct {
	ActiveOpens, PassiveOpens, AttemptFails, EstabResets uint64
	InSegs, OutSegs, RetransSegs, InErrs, InCsumErrors   uint64
	OutRsts, ListenDrops, ChallengeACKs, FastRetrans     uint64
	RTOs, OutOfWindow, OfoQueued                         uint64
	SynCookiesSent, SynCookiesRecv                       uint64
	// ListenOverflows counts SYNs and handshake-completing ACKs dropped because a listener's
	// accept queue was full (also in ListenDrops; accept.go).
	ListenOverflows uint64
	// SACKRecoveries counts fast recoveries run by RFC 6675 (also in FastRetrans),
	// SACKRetrans the segments they retransmitted, SACKBlocksRecv the ACKs whose SACK
	// blocks told us something new, SACKBlocksSent the segments we sent with SACK
	// blocks, DSACKsSent those reporting a duplicate first (RFC 2883); PAWSDrops counts segments dropped by PAWS (RFC 7323 5) and TSRTTSamples the
	// RTT samples taken from echoed timestamps.
	SACKRecoveries, SACKRetrans, SACKBlocksRecv, SACKBlocksSent uint64
	DSACKsSent                                                  uint64
	PAWSDrops, TSRTTSamples                                     uint64
	// LostRetransmits counts retransmissions found lost in SACK recovery (recovery.go),
	// TLPProbes the tail loss probes sent (tlp.go), TLPRepairs the probes found to have
	// repaired a loss (the window was cut then).
	LostRetransmits, TLPProbes, TLPRepairs uint64
	// MemoryDrops counts segments (or their tails) dropped because the stack's memory budget
	// was spent (the peer retransmits them); ConnsRefused the connection attempts refused
	// because MaxConnections were open or the memory budget was tight (answered with a
	// reset), and connects that failed past MaxConnections.
	// PressureRefused counts those refused because Options.MemoryPressure said so.
	MemoryDrops, ConnsRefused, PressureRefused uint64
	// OfoPruned counts out-of-order segments dropped to make room for in-order data.
	OfoPruned uint64
	// RACK (rack.go): RACKLost counts transmissions marked lost, RACKReoTimeouts the
	// reordering timer's expiries, RACKReorderings the connections that saw reordering,
	// DSACKsRecv the D-SACKs that widened a reordering window, RACKFallbacks the connections
	// that tracked too many transmissions and went back to RFC 6675.
	RACKLost, RACKReoTimeouts, RACKReorderings, DSACKsRecv, RACKFallbacks uint64
}

// New creates the TCP layer with default options and registers it with s.
func New(s *stack.Stack) *Protocol { return NewWithOptions(s, Options{}) }

// NewWithOptions creates the TCP layer and registers it with s.
func NewWithOptions(s *stack.Stack, opts Options) *Protocol {
	opts.setDefaults()
	if opts.CongestionControl != CCCubic && opts.CongestionControl != CCReno {
		panic("tcp: unknown congestion control " + opts.CongestionControl + " (want cubic or reno)")
	}
	pr := &Protocol{s: s, opts: opts, conns: make(map[tuple]*Endpoint), listeners: make(map[uint16][]*Endpoint),
		ports: make(map[uint16]int), mtus: make(map[stack.NICID]int), offl: make(map[stack.NICID]link.Offloads), kick: make(chan struct{}, 1), tsStart: time.Now()}
	pr.isn.init()
	pr.next = ephemeralFirst + uint16(pr.isn.random()%1000)
	go func() {
		for range pr.kick {
			pr.flush()
		}
	}()
	s.RegisterTransport(header.TCPProtocolNumber, pr)
	return pr
}

// Stack returns the stack the protocol runs on.
func (pr *Protocol) Stack() *stack.Stack { return pr.s }

// Stats returns a copy of the counters.
func (pr *Protocol) Stats() Stats {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return pr.stats
}

// Snapshot returns the counters as "TCP.Name" -> value, with the gauges Connections (open
// now, counted against MaxConnections) and MaxConnections (0: no limit).
func (pr *Protocol) Snapshot() map[string]uint64 {
	pr.mu.Lock()
	st, live := pr.stats, pr.live
	pr.mu.Unlock()
	m := map[string]uint64{"TCP.Connections": uint64(live), "TCP.MaxConnections": uint64(pr.opts.MaxConnections)}
	v := reflect.ValueOf(st)
	for i := 0; i < v.NumField(); i++ {
		m["TCP."+v.Type().Field(i).Name] = v.Field(i).Uint()
	}
	return m
}

// unlock releases mu and writes the queued segments.
func (pr *Protocol) unlock() {
	pr.mu.Unlock()
	pr.flush()
}

// flush writes queued segments without holding mu, one flusher at a time (keeping them in
// order); one that finds another flushing leaves its segments to it, and the flusher looks
// again after letting go, so none is stranded.
func (pr *Protocol) flush() {
	for pr.flushMu.TryLock() {
		for {
			pr.mu.Lock()
			q := pr.outq
			pr.outq, pr.spare = pr.spare[:0], nil // two arrays take turns: no allocation
			pr.mu.Unlock()
			if len(q) == 0 {
				pr.spare = q
				break
			}
			for i, o := range q {
				pr.s.WriteIP(o.info, o.p)
				q[i] = outSeg{}
			}
			pr.spare = q[:0]
		}
		pr.flushMu.Unlock()
		pr.mu.Lock()
		empty := len(pr.outq) == 0
		pr.mu.Unlock()
		if empty {
			return
		}
	}
}

// allocPort reserves local port (0: an ephemeral one). Called with mu held.
func (pr *Protocol) allocPort(port uint16, free func(uint16) bool) (uint16, error) {
	if port != 0 {
		if !free(port) {
			return 0, ErrPortInUse
		}
		pr.ports[port]++
		return port, nil
	}
	for range ephemeralLast - ephemeralFirst + 1 {
		pr.next++
		if pr.next < ephemeralFirst {
			pr.next = ephemeralFirst
		}
		if pr.ports[pr.next] == 0 {
			pr.ports[pr.next]++
			return pr.next, nil
		}
	}
	return 0, ErrNoPorts
}

func (pr *Protocol) releasePort(port uint16) {
	if pr.ports[port]--; pr.ports[port] <= 0 {
		delete(pr.ports, port)
	}
}

// HandlePacket is the stack.TransportHandler. Every segment is taken: one for no endpoint
// is answered with a RST (RFC 9293 3.10.7.1), not ICMP.
func (pr *Protocol) HandlePacket(info stack.PacketInfo, p *buffer.Packet) bool {
	defer p.Release()
	h := header.TCP(p.Bytes())
	pr.mu.Lock()
	pr.stats.InSegs++
	if !h.Valid() || info.Broadcast {
		pr.stats.InErrs++
		pr.mu.Unlock()
		return true
	}
	if !p.Offload.CsumValid && !h.ChecksumValid(info.Src, info.Dst) {
		pr.stats.InCsumErrors++
		pr.stats.InErrs++
		pr.mu.Unlock()
		return true
	}
	opts, ok := header.ParseTCPOptions(h.Options())
	if !ok {
		pr.stats.InErrs++
		pr.mu.Unlock()
		return true
	}
	seg := &segment{h: h, opts: opts, data: h.Payload(), flags: h.Flags(), seq: h.Seq(), ack: h.Ack(),
		wnd: h.Window(), info: info}
	t := tuple{netip.AddrPortFrom(info.Dst, h.DstPort()), netip.AddrPortFrom(info.Src, h.SrcPort())}
	if e := pr.conns[t]; e != nil {
		e.handleSegment(seg)
	} else if l := pr.findListener(t.local, info.NIC); l != nil {
		l.handleListen(seg)
	} else {
		pr.replyRST(seg)
	}
	pr.mu.Unlock()
	select {
	case pr.kick <- struct{}{}:
	default:
	}
	return true
}

func (pr *Protocol) findListener(local netip.AddrPort, nic stack.NICID) *Endpoint {
	var wild *Endpoint
	for _, l := range pr.listeners[local.Port()] {
		if l.nic != 0 && l.nic != nic || !stack.Accepts(l.local.Addr(), l.v6only, local.Addr()) {
			continue
		}
		if l.local.Addr() == local.Addr() {
			return l
		}
		if l.local.Addr().IsUnspecified() {
			wild = l
		}
	}
	return wild
}

// Sequence-number comparisons modulo 2^32 (RFC 9293 3.4).
func seqLT(a, b uint32) bool { return int32(a-b) < 0 }
func seqLE(a, b uint32) bool { return int32(a-b) <= 0 }
func seqGT(a, b uint32) bool { return int32(a-b) > 0 }
func seqGE(a, b uint32) bool { return int32(a-b) >= 0 }

// full reports whether a new connection must be refused: MaxConnections are open, or
// Options.MemoryPressure says memory is short. Called with mu held.
func (pr *Protocol) full() bool {
	if pr.opts.MaxConnections > 0 && pr.live >= pr.opts.MaxConnections {
		return true
	}
	if pr.opts.MemoryPressure != nil && pr.opts.MemoryPressure(pr.live) {
		pr.stats.PressureRefused++
		return true
	}
	return false
}

// countLive counts e against MaxConnections until it closes or enters TIME-WAIT.
func (pr *Protocol) countLive(e *Endpoint) {
	e.live = true
	pr.live++
}

// uncountLive stops counting e.
func (pr *Protocol) uncountLive(e *Endpoint) {
	if e.live {
		e.live = false
		pr.live--
	}
}

// Connections returns the connections counted against MaxConnections now.
func (pr *Protocol) Connections() int {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return pr.live
}
