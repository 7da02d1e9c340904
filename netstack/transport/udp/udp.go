// Package udp is UDP (RFC 768) on the stack: port demultiplexing, checksums, and
// socket-like endpoints with bind, connect, ReadFrom/WriteTo and deadlines. The net.PacketConn
// adapter is in adapters/gonet.
package udp

import (
	"errors"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"goxen/netstack/buffer"
	"goxen/netstack/header"
	"goxen/netstack/stack"
)

// Errors returned by endpoints.
var (
	ErrPortInUse     = errors.New("udp: address already in use")
	ErrClosed        = errors.New("udp: use of closed endpoint")
	ErrNotConnected  = errors.New("udp: endpoint not connected")
	ErrMessageTooBig = errors.New("udp: message too long")
	ErrNoPorts       = errors.New("udp: no free ephemeral port")
	// ErrAddrFamily: an IPv6 destination for an endpoint bound to an IPv4 address (or
	// 0.0.0.0), or the other way round. An endpoint bound to :: sends to both.
	ErrAddrFamily = errors.New("udp: destination's address family does not match the bound address")
	// ErrConnRefused is what a connected endpoint's next read returns after an ICMP port
	// unreachable from its peer (as Linux's ECONNREFUSED).
	ErrConnRefused error = syscall.ECONNREFUSED
	// ErrUnreachable is the same for the other destination-unreachable codes.
	ErrUnreachable error = syscall.EHOSTUNREACH
)

// MaxPayload is the largest datagram payload over IPv4 (also the limit over IPv6 here).
const MaxPayload = header.IPv4MaxTotalLen - header.IPv4MinSize - header.UDPMinSize

// DefaultReceiveBuffer is an endpoint's receive queue limit in bytes held: each datagram
// counts its packet's size (buffer.Packet.Size, about 2 KiB for one that came in a frame),
// as Linux counts an skb's truesize against SO_RCVBUF.
const DefaultReceiveBuffer = 256 << 10

const ephemeralFirst, ephemeralLast = 49152, 65535

// Protocol is the UDP layer of one stack.
type Protocol struct {
	s     *stack.Stack
	mu    sync.Mutex
	ports map[uint16][]*Endpoint
	next  uint16
}

// New creates the UDP layer and registers it with s.
func New(s *stack.Stack) *Protocol {
	p := &Protocol{s: s, ports: make(map[uint16][]*Endpoint), next: ephemeralFirst + uint16(time.Now().UnixNano()%1000)}
	s.RegisterTransport(header.UDPProtocolNumber, p)
	return p
}

// Stack returns the stack the protocol runs on.
func (pr *Protocol) Stack() *stack.Stack { return pr.s }

type datagram struct {
	from netip.AddrPort
	p    *buffer.Packet // positioned at the payload
}

// Endpoint is a UDP socket.
type Endpoint struct {
	pr     *Protocol
	local  netip.AddrPort
	nic    stack.NICID
	v6only bool           // on ::, IPv6 only (IPV6_V6ONLY)
	remote netip.AddrPort // valid once connected

	mu       sync.Mutex
	queue    []datagram // queue[qhead:] waits to be read; the array is reused (no allocation per datagram)
	qhead    int
	qbytes   int
	maxBytes int
	notify   chan struct{}     // capacity 1: a datagram arrived or the endpoint closed
	polling  stack.PollWaiters // readers reading the device while they wait
	closed   bool
	softErr  error // from an ICMP error, returned once by the next read (connected only)
	rd, wd   *stack.Deadline
}

// Bind opens an endpoint on local (an unspecified address means any local address; port 0
// picks an ephemeral port). nic, if nonzero, binds it to that NIC (as SO_BINDTODEVICE).
// An endpoint on :: takes both families (BindV6Only: IPv6 only).
func (pr *Protocol) Bind(local netip.AddrPort, nic stack.NICID) (*Endpoint, error) {
	return pr.bind(local, nic, false)
}

// BindV6Only is Bind for a socket with IPV6_V6ONLY set: on ::, it takes IPv6 only.
func (pr *Protocol) BindV6Only(local netip.AddrPort, nic stack.NICID) (*Endpoint, error) {
	return pr.bind(local, nic, true)
}

