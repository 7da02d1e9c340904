package tcp

import (
	"fmt"
	"net/netip"
	"time"

	"goxen/netstack/header"
	"goxen/netstack/stack"
)

// State is a connection state (RFC 9293 3.3.2).
type State int

const (
	Closed State = iota
	Listen
	SynSent
	SynRcvd
	Established
	FinWait1
	FinWait2
	CloseWait
	Closing
	LastAck
	TimeWait
)

var stateNames = [...]string{"CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
	"FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT"}

func (s State) String() string { return stateNames[s] }

// synchronized reports whether s is past the handshake (RFC 9293 3.10.7.4).
func (s State) synchronized() bool { return s >= Established }

type oooSeg struct {
	seq  uint32
	data []byte
	fin  bool
}

// Endpoint is a TCP socket: a listener or a connection. All fields below pr are guarded by
// pr.mu.
type Endpoint struct {
	pr *Protocol

	state         State
	local, remote netip.AddrPort
	nic           stack.NICID
	v6only        bool             // a listener on :: that takes IPv6 only (IPV6_V6ONLY)
	route         stack.PacketInfo // NIC, Src, Dst for sending
	err           error            // connection error, returned by Read/Write once fatal
	userClosed    bool             // Close was called: no more reads
	abortOnClose  bool             // Close resets (SO_LINGER 0)
	inConns       bool             // registered in pr.conns
	live          bool             // counted in pr.live (MaxConnections)
	portHeld      bool

	// listener
	backlog   int         // bounds acceptQ
	pending   int         // half-open children (bounded by Options.SynBacklog)
	acceptQ   []*Endpoint // established, not yet accepted
	listener  *Endpoint   // the listener a passive child belongs to, until accepted
	peerAcked bool        // a half-open child whose handshake's ACK found acceptQ full

	// send sequence space (RFC 9293 3.3.1)
	iss, sndUna, sndNxt, sndMax uint32
	sndWnd, maxSndWnd           uint32 // scaled
	sndWl1, sndWl2              uint32
	sndBuf                      byteQueue // bytes from sndUna: unacknowledged, then unsent
	sndBufMax                   int
	finQueued                   bool   // CloseWrite: a FIN follows sndBuf
	finSeq                      uint32 // its sequence number
	sndScale, rcvScale          uint8
	wsOK                        bool // window scaling in effect (both sides sent it)
	mss                         int  // send MSS
	noDelay                     bool

	// receive sequence space
	irs, rcvNxt uint32
	rcvBuf      byteQueue // in-order bytes waiting for Read
	rcvBufMax   int       // the receive window's ceiling (Options.ReceiveBuffer, SetReceiveBuffer)
	rcvBufCur   int       // the window offered now: grows up to rcvBufMax with the reader (rcvTune)
	rcvLocked   bool      // SetReceiveBuffer fixed the window: no auto-tuning
	rcvSpaceAt  time.Time // auto-tuning: start of the current measurement...
	rcvSpace    int       // ...and the bytes Read since
	ooo         []oooSeg
	oooBytes    int // held by ooo, charged to the budget
	finRcvd     bool
	rcvAdv      uint32 // right edge of the window last advertised
	ackPending  int    // in-order segments received and not yet acknowledged

	// RTO (RFC 6298)
	srtt, rttvar, rto time.Duration
	rttSeq            uint32
	rttStart          time.Time
	rttActive         bool
	retries           int
	persist           bool // the armed RTO timer is the zero-window probe timer

	// timers: entries in the protocol's timer heap (timerq.go); the flags say which are armed
	rtoTimer, dackTimer, lingerTimer epTimer
	rtoAt, lingerAt                  time.Time
	rtoArmed, dackArmed, lingerArmed bool

	// congestion control and loss recovery (cc.go, recovery.go)
	cc             congestionControl
	cwnd, ssthresh int
	dupAcks        int
	inRecovery     bool
	recover        uint32
	rttSampled     bool // srtt holds a sample

	// SACK (RFC 2018, RFC 6675)
	sackOK   bool                  // both sides sent SACK-permitted
	sackList []header.TCPSACKBlock // blocks our ACKs report, most recent first (sack.go)
	dsack    header.TCPSACKBlock   // a duplicate to report first in the next ACK (RFC 2883)
	dsackOn  bool
	sackOpt  [maxSACKList + 1]header.TCPSACKBlock // the blocks of the segment being built
	sb       []header.TCPSACKBlock                // the scoreboard: SACKed ranges above sndUna (recovery.go)
	highRxt  uint32                               // end of the highest retransmission in SACK recovery
	rxtUna   bool                                 // the segment at rxtSeq (then SND.UNA) was retransmitted...
	rxtSeq   uint32
	rxtMark  uint32 // ...when SND.MAX was here
	tlpArmed bool   // the armed RTO timer is the tail loss probe's (tlp.go)
	reoArmed bool   // the armed RTO timer is RACK's reordering timer (rack.go)
	tlpOut   bool   // a probe was sent and nothing new acknowledged since
	tlpRxt   bool   // a probe sent [tlpStart, tlpEnd) again; its ACKs say whether it was needed
	tlpStart uint32
	tlpEnd   uint32
	rack     rackState

	// timestamps (RFC 7323, ts.go)
	tsOK        bool // both sides sent TSopt
	tsOffset    uint32
	tsRecent    uint32
	tsRecentAt  time.Time
	tsRecentOK  bool
	lastAckSent uint32

	// keepalive
	ka       KeepAlive
	kaTimer  epTimer
	kaProbes int
	lastRecv time.Time

	rcvCh, sndCh chan struct{}     // capacity 1: readable / writable (or state changed)
	polling      stack.PollWaiters // readers and writers reading the device while they wait
	acceptCh     chan struct{}
	connCh       chan struct{} // closed when a connect completes or fails
	rd, wd       *stack.Deadline
}

