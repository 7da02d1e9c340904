// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build xen

// Package xenstore is a client for the xenstore daemon over the shared ring page
// that the toolstack gives every domU (xen/include/public/io/xs_wire.h).
//
// Requests go into the req ring, replies come back in the rsp ring, each message a
// 16-byte header {type, req_id, tx_id, len} and at most 4096 bytes of payload. One
// reader goroutine owns the ring's event channel: it routes replies to their
// requests by req_id and watch events to their watchers by token, and wakes writers
// waiting for ring space.
//
// Suspend and resume (internal/xen.OnSuspend): requests wait from suspend to resume; in a
// restored domain the client connects to the new ring and sets its watches up again, so
// Watch values and the Client itself stay valid.
package xenstore

import (
	"errors"
	"internal/xen"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Message types (enum xsd_sockmsg_type).
const (
	typeDirectory  = 1
	typeRead       = 2
	typeWatch      = 4
	typeUnwatch    = 5
	typeTxStart    = 6
	typeTxEnd      = 7
	typeWrite      = 11
	typeMkdir      = 12
	typeRm         = 13
	typeWatchEvent = 15
	typeError      = 16
	typeBroken     = 1 << 31 // not on the wire: the reader stopped (breakClient)
)

// Ring layout (struct xenstore_domain_interface).
const (
	ringSize   = 1024 // XENSTORE_RING_SIZE
	offReq     = 0
	offRsp     = 1024
	offReqCons = 2048
	offReqProd = 2052
	offRspCons = 2056
	offRspProd = 2060
	headerSize = 16
	payloadMax = 4096 // XENSTORE_PAYLOAD_MAX
)

// ErrNoXenstore is returned when the domain has no xenstore ring (e.g. a bare dom0).
var ErrNoXenstore = errors.New("xenstore: this domain has no xenstore ring")

// ErrBroken is returned once xenstored broke the ring protocol (a producer index past the
// ring, a message longer than XENSTORE_PAYLOAD_MAX): nothing more is read from the ring.
var ErrBroken = errors.New("xenstore: xenstored broke the ring protocol")

// requestTimeout bounds the wait for a reply; a request unanswered by then fails with
// ETIMEDOUT (a reply that comes later is dropped).
var requestTimeout = 30 * time.Second

// maxWatchQueue bounds the changes queued for one watch and not yet taken by Next; past it
// the oldest are dropped (a watch says "look again", so a consumer loses no state by it).
const maxWatchQueue = 64

// Error is an error reply from xenstored, e.g. "ENOENT".
type Error struct {
	Op, Path, Errno string
}

func (e *Error) Error() string { return "xenstore " + e.Op + " " + e.Path + ": " + e.Errno }

// Is lets errors.Is(err, ErrNotExist) match ENOENT replies.
func (e *Error) Is(target error) bool { return target == ErrNotExist && e.Errno == "ENOENT" }

// ErrNotExist matches a reply saying the path does not exist.
var ErrNotExist = errors.New("xenstore: no such path")

type reply struct {
	typ     uint32
	payload []byte
}

// Client talks to xenstored. It is safe for concurrent use.
type Client struct {
	wmu     sync.Mutex    // one request written at a time
	space   chan struct{} // the reader saw the ring move: writers retry
	mu      sync.Mutex
	ring    uintptr       // under mu: the ring and its port change when the domain is restored
	port    xen.Port      //
	gen     uint32        // under mu: connections so far (a restore makes a new one)
	paused  chan struct{} // under mu: non-nil from suspend to resume, closed by resume
	pending map[uint32]chan reply
	watches map[string]*Watch
	nextID  uint32
	nextTok atomic.Uint32
	broken  atomic.Bool // the reader stopped (ErrBroken)
}

var (
	defaultOnce   sync.Once
	defaultClient *Client
	defaultErr    error
)

// Default returns the domain's xenstore client, starting it on first use.
func Default() (*Client, error) {
	defaultOnce.Do(func() {
		ring, port, ok := xen.Store()
		if !ok {
			defaultErr = ErrNoXenstore
			return
		}
		defaultClient = newClient(ring, port)
		xen.OnSuspend(defaultClient.suspend, defaultClient.resume)
	})
	return defaultClient, defaultErr
}

func newClient(ring uintptr, port xen.Port) *Client {
	c := &Client{
		ring:    ring,
		port:    port,
		space:   make(chan struct{}, 1),
		pending: make(map[uint32]chan reply),
		watches: make(map[string]*Watch),
	}
	go c.reader()
	return c
}

func (c *Client) u32(off uintptr) *uint32 { return ringU32(c.ring, off) }

func ringU32(ring, off uintptr) *uint32 { return (*uint32)(unsafe.Pointer(ring + off)) }

// conn waits while the client is suspended and returns the ring, its port and the
// connection's generation.
func (c *Client) conn() (uintptr, xen.Port, uint32) {
	c.mu.Lock()
	for c.paused != nil {
		ch := c.paused
		c.mu.Unlock()
		<-ch
		c.mu.Lock()
	}
	ring, port, gen := c.ring, c.port, c.gen
	c.mu.Unlock()
	return ring, port, gen
}

// suspend (internal/xen.Suspend) holds new requests back and waits (at most
// suspendDrain) for the replies to those in flight: xenstored answers nothing in a restored
// domain.
func (c *Client) suspend() {
	c.mu.Lock()
	c.paused = make(chan struct{})
	c.mu.Unlock()
	for end := time.Now().Add(suspendDrain); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		c.mu.Lock()
		n := len(c.pending)
		c.mu.Unlock()
		if n == 0 {
			return
		}
	}
	println("xenstore: suspending with requests unanswered after", suspendDrain.String())
}