func (pr *Protocol) bind(local netip.AddrPort, nic stack.NICID, v6only bool) (*Endpoint, error) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	port := local.Port()
	if port == 0 {
		for range ephemeralLast - ephemeralFirst + 1 {
			pr.next++
			if pr.next < ephemeralFirst {
				pr.next = ephemeralFirst
			}
			if len(pr.ports[pr.next]) == 0 {
				port = pr.next
				break
			}
		}
		if port == 0 {
			return nil, ErrNoPorts
		}
	}
	addr := local.Addr().Unmap()
	if !addr.IsValid() {
		addr = netip.IPv4Unspecified()
	}
	for _, o := range pr.ports[port] {
		sameNIC := o.nic == nic || o.nic == 0 || nic == 0
		if sameNIC && stack.BindConflict(o.local.Addr(), o.v6only, addr, v6only) {
			return nil, ErrPortInUse
		}
	}
	e := &Endpoint{pr: pr, local: netip.AddrPortFrom(addr, port), nic: nic, v6only: v6only, maxBytes: DefaultReceiveBuffer,
		notify: make(chan struct{}, 1), rd: stack.NewDeadline(), wd: stack.NewDeadline()}
	pr.ports[port] = append(pr.ports[port], e)
	return e, nil
}

// HandlePacket is the stack.TransportHandler: validate, then queue on the best-matching
// endpoint (connected > bound address > wildcard), or on every match for a broadcast.
func (pr *Protocol) HandlePacket(info stack.PacketInfo, p *buffer.Packet) bool {
	st := pr.s.Stats()
	u := header.UDP(p.Bytes())
	if !u.Valid() {
		st.UDP.InErrors.Inc()
		p.Release()
		return true
	}
	// A device that verified the checksum, or that carries the host's own datagram with its
	// checksum left partial, says so (buffer.Offload.CsumValid).
	if !p.Offload.CsumValid && !u.ChecksumValid(info.Src, info.Dst) {
		st.UDP.InCsumErrors.Inc()
		st.UDP.InErrors.Inc()
		p.Release()
		return true
	}
	from := netip.AddrPortFrom(info.Src, u.SrcPort())
	dport := u.DstPort()
	p.Trim(int(u.Length()))

	pr.mu.Lock()
	var best *Endpoint
	bestScore := -1
	var few [4]*Endpoint // the matches, on the stack unless a broadcast reaches more
	all := few[:0]
	for _, e := range pr.ports[dport] {
		if e.nic != 0 && e.nic != info.NIC {
			continue
		}
		score := 0
		if !stack.Accepts(e.local.Addr(), e.v6only, info.Dst) {
			continue
		}
		if la := e.local.Addr(); !la.IsUnspecified() {
			if la != info.Dst && !info.Broadcast {
				continue
			}
			score++
		}
		if e.remote.IsValid() {
			if e.remote != from {
				continue
			}
			score += 2
		}
		all = append(all, e)
		if score > bestScore {
			best, bestScore = e, score
		}
	}
	pr.mu.Unlock()
	if best == nil {
		st.UDP.NoPorts.Inc()
		return false // the stack quotes the datagram, header included, in its ICMP error
	}
	p.Consume(header.UDPMinSize)
	if info.Broadcast && len(all) > 1 {
		for _, e := range all[1:] {
			e.deliver(from, p.Clone())
		}
		all[0].deliver(from, p)
		return true
	}
	best.deliver(from, p)
	return true
}

// HandleError is the stack.ErrorHandler: a destination unreachable about a datagram from a
// connected endpoint to its peer fails the endpoint's next read (unconnected endpoints ignore
// ICMP errors, as on Linux).
func (pr *Protocol) HandleError(ie stack.ICMPError) {
	if ie.Type != header.ICMPv4DstUnreachable {
		return
	}
	u := header.UDP(ie.Transport)
	err := ErrUnreachable
	if ie.Code == header.ICMPv4PortUnreachable {
		err = ErrConnRefused
	}
	remote := netip.AddrPortFrom(ie.Dst, u.DstPort())
	pr.mu.Lock()
	var hit []*Endpoint
	for _, e := range pr.ports[u.SrcPort()] {
		if e.remote == remote {
			hit = append(hit, e)
		}
	}
	pr.mu.Unlock()
	for _, e := range hit {
		e.mu.Lock()
		e.softErr = err
		e.mu.Unlock()
		e.signal()
	}
}

