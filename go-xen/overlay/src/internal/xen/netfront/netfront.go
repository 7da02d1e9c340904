// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build xen

// Package netfront drives Xen virtual network interfaces (vifs) from a domU: the
// frontend half of xen/include/public/io/netif.h. Each vif in the domain's xenstore
// directory device/vif/<n> becomes one Device that sends and receives whole Ethernet
// frames; it is the link layer the network stack sits on.
//
// API:
//
//	Devices() ([]int, error)       vif indices present in xenstore
//	Open(n int) (*Device, error)   connect vif n to its backend
//	(*Device).MAC() [6]byte        hardware address from the vif's "mac" node
//	(*Device).MTU() int            1500 (payload; frames are up to MTU+14 bytes)
//	(*Device).Send(frame) error    queue one frame; blocks while the tx ring is full
//	(*Device).Receive() ([]byte, error)  next received frame; blocks until one arrives
//	(*Device).SetReceiver(f)       deliver frames to f instead of Receive
//	(*Device).Stats() Stats        counters
//	(*Device).Close() error        disconnect from the backend
//
// Handshake (docs/misc/xenstore-paths.pandoc, netif.h): read backend, backend-id
// and mac; wait for the backend to reach InitWait; share one tx and one rx ring
// page and allocate an event channel to the backend; write tx-ring-ref,
// rx-ring-ref, event-channel, request-rx-copy=1 (the backend copies into our pages),
// feature-rx-notify=1, feature-no-csum-offload=1 (frames arrive with complete
// checksums) and state=Connected in one transaction; wait for the backend's state
// to become Connected (a xenstore watch, no polling).
//
// Buffers: each of the 256 rx and 256 tx ring slots owns one page, granted to the
// backend once at Open (rx writable, tx read-only) and reused for every frame, so
// there is no per-packet grant traffic. Send copies the frame into a free tx page;
// received frames are copied out of the rx page before it goes back to the backend.
//
// Events: one goroutine per device blocks in the event channel's Wait. When the port
// fires it reclaims tx responses (waking blocked senders) and kicks a second
// goroutine that consumes rx responses, delivers the frames and re-posts the rx
// pages; response event thresholds are re-armed with the ring protocol's final
// check, so nothing is missed and nothing spins. A sender finding no free tx slot
// blocks until the event goroutine frees one (a receiver callback may send too);
// frames are never dropped on send. On receive, a frame is dropped (and counted) only when Receive's queue of
// rxQueueLen frames is full because nobody reads it.
//
// Shutdown: Open registers Close with xen.AtShutdown, so a toolstack shutdown
// request disconnects every device (Closing, then Closed, each acknowledged by the
// backend) before the domain ends.
//
// Suspend (xl save, migration; resume.go): the rings stop until the domain runs again; in
// a restored domain the device connects to its new backend as at Open, and the frames in
// flight at the suspend are lost (TCP sends them again).
package netfront