const suspendDrain = 5 * time.Second

// resume lets requests go again. In a new domain the connection is new
// (start_info's ring and port, indices reset by xenstored, no watches): requests still
// unanswered fail with EAGAIN, and every watch is set up again (each fires once, as a new
// watch does).
func (c *Client) resume(newDomain bool) {
	var pending map[uint32]chan reply
	c.mu.Lock()
	if newDomain {
		ring, port, ok := xen.Store()
		if ok {
			c.ring, c.port = ring, port
		}
		c.gen++
		pending, c.pending = c.pending, make(map[uint32]chan reply)
	}
	close(c.paused)
	c.paused = nil
	watches := make([]*Watch, 0, len(c.watches))
	for _, w := range c.watches {
		watches = append(watches, w)
	}
	c.mu.Unlock()
	if !newDomain {
		return
	}
	for _, ch := range pending {
		ch <- reply{typ: typeError, payload: []byte("EAGAIN")}
	}
	c.port.Unmask()
	c.port.Notify()
	for _, w := range watches {
		if _, err := c.request(typeWatch, 0, "watch", w.path, cstr(w.path, w.token)); err != nil {
			println("xenstore: watch", w.path, "lost in the restore:", err.Error())
		}
	}
}

// reader runs for the life of the domain, draining the rsp ring. Nothing xenstored writes
// is trusted: a producer more than a ring ahead or a header announcing more than
// XENSTORE_PAYLOAD_MAX bytes stops the client (every waiting request fails with ErrBroken),
// so the buffer never holds more than one ring and one message.
func (c *Client) reader() {
	var buf []byte
	var gen uint32
	for {
		ring, port, g := c.conn()
		if g != gen {
			buf, gen = nil, g // a new connection: what the old one left is void
		}
		u32 := func(off uintptr) *uint32 { return ringU32(ring, off) }
		cons := atomic.LoadUint32(u32(offRspCons))
		prod := atomic.LoadUint32(u32(offRspProd))
		if prod-cons > ringSize {
			c.breakClient()
			return
		}
		for ; cons != prod; cons++ {
			buf = append(buf, *(*byte)(unsafe.Pointer(ring + offRsp + uintptr(cons%ringSize))))
		}
		atomic.StoreUint32(u32(offRspCons), cons)
		port.Notify()
		for len(buf) >= headerSize {
			n := le32(buf[12:])
			if n > payloadMax {
				c.breakClient()
				return
			}
			if len(buf) < headerSize+int(n) {
				break
			}
			msg := make([]byte, n)
			copy(msg, buf[headerSize:])
			c.dispatch(le32(buf[0:]), le32(buf[4:]), msg)
			buf = buf[headerSize+int(n):]
		}
		if len(buf) == 0 {
			buf = nil
		}
		select {
		case c.space <- struct{}{}:
		default:
		}
		if atomic.LoadUint32(u32(offRspProd)) == cons {
			port.Wait() // returns at once if the domain was restored meanwhile (a new port)
		}
	}
}