func (e *Endpoint) deliver(from netip.AddrPort, p *buffer.Packet) {
	st := e.pr.s.Stats()
	e.mu.Lock()
	// The queue holds whole packets: it is bounded (and charged to the stack's budget) by
	// their size, not their payload, so that empty datagrams are bounded too.
	size := p.Size()
	if e.closed || e.qbytes+size > e.maxBytes || !e.pr.s.Budget().TryCharge(size) {
		e.mu.Unlock()
		st.UDP.RcvbufErrors.Inc()
		p.Release()
		return
	}
	if len(e.queue) == cap(e.queue) && e.qhead >= len(e.queue)/2 {
		// Move the waiting datagrams down rather than grow the array.
		n := copy(e.queue, e.queue[e.qhead:])
		clear(e.queue[n:])
		e.queue, e.qhead = e.queue[:n], 0
	}
	e.queue = append(e.queue, datagram{from, p})
	e.qbytes += size
	e.mu.Unlock()
	st.UDP.InDatagrams.Inc()
	e.signal()
}

// ReadFrom waits for a datagram, copies its payload into b (truncating like recvfrom) and
// returns the payload length copied and the sender. It fails with os.ErrDeadlineExceeded
// when the read deadline passes and ErrClosed once the endpoint is closed.
func (e *Endpoint) ReadFrom(b []byte) (int, netip.AddrPort, error) {
	// As in Go's poller: a closed endpoint fails first, then a deadline in the past, even
	// with data queued.
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return 0, netip.AddrPort{}, ErrClosed
	}
	if e.rd.Passed() {
		return 0, netip.AddrPort{}, os.ErrDeadlineExceeded
	}
	for {
		e.mu.Lock()
		if e.qhead < len(e.queue) {
			d := e.queue[e.qhead]
			e.queue[e.qhead] = datagram{}
			e.qhead++
			if e.qhead == len(e.queue) {
				e.queue, e.qhead = e.queue[:0], 0
			}
			e.qbytes -= d.p.Size()
			e.pr.s.Budget().Release(d.p.Size())
			more := e.qhead < len(e.queue)
			e.mu.Unlock()
			if more {
				e.signal()
			}
			n := copy(b, d.p.Bytes())
			d.p.Release()
			return n, d.from, nil
		}
		closed, soft := e.closed, e.softErr
		e.softErr = nil
		e.mu.Unlock()
		if closed {
			e.signal() // the next reader waiting (one wake per change) ends too
			return 0, netip.AddrPort{}, ErrClosed
		}
		if soft != nil {
			return 0, netip.AddrPort{}, soft
		}
		if e.rd.Passed() {
			return 0, netip.AddrPort{}, os.ErrDeadlineExceeded
		}
		if e.polling.Wait(e.pr.s, e.notify, e.rd.When()) {
			continue // read the device here rather than be handed the datagram
		}
		select {
		case <-e.notify:
		case <-e.rd.Wait():
			return 0, netip.AddrPort{}, os.ErrDeadlineExceeded
		}
	}
}

// signal tells a reader waiting that something changed (a datagram, an error, Close),
// and kicks it if it is reading the device itself (link.Poller).
func (e *Endpoint) signal() {
	select {
	case e.notify <- struct{}{}:
	default:
	}
	e.polling.Kick(e.pr.s)
}