func (pr *Protocol) newEndpoint() *Endpoint {
	e := &Endpoint{pr: pr, sndBufMax: pr.opts.SendBuffer, rcvBufMax: pr.opts.ReceiveBuffer,
		rcvBufCur: min(pr.opts.ReceiveBuffer, initialRcvWindow),
		rto:       pr.opts.InitialRTO, mss: 536, ssthresh: 1 << 30, cc: newCC(pr.opts.CongestionControl),
		tsOffset: uint32(pr.isn.random()),
		rcvCh:    make(chan struct{}, 1), sndCh: make(chan struct{}, 1), acceptCh: make(chan struct{}, 1),
		connCh: make(chan struct{}), rd: stack.NewDeadline(), wd: stack.NewDeadline()}
	e.rtoTimer.init(e, timerRTO)
	e.dackTimer.init(e, timerDelack)
	e.lingerTimer.init(e, timerLinger)
	e.kaTimer.init(e, timerKeepalive)
	return e
}

func wake(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// signal wakes a reader or writer waiting on c (e.rcvCh, e.sndCh), and kicks it if it is
// reading the device itself (link.Poller).
func (e *Endpoint) signal(c chan struct{}) {
	wake(c)
	e.polling.Kick(e.pr.s)
}

// pollWait has a goroutine about to wait on c read the device itself while it waits
// (stack.PollWaiters); true: look again at what it waits for.
func (e *Endpoint) pollWait(c chan struct{}, d *stack.Deadline) bool {
	return e.polling.Wait(e.pr.s, c, d.When())
}

// wakeAll wakes every waiter on e so it re-examines the state.
func (e *Endpoint) wakeAll() {
	e.signal(e.rcvCh)
	e.signal(e.sndCh)
	wake(e.acceptCh)
}

// State returns the connection state.
func (e *Endpoint) State() State {
	e.pr.mu.Lock()
	defer e.pr.mu.Unlock()
	return e.state
}

// LocalAddr is the bound address and port.
func (e *Endpoint) LocalAddr() netip.AddrPort {
	e.pr.mu.Lock()
	defer e.pr.mu.Unlock()
	return e.local
}

// RemoteAddr is the peer (invalid for a listener).
func (e *Endpoint) RemoteAddr() netip.AddrPort {
	e.pr.mu.Lock()
	defer e.pr.mu.Unlock()
	return e.remote
}

// SetNoDelay turns Nagle's algorithm off (true) or on.
func (e *Endpoint) SetNoDelay(b bool) {
	e.pr.mu.Lock()
	e.noDelay = b
	e.output()
	e.pr.unlock()
}

// SetReadDeadline, SetWriteDeadline and SetDeadline behave as net.Conn's.
func (e *Endpoint) SetReadDeadline(t time.Time) error {
	e.rd.Set(t)
	e.polling.Kick(e.pr.s)
	return nil
}
func (e *Endpoint) SetWriteDeadline(t time.Time) error {
	e.wd.Set(t)
	e.polling.Kick(e.pr.s)
	return nil
}
func (e *Endpoint) SetDeadline(t time.Time) error {
	e.rd.Set(t)
	e.wd.Set(t)
	e.polling.Kick(e.pr.s)
	return nil
}

// rcvWindow is the free receive space in bytes.
func (e *Endpoint) rcvWindow() int {
	return max(0, e.rcvBuf.Room(e.rcvBufCur, e.pr.s.Budget())-e.oooBytes)
}

// teardown moves e to CLOSED: it leaves the demultiplexer, stops its timers and wakes
// every waiter. err, if not nil, is what blocked and later calls return.
func (e *Endpoint) teardown(err error) {
	if e.err == nil && err != nil {
		e.err = err
	}
	e.state = Closed
	e.cancelRTO()
	e.cancelDelack()
	e.cancelLinger()
	e.cancelKeepalive()
	if e.inConns {
		delete(e.pr.conns, tuple{e.local, e.remote})
		e.inConns = false
	}
	e.pr.uncountLive(e)
	if e.portHeld {
		e.pr.releasePort(e.local.Port())
		e.portHeld = false
	}
	e.leaveListener(err)
	e.pr.s.Budget().Release(e.oooBytes)
	e.ooo, e.oooBytes = nil, 0
	e.rack.recs, e.rack.rexmits = nil, 0
	e.sndBuf.Reset(e.pr.s.Budget())
	if e.userClosed {
		e.rcvBuf.Reset(e.pr.s.Budget()) // else unread data stays readable until Close
	}
	select {
	case <-e.connCh:
	default:
		close(e.connCh)
	}
	e.wakeAll()
}

// String describes the endpoint's state and sequence variables (for debugging).
func (e *Endpoint) String() string {
	e.pr.mu.Lock()
	defer e.pr.mu.Unlock()
	return fmt.Sprintf("%v %v->%v snd una=%d nxt=%d max=%d wnd=%d buf=%d cwnd=%d ssthresh=%d rto=%v armed=%v persist=%v rec=%v retries=%d; rcv nxt=%d adv=%d win=%d buf=%d ooo=%d/%d",
		e.state, e.local, e.remote, e.sndUna-e.iss, e.sndNxt-e.iss, e.sndMax-e.iss, e.sndWnd, e.sndBuf.Len(), e.cwnd, e.ssthresh,
		e.rto, e.rtoArmed, e.persist, e.inRecovery, e.retries, e.rcvNxt-e.irs, e.rcvAdv-e.irs, e.rcvWindow(), e.rcvBuf.Len(), len(e.ooo), e.oooBytes)
}

// Info describes a connection's negotiated options and congestion state.
type Info struct {
	SACK, Timestamps, WindowScale bool
	MSS                           int // send MSS, less the timestamp option when in use
	Cwnd, Ssthresh                int // bytes
	SRTT, RTO                     time.Duration
	CongestionControl             string
	InRecovery                    bool
}

// Info returns the connection's options and congestion state.
func (e *Endpoint) Info() Info {
	e.pr.mu.Lock()
	defer e.pr.mu.Unlock()
	cc := CCCubic
	if _, ok := e.cc.(*reno); ok {
		cc = CCReno
	}
	return Info{SACK: e.sackOK, Timestamps: e.tsOK, WindowScale: e.wsOK, MSS: e.mss, Cwnd: e.cwnd,
		Ssthresh: e.ssthresh, SRTT: e.srtt, RTO: e.rto, CongestionControl: cc, InRecovery: e.inRecovery}
}