// breakClient stops the client after xenstored broke the ring protocol.
func (c *Client) breakClient() {
	println("xenstore: xenstored broke the ring protocol: client stopped")
	c.broken.Store(true)
	c.mu.Lock()
	pending := c.pending
	c.pending = make(map[uint32]chan reply)
	c.mu.Unlock()
	for _, ch := range pending {
		ch <- reply{typ: typeBroken}
	}
	select {
	case c.space <- struct{}{}:
	default:
	}
}

func (c *Client) dispatch(typ, id uint32, payload []byte) {
	if typ == typeWatchEvent {
		parts := strings.Split(string(payload), "\x00")
		if len(parts) < 2 {
			return
		}
		c.mu.Lock()
		w := c.watches[parts[1]]
		c.mu.Unlock()
		if w != nil {
			w.post(parts[0])
		}
		return
	}
	c.mu.Lock()
	ch := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if ch != nil {
		ch <- reply{typ, payload}
	}
}

// write copies b into the req ring, waiting for xenstored to make room.
func (c *Client) write(b []byte) {
	c.mu.Lock()
	ring, port := c.ring, c.port
	c.mu.Unlock()
	for len(b) > 0 {
		cons := atomic.LoadUint32(ringU32(ring, offReqCons))
		prod := atomic.LoadUint32(ringU32(ring, offReqProd))
		n := 0
		for ; n < len(b) && prod-cons < ringSize; n++ {
			*(*byte)(unsafe.Pointer(ring + offReq + uintptr(prod%ringSize))) = b[n]
			prod++
		}
		atomic.StoreUint32(ringU32(ring, offReqProd), prod)
		port.Notify()
		b = b[n:]
		if len(b) > 0 {
			<-c.space
			if c.broken.Load() {
				return
			}
		}
	}
}