// WriteTo sends b as one datagram to dst.
func (e *Endpoint) WriteTo(b []byte, dst netip.AddrPort) (int, error) {
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return 0, ErrClosed
	}
	if e.wd.Passed() {
		return 0, os.ErrDeadlineExceeded
	}
	if len(b) > MaxPayload {
		return 0, ErrMessageTooBig
	}
	s := e.pr.s
	st := s.Stats()
	dst = netip.AddrPortFrom(dst.Addr().Unmap(), dst.Port())
	r, err := s.FindRoute(dst.Addr(), e.nic)
	if err != nil {
		st.UDP.OutErrors.Inc()
		return 0, err
	}
	if la := e.local.Addr(); !la.IsUnspecified() {
		if la.Is4() != dst.Addr().Is4() {
			st.UDP.OutErrors.Inc()
			return 0, ErrAddrFamily
		}
		r.Src = la
	} else if la.Is4() && !dst.Addr().Is4() || e.v6only && dst.Addr().Is4() {
		st.UDP.OutErrors.Inc()
		return 0, ErrAddrFamily
	}
	n := header.UDPMinSize + len(b)
	p := buffer.New(buffer.Headroom, n)
	u := header.UDP(p.Extend(n))
	copy(u[header.UDPMinSize:], b)
	u.Encode(&header.UDPFields{SrcPort: e.local.Port(), DstPort: dst.Port(), Length: uint16(n)})
	u.SetChecksum(r.Src, dst.Addr())
	r.Protocol = header.UDPProtocolNumber
	if err := s.WriteIP(r, p); err != nil {
		st.UDP.OutErrors.Inc()
		return 0, err
	}
	st.UDP.OutDatagrams.Inc()
	return len(b), nil
}

// Connect fixes the peer: Read and Write use it and only its datagrams are received. An
// endpoint bound to the unspecified address takes the route's source address as its local
// address (as connect(2) does). It fails if there is no route to remote.
func (e *Endpoint) Connect(remote netip.AddrPort) error {
	remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
	r, err := e.pr.s.FindRoute(remote.Addr(), e.nic)
	if err != nil {
		return err
	}
	e.pr.mu.Lock()
	e.remote = netip.AddrPortFrom(remote.Addr().WithZone(""), remote.Port()) // datagrams carry no zone
	if r.NIC != 0 && remote.Addr().Zone() != "" {
		e.nic = r.NIC // the zone chose the NIC: keep sending through it
	}
	if e.local.Addr().IsUnspecified() && !r.Broadcast {
		e.local = netip.AddrPortFrom(r.Src, e.local.Port())
	}
	e.pr.mu.Unlock()
	return nil
}

// Read reads a datagram from the connected peer.
func (e *Endpoint) Read(b []byte) (int, error) {
	n, _, err := e.ReadFrom(b)
	return n, err
}

// Write sends b to the connected peer.
func (e *Endpoint) Write(b []byte) (int, error) {
	e.pr.mu.Lock()
	r := e.remote
	e.pr.mu.Unlock()
	if !r.IsValid() {
		return 0, ErrNotConnected
	}
	return e.WriteTo(b, r)
}

// LocalAddr is the bound address and port.
func (e *Endpoint) LocalAddr() netip.AddrPort {
	e.pr.mu.Lock()
	defer e.pr.mu.Unlock()
	return e.local
}

// RemoteAddr is the connected peer (invalid if not connected).
func (e *Endpoint) RemoteAddr() netip.AddrPort {
	e.pr.mu.Lock()
	defer e.pr.mu.Unlock()
	return e.remote
}

// SetReadDeadline, SetWriteDeadline and SetDeadline behave as net.Conn's.
func (e *Endpoint) SetReadDeadline(t time.Time) error {
	e.rd.Set(t)
	e.polling.Kick(e.pr.s)
	return nil
}
func (e *Endpoint) SetWriteDeadline(t time.Time) error { e.wd.Set(t); return nil }
func (e *Endpoint) SetDeadline(t time.Time) error {
	e.rd.Set(t)
	e.wd.Set(t)
	e.polling.Kick(e.pr.s)
	return nil
}

// SetReceiveBuffer sets the receive queue limit in payload bytes.
func (e *Endpoint) SetReceiveBuffer(n int) {
	e.mu.Lock()
	e.maxBytes = n
	e.mu.Unlock()
}

// Close unbinds the endpoint, drops queued datagrams and wakes readers.
func (e *Endpoint) Close() error {
	e.pr.mu.Lock()
	l := e.pr.ports[e.local.Port()]
	for i, o := range l {
		if o == e {
			e.pr.ports[e.local.Port()] = append(l[:i:i], l[i+1:]...)
			break
		}
	}
	e.pr.mu.Unlock()
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return ErrClosed
	}
	e.closed = true
	for _, d := range e.queue[e.qhead:] {
		e.pr.s.Budget().Release(d.p.Size())
		d.p.Release()
	}
	e.queue, e.qhead, e.qbytes = nil, 0, 0
	e.mu.Unlock()
	e.signal()
	return nil
}