import (
	"errors"
	"internal/xen"
	"internal/xen/gnttab"
	"internal/xen/xenstore"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

const (
	mtu        = 1500
	maxFrame   = mtu + 14 + 4 // Ethernet header and an 802.1Q tag
	txSlots    = xen.NetifTxRingSize
	rxSlots    = xen.NetifRxRingSize
	rxQueueLen = 1024

	stateTimeout = 10 * time.Second
)

var (
	// ErrClosed is returned by Send and Receive after Close.
	ErrClosed = errors.New("netfront: device closed")
	// ErrFrameSize is returned by Send for an empty frame or one longer than MTU+18.
	ErrFrameSize = errors.New("netfront: frame size out of range")
	// ErrBroken is returned by Send once the backend broke the ring protocol.
	ErrBroken = errors.New("netfront: backend broke the ring protocol; device stopped")
)

// Stats counts a device's traffic.
type Stats struct {
	RxFrames, RxBytes uint64
	RxErrors          uint64 // responses with an error status or a bad offset/length
	RxDropped         uint64 // frames dropped because the Receive queue was full
	TxFrames, TxBytes uint64
	TxErrors          uint64 // tx responses with an error status
	TxWaits           uint64 // times Send blocked on a full ring
	Events            uint64 // event channel wake-ups
	// BadResponses counts responses the backend should not have sent (an id out of range
	// or not in flight, flags never negotiated); each is dropped. Broken is set once the
	// backend moved a ring's producer past what it was given: the device stops.
	BadResponses uint64
	Broken       bool
	Restores     uint64 // reconnections to a new backend after the domain was restored
}

// Device is one connected vif.
type Device struct {
	index     int
	front     string // device/vif/<n>
	back      string // backend directory
	backendID uint16
	mac       [6]byte
	port      xen.Port
	xs        *xenstore.Client

	backendChanged chan struct{}   // the backend's state node changed
	backendWatch   *xenstore.Watch // on its state node
	restores       atomic.Uint64   // reconnections after a restore (resume.go)
	rxMu           sync.Mutex      // held while rx responses are consumed; and from suspend to resume

	ringPages *gnttab.Pages // 0: tx sring, 1: rx sring
	rings     [2]uintptr    // their addresses (tests point them at plain memory)
	rxPage    func(id int) []byte
	ringRefs  [2]gnttab.Ref
	txBufs    *gnttab.Pages
	rxBufs    *gnttab.Pages
	txRefs    [txSlots]gnttab.Ref
	rxRefs    [rxSlots]gnttab.Ref

	txMu      sync.Mutex
	txFree    []uint16      // free tx slot ids
	txBusy    [txSlots]bool // slots handed to the backend, not yet answered
	txReqProd uint32
	txRspCons uint32
	txSpace   chan struct{} // signalled when slots were freed

	rxKick    chan struct{} // loop -> rxLoop: the port fired
	rxReqProd uint32
	rxRspCons uint32
	rxPosted  [rxSlots]bool // rx pages handed to the backend, not yet answered

	recvMu sync.Mutex
	recv   func([]byte)
	rxq    chan []byte

	closeOnce sync.Once
	closed    chan struct{}
	closeErr  error

	rxFrames, rxBytes, rxErrors, rxDropped atomic.Uint64
	txFrames, txBytes, txErrors, txWaits   atomic.Uint64
	events, badResponses                   atomic.Uint64
	broken                                 atomic.Bool
}

// Devices returns the indices of the domain's vifs (from xenstore device/vif), sorted.
func Devices() ([]int, error) {
	xs, err := xenstore.Default()
	if err != nil {
		return nil, err
	}
	names, err := xs.Directory("device/vif")
	if err != nil {
		if errors.Is(err, xenstore.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var ids []int
	for _, n := range names {
		if id, err := strconv.Atoi(n); err == nil {
			ids = append(ids, id)
		}
	}
	sort.Ints(ids)
	return ids, nil
}

// Open connects vif index to its backend and starts receiving.
func Open(index int) (*Device, error) {
	xs, err := xenstore.Default()
	if err != nil {
		return nil, err
	}
	d := &Device{
		index:   index,
		front:   "device/vif/" + strconv.Itoa(index),
		xs:      xs,
		txSpace: make(chan struct{}, 1),
		rxKick:  make(chan struct{}, 1),
		rxq:     make(chan []byte, rxQueueLen),
		closed:  make(chan struct{}),
	}
	if err := d.readConfig(); err != nil {
		return nil, err
	}
	if err := d.watchBackend(); err != nil {
		return nil, err
	}
	if _, err := d.waitBackend(func(s int) bool { return s >= xen.XenbusStateInitWait && s <= xen.XenbusStateConnected }); err != nil {
		return nil, err
	}
	if err := d.setupRings(); err != nil {
		return nil, err
	}
	if err := d.publish(); err != nil {
		return nil, err
	}
	if st, err := d.waitBackend(func(s int) bool { return s >= xen.XenbusStateConnected }); err != nil {
		return nil, err
	} else if st != xen.XenbusStateConnected {
		return nil, d.errorf("backend went to state " + strconv.Itoa(st) + " instead of Connected")
	}
	go d.loop()
	d.port.Notify() // the rx ring is already full of requests
	xen.AtShutdown(func() { d.Close() })
	xen.OnSuspend(d.suspend, d.resume)
	return d, nil
}

func (d *Device) errorf(msg string) error {
	return errors.New("netfront: vif " + strconv.Itoa(d.index) + ": " + msg)
}

func (d *Device) readConfig() error {
	var err error
	if d.back, err = d.xs.Read(d.front + "/backend"); err != nil {
		return err
	}
	id, err := d.xs.Read(d.front + "/backend-id")
	if err != nil {
		return err
	}
	n, err := strconv.ParseUint(id, 10, 16)
	if err != nil {
		return d.errorf("bad backend-id " + strconv.Quote(id))
	}
	d.backendID = uint16(n)
	mac, err := d.xs.Read(d.front + "/mac")
	if err != nil {
		return err
	}
	parts := strings.Split(mac, ":")
	if len(parts) != 6 {
		return d.errorf("bad mac " + strconv.Quote(mac))
	}
	for i, p := range parts {
		b, err := strconv.ParseUint(p, 16, 8)
		if err != nil {
			return d.errorf("bad mac " + strconv.Quote(mac))
		}
		d.mac[i] = byte(b)
	}
	return nil
}

func (d *Device) backendState() int {
	s, err := d.xs.Read(d.back + "/state")
	if err != nil {
		return xen.XenbusStateUnknown
	}
	n, _ := strconv.Atoi(s)
	return n
}

// watchBackend starts the device's one watch on the backend's state node; its
// goroutine (alive as long as the domain) turns watch events into wake-ups on
// d.backendChanged.
func (d *Device) watchBackend() error {
	w, err := d.xs.Watch(d.back + "/state")
	if err != nil {
		return err
	}
	if d.backendChanged == nil {
		d.backendChanged = make(chan struct{}, 1)
	}
	d.backendWatch = w
	go func() {
		for {
			if w.Next() == "" {
				return // stopped: the backend moved (resume.go)
			}
			select {
			case d.backendChanged <- struct{}{}:
			default:
			}
		}
	}()
	return nil
}

// waitBackend blocks until ok(backend state) holds, and returns that state; it gives
// up after stateTimeout, and as soon as the backend is Closed when ok does not accept
// Closed.
func (d *Device) waitBackend(ok func(int) bool) (int, error) {
	timeout := time.NewTimer(stateTimeout)
	defer timeout.Stop()
	for {
		st := d.backendState()
		if ok(st) {
			return st, nil
		}
		if st == xen.XenbusStateClosed {
			return st, d.errorf("backend is Closed")
		}
		select {
		case <-d.backendChanged:
		case <-timeout.C:
			return st, d.errorf("timed out waiting for the backend (state " + strconv.Itoa(st) + ")")
		}
	}
}

// Ring layout helpers (xen/include/public/io/ring.h).
func (d *Device) txRing() uintptr { return d.rings[0] }
func (d *Device) rxRing() uintptr { return d.rings[1] }

func u32(a uintptr) *uint32 { return (*uint32)(unsafe.Pointer(a)) }
func u16(a uintptr) *uint16 { return (*uint16)(unsafe.Pointer(a)) }

func txEntry(ring uintptr, i uint32) uintptr {
	return ring + xen.SringRing + uintptr(i%txSlots)*xen.SizeofNetifTxEntry
}

func rxEntry(ring uintptr, i uint32) uintptr {
	return ring + xen.SringRing + uintptr(i%rxSlots)*xen.SizeofNetifRxEntry
}

func (d *Device) setupRings() error {
	d.ringPages = gnttab.AllocPages(2)
	d.txBufs = gnttab.AllocPages(txSlots)
	d.rxBufs = gnttab.AllocPages(rxSlots)
	d.rings = [2]uintptr{d.ringPages.Addr(0), d.ringPages.Addr(1)}
	d.rxPage = d.rxBufs.Bytes
	return d.connectRings()
}

// connectRings initialises both rings, grants them and every buffer page to the backend,
// posts every rx page and allocates the event channel (at Open, and again after a restore,
// when the old grants and port are gone).
func (d *Device) connectRings() error {
	for _, r := range []uintptr{d.txRing(), d.rxRing()} {
		// SHARED_RING_INIT: producers 0, event thresholds 1.
		clear(unsafe.Slice((*byte)(unsafe.Pointer(r)), xen.PageSize))
		*u32(r + xen.SringReqEvent) = 1
		*u32(r + xen.SringRspEvent) = 1
	}
	d.txReqProd, d.txRspCons, d.rxReqProd, d.rxRspCons = 0, 0, 0, 0
	d.txFree = d.txFree[:0]
	d.txBusy = [txSlots]bool{}
	d.rxPosted = [rxSlots]bool{}
	var err error
	for i := range d.ringRefs {
		if d.ringRefs[i], err = gnttab.GrantPage(d.backendID, d.ringPages.Addr(i), false); err != nil {
			return err
		}
	}
	for i := range d.txRefs {
		if d.txRefs[i], err = gnttab.GrantPage(d.backendID, d.txBufs.Addr(i), true); err != nil {
			return err
		}
		d.txFree = append(d.txFree, uint16(i))
	}
	for i := range d.rxRefs {
		if d.rxRefs[i], err = gnttab.GrantPage(d.backendID, d.rxBufs.Addr(i), false); err != nil {
			return err
		}
	}
	select { // wake senders: every slot is free
	case d.txSpace <- struct{}{}:
	default:
	}
	// Every rx page goes to the backend at once.
	ring := d.rxRing()
	for i := uint32(0); i < rxSlots; i++ {
		e := rxEntry(ring, d.rxReqProd)
		*u16(e + xen.NetifRxRequestID) = uint16(i)
		*u32(e + xen.NetifRxRequestGref) = uint32(d.rxRefs[i])
		d.rxPosted[i] = true
		d.rxReqProd++
	}
	atomic.StoreUint32(u32(ring+xen.SringReqProd), d.rxReqProd)
	if d.port, err = xen.AllocUnbound(d.backendID); err != nil {
		return err
	}
	return d.port.Unmask()
}

func (d *Device) publish() error {
	kv := [][2]string{
		{"tx-ring-ref", strconv.Itoa(int(d.ringRefs[0]))},
		{"rx-ring-ref", strconv.Itoa(int(d.ringRefs[1]))},
		{"event-channel", strconv.Itoa(int(d.port.Num()))},
		{"request-rx-copy", "1"},
		{"feature-rx-notify", "1"},
		{"feature-no-csum-offload", "1"},
		{"feature-sg", "0"},
		{"feature-gso-tcpv4", "0"},
		{"feature-gso-tcpv6", "0"},
		{"state", strconv.Itoa(xen.XenbusStateConnected)},
	}
	for attempt := 0; ; attempt++ {
		tx, err := d.xs.Begin()
		if err != nil {
			return err
		}
		for _, e := range kv {
			if err = tx.Write(d.front+"/"+e[0], e[1]); err != nil {
				tx.Abort()
				return err
			}
		}
		err = tx.Commit()
		if err == nil {
			return nil
		}
		var xe *xenstore.Error
		if !errors.As(err, &xe) || xe.Errno != "EAGAIN" || attempt > 100 {
			return err
		}
	}
}

// MAC returns the vif's hardware address.
func (d *Device) MAC() [6]byte { return d.mac }

// MTU returns the largest IP packet a frame can carry (1500).
func (d *Device) MTU() int { return mtu }

// Index returns the vif number (device/vif/<n>).
func (d *Device) Index() int { return d.index }

// Send copies frame (a whole Ethernet frame, without FCS) into a free tx slot and
// hands it to the backend. It blocks while all 256 slots are in flight; it does not
// drop frames.
func (d *Device) Send(frame []byte) error {
	if len(frame) == 0 || len(frame) > maxFrame {
		return ErrFrameSize
	}
	d.txMu.Lock()
	for {
		select {
		case <-d.closed:
			d.txMu.Unlock()
			return ErrClosed
		default:
		}
		if d.broken.Load() {
			d.txMu.Unlock()
			return ErrBroken
		}
		if len(d.txFree) == 0 {
			d.reclaimTx()
		}
		if len(d.txFree) > 0 {
			break
		}
		d.txWaits.Add(1)
		d.txMu.Unlock()
		select {
		case <-d.txSpace:
		case <-d.closed:
		}
		d.txMu.Lock()
	}
	id := d.txFree[len(d.txFree)-1]
	d.txFree = d.txFree[:len(d.txFree)-1]
	d.txBusy[id] = true
	copy(d.txBufs.Bytes(int(id)), frame)
	ring := d.txRing()
	e := txEntry(ring, d.txReqProd)
	*u32(e + xen.NetifTxRequestGref) = uint32(d.txRefs[id])
	*u16(e + xen.NetifTxRequestOffset) = 0
	*u16(e + xen.NetifTxRequestFlags) = 0
	*u16(e + xen.NetifTxRequestID) = id
	*u16(e + xen.NetifTxRequestSize) = uint16(len(frame))
	old := d.txReqProd
	d.txReqProd++
	notify := push(ring, old, d.txReqProd)
	d.txMu.Unlock()
	d.txFrames.Add(1)
	d.txBytes.Add(uint64(len(frame)))
	if notify {
		d.port.Notify()
	}
	return nil
}

// push publishes requests [old, new) and reports whether the backend asked to be
// notified (RING_PUSH_REQUESTS_AND_CHECK_NOTIFY). The atomic store is a full barrier
// on amd64, so req_event is read after req_prod is visible.
func push(ring uintptr, old, new uint32) bool {
	atomic.StoreUint32(u32(ring+xen.SringReqProd), new)
	ev := atomic.LoadUint32(u32(ring + xen.SringReqEvent))
	return new-ev < new-old
}

// reclaimTx frees the slots of answered tx requests; d.txMu is held. Nothing from the
// backend is trusted: a producer index past the requests it was given stops the device, and
// a response whose id is out of range or not in flight is counted and dropped, so that a slot
// is never freed twice (two frames would share a page) and no index leaves its array.
func (d *Device) reclaimTx() {
	if d.broken.Load() {
		return
	}
	ring := d.txRing()
	freed := false
	for {
		prod := atomic.LoadUint32(u32(ring + xen.SringRspProd))
		if prod-d.txRspCons > d.txReqProd-d.txRspCons {
			d.breakDevice("tx response producer ahead of the requests")
			return
		}
		for ; d.txRspCons != prod; d.txRspCons++ {
			e := txEntry(ring, d.txRspCons)
			status := int16(*u16(e + xen.NetifTxResponseStatus))
			if status == xen.NETIF_RSP_NULL {
				continue
			}
			id := *u16(e + xen.NetifTxResponseID)
			if int(id) >= txSlots || !d.txBusy[id] {
				d.badResponses.Add(1)
				continue
			}
			if status != xen.NETIF_RSP_OKAY {
				d.txErrors.Add(1)
			}
			d.txBusy[id] = false
			d.txFree = append(d.txFree, id)
			freed = true
		}
		// RING_FINAL_CHECK_FOR_RESPONSES: ask for an event at the next response, then
		// look again in case it arrived before the threshold was visible.
		atomic.StoreUint32(u32(ring+xen.SringRspEvent), d.txRspCons+1)
		if atomic.LoadUint32(u32(ring+xen.SringRspProd)) == d.txRspCons {
			break
		}
	}
	if freed {
		select {
		case d.txSpace <- struct{}{}:
		default:
		}
	}
}

// breakDevice stops the device for good after the backend broke the ring protocol: it is
// reported once, senders get ErrBroken, nothing more is read from the rings.
func (d *Device) breakDevice(why string) {
	if d.broken.Swap(true) {
		return
	}
	println("netfront: vif" + strconv.Itoa(d.index) + ": " + why + ": device stopped")
	select {
	case d.txSpace <- struct{}{}:
	default:
	}
}

// loop is the device's event goroutine: it sleeps in the event channel until the
// backend signals, reclaims tx slots (waking blocked senders) and kicks rxLoop. Rx
// runs on its own goroutine so that a receiver callback may call Send even when the
// tx ring is full: the slots it waits for are freed here.
func (d *Device) loop() {
	go d.rxLoop()
	for {
		d.txMu.Lock()
		d.reclaimTx()
		port := d.port // a new one after a restore (resume.go)
		d.txMu.Unlock()
		select {
		case d.rxKick <- struct{}{}:
		default:
		}
		select {
		case <-d.closed:
			return
		default:
		}
		port.Wait() // returns at once for a port of the domain before a restore
		d.events.Add(1)
	}
}

// rxLoop consumes received frames each time loop kicks it.
func (d *Device) rxLoop() {
	for {
		select {
		case <-d.rxKick:
		case <-d.closed:
			return
		}
		d.receive()
	}
}

// receive consumes rx responses, delivers the frames and gives the pages back. As for tx,
// a producer index past the pages posted stops the device, and a response for an id out of
// range or not posted is counted and dropped (never re-posted: a page is the backend's at
// most once).
func (d *Device) receive() {
	d.rxMu.Lock()
	defer d.rxMu.Unlock()
	if d.broken.Load() {
		return
	}
	ring := d.rxRing()
	old := d.rxReqProd
	for {
		prod := atomic.LoadUint32(u32(ring + xen.SringRspProd))
		if prod-d.rxRspCons > d.rxReqProd-d.rxRspCons {
			d.breakDevice("rx response producer ahead of the pages posted")
			return
		}
		for ; d.rxRspCons != prod; d.rxRspCons++ {
			e := rxEntry(ring, d.rxRspCons)
			id := *u16(e + xen.NetifRxResponseID)
			off := int(*u16(e + xen.NetifRxResponseOffset))
			flags := *u16(e + xen.NetifRxResponseFlags)
			status := int(int16(*u16(e + xen.NetifRxResponseStatus)))
			if int(id) >= rxSlots || !d.rxPosted[id] {
				d.badResponses.Add(1)
				continue
			}
			d.rxPosted[id] = false
			d.rxFrame(int(id), off, flags, status)
			// Re-post the same page (and grant) in the next request slot.
			q := rxEntry(ring, d.rxReqProd)
			*u16(q + xen.NetifRxRequestID) = id
			*u32(q + xen.NetifRxRequestGref) = uint32(d.rxRefs[id])
			d.rxPosted[id] = true
			d.rxReqProd++
		}
		atomic.StoreUint32(u32(ring+xen.SringRspEvent), d.rxRspCons+1)
		if atomic.LoadUint32(u32(ring+xen.SringRspProd)) == d.rxRspCons {
			break
		}
	}
	if d.rxReqProd != old && push(ring, old, d.rxReqProd) {
		d.port.Notify()
	}
}

// rxFrame delivers the frame in page id at off. feature-sg and GSO were never offered, so
// every frame is one response: a continuation (NETRXF_more_data) or an extra-info segment is
// the backend's error, counted and dropped like a bad status, offset or length.
func (d *Device) rxFrame(id, off int, flags uint16, status int) {
	if flags&(xen.NETRXF_more_data|xen.NETRXF_extra_info) != 0 {
		d.badResponses.Add(1)
		return
	}
	if status <= 0 || off+status > xen.PageSize || status > maxFrame {
		d.rxErrors.Add(1)
		return
	}
	frame := make([]byte, status)
	copy(frame, d.rxPage(id)[off:off+status])
	d.rxFrames.Add(1)
	d.rxBytes.Add(uint64(len(frame)))
	d.recvMu.Lock()
	f := d.recv
	d.recvMu.Unlock()
	if f != nil {
		f(frame)
		return
	}
	select {
	case d.rxq <- frame:
	default:
		d.rxDropped.Add(1)
	}
}

// Receive returns the next received frame (a new slice the caller owns). It blocks
// until a frame arrives or the device is closed.
func (d *Device) Receive() ([]byte, error) {
	select {
	case f := <-d.rxq:
		return f, nil
	case <-d.closed:
		select {
		case f := <-d.rxq:
			return f, nil
		default:
			return nil, ErrClosed
		}
	}
}

// SetReceiver makes the device call f with every received frame (on the device's
// rx goroutine, one frame at a time; f owns the slice, may call Send, and should not
// block for long: while it runs the rx ring is not refilled) instead of queueing
// it for Receive. SetReceiver(nil) goes back to Receive.
func (d *Device) SetReceiver(f func(frame []byte)) {
	d.recvMu.Lock()
	d.recv = f
	d.recvMu.Unlock()
}

// Stats returns the device's counters.
func (d *Device) Stats() Stats {
	return Stats{
		RxFrames: d.rxFrames.Load(), RxBytes: d.rxBytes.Load(),
		RxErrors: d.rxErrors.Load(), RxDropped: d.rxDropped.Load(),
		TxFrames: d.txFrames.Load(), TxBytes: d.txBytes.Load(),
		TxErrors: d.txErrors.Load(), TxWaits: d.txWaits.Load(),
		Events: d.events.Load(), BadResponses: d.badResponses.Load(), Broken: d.broken.Load(),
		Restores: d.restores.Load(),
	}
}

// Close disconnects from the backend: the tx requests in flight are answered first (at most
// 1 s), then state Closing, wait for the backend to close,
// state Closed, then end the grants the backend no longer uses. Senders and receivers
// blocked on the device return ErrClosed. The event goroutine stays parked on the
// (now silent) port.
func (d *Device) Close() error {
	d.closeOnce.Do(func() {
		d.flushTx(time.Second)
		close(d.closed)
		d.xs.Write(d.front+"/state", strconv.Itoa(xen.XenbusStateClosing))
		_, err := d.waitBackend(func(s int) bool { return s >= xen.XenbusStateClosing || s == xen.XenbusStateInitWait })
		d.xs.Write(d.front+"/state", strconv.Itoa(xen.XenbusStateClosed))
		if err == nil {
			_, err = d.waitBackend(func(s int) bool { return s == xen.XenbusStateClosed || s == xen.XenbusStateInitWait })
			if err != nil && d.backendState() == xen.XenbusStateClosed {
				err = nil
			}
		}
		if err == nil {
			d.endGrants()
		}
		d.closeErr = err
	})
	return d.closeErr
}

// flushTx waits, at most limit, until the backend has answered every tx request in flight,
// so that frames sent just before a clean close (a UDP reply before exit) reach the wire.
func (d *Device) flushTx(limit time.Duration) {
	d.txMu.Lock()
	sent := d.txReqProd != 0
	d.txMu.Unlock()
	if !sent {
		return // nothing was ever sent (or the rings were never set up)
	}
	for end := time.Now().Add(limit); ; time.Sleep(2 * time.Millisecond) {
		d.txMu.Lock()
		d.reclaimTx()
		inFlight := txSlots - len(d.txFree)
		d.txMu.Unlock()
		if inFlight == 0 || d.broken.Load() || !time.Now().Before(end) {
			return
		}
	}
}

func (d *Device) endGrants() {
	for _, r := range d.ringRefs {
		gnttab.End(r)
	}
	for _, r := range d.txRefs {
		gnttab.End(r)
	}
	for _, r := range d.rxRefs {
		gnttab.End(r)
	}
}