func (c *Client) request(typ, tx uint32, op, path string, payload []byte) ([]byte, error) {
	if len(payload) > payloadMax {
		return nil, &Error{op, path, "E2BIG"}
	}
	ch := make(chan reply, 1)
	c.mu.Lock()
	for c.paused != nil { // suspended: wait for the resume
		p := c.paused
		c.mu.Unlock()
		<-p
		c.mu.Lock()
	}
	if c.broken.Load() {
		c.mu.Unlock()
		return nil, ErrBroken
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = ch
	c.mu.Unlock()

	msg := make([]byte, headerSize, headerSize+len(payload))
	put32(msg[0:], typ)
	put32(msg[4:], id)
	put32(msg[8:], tx)
	put32(msg[12:], uint32(len(payload)))
	msg = append(msg, payload...)
	c.wmu.Lock()
	c.write(msg)
	c.wmu.Unlock()

	var r reply
	t := time.NewTimer(requestTimeout)
	select {
	case r = <-ch:
		t.Stop()
	case <-t.C:
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
		return nil, &Error{op, path, "ETIMEDOUT"}
	}
	if r.typ == typeBroken {
		return nil, ErrBroken
	}
	if r.typ == typeError {
		return nil, &Error{op, path, strings.TrimRight(string(r.payload), "\x00")}
	}
	return r.payload, nil
}

func cstr(s ...string) []byte {
	var b []byte
	for _, x := range s {
		b = append(b, x...)
		b = append(b, 0)
	}
	return b
}

// Read returns the value at path (relative paths are under /local/domain/<id>).
func (c *Client) Read(path string) (string, error) {
	b, err := c.request(typeRead, 0, "read", path, cstr(path))
	return string(b), err
}

// Write sets path to value, creating it if needed.
func (c *Client) Write(path, value string) error {
	_, err := c.request(typeWrite, 0, "write", path, append([]byte(path+"\x00"), value...))
	return err
}

// Mkdir creates path.
func (c *Client) Mkdir(path string) error {
	_, err := c.request(typeMkdir, 0, "mkdir", path, cstr(path))
	return err
}

// Remove deletes path and everything under it.
func (c *Client) Remove(path string) error {
	_, err := c.request(typeRm, 0, "rm", path, cstr(path))
	return err
}

// Directory lists the children of path.
func (c *Client) Directory(path string) ([]string, error) {
	b, err := c.request(typeDirectory, 0, "directory", path, cstr(path))
	if err != nil {
		return nil, err
	}
	s := strings.TrimRight(string(b), "\x00")
	if s == "" {
		return nil, nil
	}
	return strings.Split(s, "\x00"), nil
}

// Tx is a xenstore transaction.
type Tx struct {
	c  *Client
	id uint32
}

// Begin starts a transaction.
func (c *Client) Begin() (*Tx, error) {
	b, err := c.request(typeTxStart, 0, "transaction_start", "", cstr(""))
	if err != nil {
		return nil, err
	}
	id := uint32(0)
	for _, ch := range strings.TrimRight(string(b), "\x00") {
		if ch < '0' || ch > '9' {
			return nil, &Error{"transaction_start", "", "bad id " + string(b)}
		}
		id = id*10 + uint32(ch-'0')
	}
	return &Tx{c, id}, nil
}

// Read reads path inside the transaction.
func (t *Tx) Read(path string) (string, error) {
	b, err := t.c.request(typeRead, t.id, "read", path, cstr(path))
	return string(b), err
}

// Write writes path inside the transaction.
func (t *Tx) Write(path, value string) error {
	_, err := t.c.request(typeWrite, t.id, "write", path, append([]byte(path+"\x00"), value...))
	return err
}

// Commit ends the transaction; an error with Errno "EAGAIN" means retry it.
func (t *Tx) Commit() error {
	_, err := t.c.request(typeTxEnd, t.id, "transaction_end", "", cstr("T"))
	return err
}

// Abort ends the transaction without applying it.
func (t *Tx) Abort() error {
	_, err := t.c.request(typeTxEnd, t.id, "transaction_end", "", cstr("F"))
	return err
}

// Watch delivers the paths that changed under a watched path. xenstored fires each
// watch once when it is set up.
type Watch struct {
	c     *Client
	path  string
	token string

	mu      sync.Mutex
	queue   []string
	notify  chan struct{}
	stopped chan struct{} // closed by Stop
	stop    sync.Once
}

// Watch starts watching path.
func (c *Client) Watch(path string) (*Watch, error) {
	w := &Watch{c: c, path: path, notify: make(chan struct{}, 1), stopped: make(chan struct{})}
	w.token = "go" + strconv.FormatUint(uint64(c.nextTok.Add(1)), 10)
	c.mu.Lock()
	c.watches[w.token] = w
	c.mu.Unlock()
	if _, err := c.request(typeWatch, 0, "watch", path, cstr(path, w.token)); err != nil {
		c.mu.Lock()
		delete(c.watches, w.token)
		c.mu.Unlock()
		return nil, err
	}
	return w, nil
}

func (w *Watch) post(path string) {
	w.mu.Lock()
	if len(w.queue) >= maxWatchQueue {
		copy(w.queue, w.queue[1:])
		w.queue = w.queue[:len(w.queue)-1]
	}
	w.queue = append(w.queue, path)
	w.mu.Unlock()
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

// Next blocks until the watch fires and returns the path that changed, or "" once the
// watch is stopped.
func (w *Watch) Next() string {
	for {
		w.mu.Lock()
		if len(w.queue) > 0 {
			p := w.queue[0]
			w.queue = w.queue[1:]
			w.mu.Unlock()
			return p
		}
		w.mu.Unlock()
		select {
		case <-w.notify:
		case <-w.stopped:
			return ""
		}
	}
}

// Stop removes the watch; Next returns "" from then on.
func (w *Watch) Stop() error {
	w.c.mu.Lock()
	delete(w.c.watches, w.token)
	w.c.mu.Unlock()
	w.stop.Do(func() { close(w.stopped) })
	_, err := w.c.request(typeUnwatch, 0, "unwatch", w.path, cstr(w.path, w.token))
	return err
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func put32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}
