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
//	(*Device).SetBatchReceiver(f, end) and call end when a drain of the rx ring ends
//	(*Device).Stats() Stats        counters, the device's and each queue's
//	(*Device).Queues() int         queues in use
//	(*Device).Close() error        disconnect from the backend
//
// Handshake (internal/xen/xenbus, netif.h): read the vif's backend and mac; wait for the
// backend to reach InitWait; settle the number of queues (below); for each queue share one tx
// and one rx ring page and allocate an event channel to the backend; write the rings and
// channels, request-rx-copy=1 (the backend copies into our pages), feature-rx-notify=1, the
// offloads we take (features.go) and state=Connected in one transaction; wait for the
// backend's state to become Connected (a xenstore watch, no polling).
//
// Queues (netif.h "Multiple transmit and receive queues"): a queue is a tx ring, an rx ring,
// their pages and grants, an event channel and counters, driven by goroutines of its own.
// The device uses N = min(the backend's multi-queue-max-queues, the guest's vCPUs,
// maxQueues) queues, one when the backend has no such node, the guest one vCPU, or the boot
// parameter says netfront=noqueues (or queues=N, a smaller bound). With one queue the
// xenstore nodes are the flat ones every backend knows (tx-ring-ref, rx-ring-ref,
// event-channel), unchanged; with N > 1 they are multi-queue-num-queues=N and
// queue-<i>/tx-ring-ref, queue-<i>/rx-ring-ref, queue-<i>/event-channel. Queue i's event
// channel notifies vCPU i (EVTCHNOP_bind_vcpu), so the backend's interrupts are spread over
// the vCPUs. A frame goes out on the queue its flow hashes to (addresses, protocol and ports:
// one TCP connection keeps one queue and its order; tx.go); frames from every queue go to
// the one receiver. Every queue checks the backend's answers on its own rings; a backend
// that breaks the protocol on any of them stops the device.
//
// Buffers: each of a queue's 256 rx and 256 tx ring slots owns one page, granted to the
// backend once at Open (rx writable, tx read-only) and reused for every frame, so
// there is no per-packet grant traffic. Send copies the frame into free tx pages (tx.go);
// a received frame is copied once out of its rx pages by the receiver before they go back
// to the backend (rx.go).
//
// Events: one goroutine per queue blocks in the queue's event channel's Wait. When the port
// fires it reclaims tx responses (waking blocked senders) and kicks a second
// goroutine that consumes rx responses, delivers the frames and re-posts the rx
// pages; response event thresholds are re-armed with the ring protocol's final
// check, so nothing is missed and nothing spins. A sender finding no free tx slot
// blocks until the event goroutine frees one (a receiver callback may send too);
// frames are never dropped on send. The receiver gets one frame at a time, whichever queue
// it came on. On receive, a frame is dropped (and counted) only when Receive's queue of
// rxQueueLen frames is full because nobody reads it.
//
// Shutdown: Open registers Close with xen.AtShutdown, so a toolstack shutdown
// request disconnects every device (Closing, then Closed, each acknowledged by the
// backend) before the domain ends.
//
// Suspend (xl save, migration; resume.go): the rings stop until the domain runs again; in
// a restored domain the device connects to its new backend as at Open, settling the number
// of queues again (the new host's backend may take fewer), and the frames in flight at the
// suspend are lost (TCP sends them again).
package netfront

import (
	"errors"
	"internal/xen"
	"internal/xen/gnttab"
	"internal/xen/xenbus"
	"internal/xen/xenstore"
	"runtime"
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
	// maxRxFrame bounds a received frame: a 64 KiB IP packet behind an Ethernet header and
	// an 802.1Q tag (netback's GSO packets with feature-sg), rxMaxSlots the slots it takes.
	maxRxFrame = 65535 + 14 + 4
	rxMaxSlots = (maxRxFrame+xen.PageSize-1)/xen.PageSize + 1
	// maxQueues bounds the queues of a device: each holds 514 pages (2 MiB).
	maxQueues = 8

	stateTimeout = 10 * time.Second
)

var (
	// ErrClosed is returned by Send and Receive after Close.
	ErrClosed = errors.New("netfront: device closed")
	// ErrFrameSize is returned by Send for an empty frame or one longer than MTU+18.
	ErrFrameSize = errors.New("netfront: frame size out of range")
	// ErrBroken is returned by Send once the backend broke the ring protocol.
	ErrBroken = errors.New("netfront: backend broke the ring protocol; device stopped")
	// ErrOffload is returned by SendOffload for an offload the device does not have now.
	ErrOffload = errors.New("netfront: offload not negotiated with the backend")
)

// Stats counts a device's traffic.
type Stats struct {
	RxFrames, RxBytes uint64
	RxErrors          uint64 // frames with an error status, a bad offset/length or extra info
	RxGSO             uint64 // frames that came with GSO extra info (up to 64 KiB)
	RxMultiSlot       uint64 // frames that spanned several slots
	RxDropped         uint64 // frames dropped because the Receive queue was full
	TxFrames, TxBytes uint64
	TxErrors          uint64 // tx responses with an error status
	TxWaits           uint64 // times Send blocked on a full ring
	TxGSO             uint64 // frames sent for the backend to cut (GSO)
	Events            uint64 // event channel wake-ups
	// BadResponses counts responses the backend should not have sent (an id out of range
	// or not in flight, flags never negotiated); each is dropped. Broken is set once the
	// backend moved a ring's producer past what it was given: the device stops.
	BadResponses uint64
	Broken       bool
	Restores     uint64 // reconnections to a new backend after the domain was restored
	// Queues are the counters of each queue in use (one, or multi-queue-num-queues).
	Queues []QueueStats
}

// QueueStats counts one queue's traffic (its share of the device's).
type QueueStats struct {
	TxFrames, RxFrames, Events, BadResponses uint64
}

// Device is one connected vif.
type Device struct {
	index int
	bus   *xenbus.Device // device/vif/<n> and its backend in xenstore
	mac   [6]byte

	restores atomic.Uint64 // reconnections after a restore (resume.go)
	// queues are made as the negotiation asks for them and kept (a restored domain may
	// use them again); active is how many are in use, queues [0, active). It changes only
	// before the device runs or with every queue's locks held (resume.go).
	queues  [maxQueues]*queue
	active  atomic.Int32
	locked  int                      // queues suspend locked
	feat    Features                 // offloads in use (features.go); written with every queue's locks held
	featNow atomic.Pointer[Features] // the same, for Features without a lock
	rxSG    bool                     // we told the backend we take multi-slot frames

	recvMu    sync.Mutex
	recv      func(*Frame)
	recvEnd   func()     // called when a drain of a queue's rx ring ends (SetBatchReceiver)
	deliverMu sync.Mutex // the receiver gets one frame at a time, from any queue
	rxq       chan []byte

	closeOnce sync.Once
	closed    chan struct{}
	closeErr  error

	rxFrames, rxBytes, rxErrors, rxDropped atomic.Uint64
	txFrames, txBytes, txErrors, txWaits   atomic.Uint64
	events, badResponses                   atomic.Uint64
	rxGSO, rxMultiSlot, txGSO              atomic.Uint64
	broken                                 atomic.Bool
}

// queue is one tx and rx ring pair with its pages, grants and event channel.
type queue struct {
	d    *Device
	id   int // queue-<id>
	port xen.Port

	rxMu sync.Mutex // held while rx responses are consumed; and from suspend to resume

	ringPages *gnttab.Pages // 0: tx sring, 1: rx sring
	rings     [2]uintptr    // their addresses (tests point them at plain memory)
	rxPage    func(id int) []byte
	txPage    func(id int) []byte
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
	txSpace   chan struct{} // signalled when slots were freed (or the queue stopped)

	rxKick    chan struct{} // loop -> rxLoop: the port fired
	rxReqProd uint32
	rxRspCons uint32
	rxPosted  [rxSlots]bool // rx pages handed to the backend, not yet answered
	rxParts   [][]byte      // receive's scratch: the slots of one frame

	started bool          // its goroutines run
	wake    chan struct{} // the queue is in use again after a restore (resume.go)

	txFrames, rxFrames, events, badResponses atomic.Uint64
}

func newQueue(d *Device, id int) *queue {
	return &queue{d: d, id: id, txSpace: make(chan struct{}, 1), rxKick: make(chan struct{}, 1),
		wake: make(chan struct{}, 1)}
}

// inUse reports whether the queue is one of the device's active ones.
func (q *queue) inUse() bool { return q.id < int(q.d.active.Load()) }

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
	bus, err := xenbus.Open(xs, "device/vif/"+strconv.Itoa(index), "netfront: vif "+strconv.Itoa(index))
	if err != nil {
		return nil, err
	}
	d := &Device{
		index:  index,
		bus:    bus,
		rxq:    make(chan []byte, rxQueueLen),
		closed: make(chan struct{}),
	}
	if err := d.readMAC(); err != nil {
		return nil, err
	}
	if err := bus.Connect(d.setupRings, stateTimeout); err != nil {
		return nil, err
	}
	d.start()
	xen.AtShutdown(func() { d.Close() })
	xen.OnSuspend(d.suspend, d.resume)
	return d, nil
}

// start runs the goroutines of the queues in use that have none yet, wakes the ones a
// restore brought back into use, and tells the backend that every rx ring is full of
// requests.
func (d *Device) start() {
	for _, q := range d.queues[:d.active.Load()] {
		if !q.started {
			q.started = true
			go q.loop()
		} else {
			select {
			case q.wake <- struct{}{}:
			default:
			}
		}
		q.port.Notify()
	}
}

// readMAC reads the vif's hardware address from its "mac" node.
func (d *Device) readMAC() error {
	mac, err := d.bus.Read("mac")
	if err != nil {
		return err
	}
	parts := strings.Split(mac, ":")
	if len(parts) != 6 {
		return d.bus.Errorf("bad mac " + strconv.Quote(mac))
	}
	for i, p := range parts {
		b, err := strconv.ParseUint(p, 16, 8)
		if err != nil {
			return d.bus.Errorf("bad mac " + strconv.Quote(mac))
		}
		d.mac[i] = byte(b)
	}
	return nil
}

// Ring layout helpers (xen/include/public/io/ring.h).
func (q *queue) txRing() uintptr { return q.rings[0] }
func (q *queue) rxRing() uintptr { return q.rings[1] }

func u32(a uintptr) *uint32 { return (*uint32)(unsafe.Pointer(a)) }
func u16(a uintptr) *uint16 { return (*uint16)(unsafe.Pointer(a)) }
func u8(a uintptr) *uint8   { return (*uint8)(unsafe.Pointer(a)) }

func txEntry(ring uintptr, i uint32) uintptr {
	return ring + xen.SringRing + uintptr(i%txSlots)*xen.SizeofNetifTxEntry
}

func rxEntry(ring uintptr, i uint32) uintptr {
	return ring + xen.SringRing + uintptr(i%rxSlots)*xen.SizeofNetifRxEntry
}

// setupRings settles the number of queues, makes the queues it lacks (rings and buffer
// pages), shares each queue's rings with the backend (connectRings) and returns the nodes
// the handshake writes: the rings, the event channels and the features settled with the
// backend's. At Open, and again after a restore (resume.go), when the old grants and ports
// are gone.
func (d *Device) setupRings() ([][2]string, error) {
	p := localParams()
	n := d.numQueues(p.queues)
	for i := 0; i < n; i++ {
		if d.queues[i] == nil {
			d.queues[i] = newQueue(d, i)
			d.queues[i].allocPages()
		}
		if err := d.queues[i].connectRings(); err != nil {
			return nil, err
		}
	}
	d.active.Store(int32(n))
	for _, q := range d.queues[n:] {
		if q != nil { // in use before a restore: its senders pick another queue
			q.signalSpace()
		}
	}
	d.negotiate(p)
	return d.handshakeKeys(n), nil
}

// handshakeKeys are the nodes the handshake writes for n queues: their rings and event
// channels, request-rx-copy, feature-rx-notify and the features.
func (d *Device) handshakeKeys(n int) [][2]string {
	return append(append(d.ringKeys(n),
		[2]string{"request-rx-copy", "1"},
		[2]string{"feature-rx-notify", "1"}),
		d.featureKeys()...)
}

// ringKeys are the nodes that name the rings and event channels of n queues: the flat ones
// for one queue (what every backend knows), else multi-queue-num-queues and queue-<i>/.
func (d *Device) ringKeys(n int) [][2]string {
	keys := func(prefix string, q *queue) [][2]string {
		return [][2]string{
			{prefix + "tx-ring-ref", strconv.Itoa(int(q.ringRefs[0]))},
			{prefix + "rx-ring-ref", strconv.Itoa(int(q.ringRefs[1]))},
			{prefix + "event-channel", strconv.Itoa(int(q.port.Num()))},
		}
	}
	if n == 1 {
		return keys("", d.queues[0])
	}
	kv := [][2]string{{"multi-queue-num-queues", strconv.Itoa(n)}}
	for i := 0; i < n; i++ {
		kv = append(kv, keys("queue-"+strconv.Itoa(i)+"/", d.queues[i])...)
	}
	return kv
}

// numQueues settles how many queues to use: the backend's multi-queue-max-queues (1 when
// it has none), the vCPUs, local (the netfront= boot parameter's bound) and maxQueues, the
// smallest.
func (d *Device) numQueues(local int) int {
	if local <= 1 || runtime.NumCPU() <= 1 {
		return 1
	}
	back, ok := d.bus.BackendUint("multi-queue-max-queues")
	return queuesFor(local, runtime.NumCPU(), back, ok)
}

// queuesFor is numQueues' rule: local is the guest's bound, cpus its vCPUs, back the
// backend's multi-queue-max-queues (ok false: it has none).
func queuesFor(local, cpus int, back uint64, ok bool) int {
	n := min(local, cpus, maxQueues)
	if !ok {
		return 1
	}
	if back < uint64(n) {
		n = int(back)
	}
	return max(n, 1)
}

func (q *queue) allocPages() {
	q.ringPages = gnttab.AllocPages(2)
	q.txBufs = gnttab.AllocPages(txSlots)
	q.rxBufs = gnttab.AllocPages(rxSlots)
	q.rings = [2]uintptr{q.ringPages.Addr(0), q.ringPages.Addr(1)}
	q.rxPage = q.rxBufs.Bytes
	q.txPage = q.txBufs.Bytes
}

// connectRings initialises both rings, grants them and every buffer page to the backend,
// posts every rx page and allocates the event channel, bound to vCPU id (modulo the vCPUs).
func (q *queue) connectRings() error {
	backend := q.d.bus.BackendID
	for _, r := range []uintptr{q.txRing(), q.rxRing()} {
		// SHARED_RING_INIT: producers 0, event thresholds 1.
		clear(unsafe.Slice((*byte)(unsafe.Pointer(r)), xen.PageSize))
		*u32(r + xen.SringReqEvent) = 1
		*u32(r + xen.SringRspEvent) = 1
	}
	q.txReqProd, q.txRspCons, q.rxReqProd, q.rxRspCons = 0, 0, 0, 0
	q.txFree = q.txFree[:0]
	q.txBusy = [txSlots]bool{}
	q.rxPosted = [rxSlots]bool{}
	var err error
	for i := range q.ringRefs {
		if q.ringRefs[i], err = gnttab.GrantPage(backend, q.ringPages.Addr(i), false); err != nil {
			return err
		}
	}
	for i := range q.txRefs {
		if q.txRefs[i], err = gnttab.GrantPage(backend, q.txBufs.Addr(i), true); err != nil {
			return err
		}
		q.txFree = append(q.txFree, uint16(i))
	}
	for i := range q.rxRefs {
		if q.rxRefs[i], err = gnttab.GrantPage(backend, q.rxBufs.Addr(i), false); err != nil {
			return err
		}
	}
	q.signalSpace() // wake senders: every slot is free
	// Every rx page goes to the backend at once.
	ring := q.rxRing()
	for i := uint32(0); i < rxSlots; i++ {
		e := rxEntry(ring, q.rxReqProd)
		*u16(e + xen.NetifRxRequestID) = uint16(i)
		*u32(e + xen.NetifRxRequestGref) = uint32(q.rxRefs[i])
		q.rxPosted[i] = true
		q.rxReqProd++
	}
	atomic.StoreUint32(u32(ring+xen.SringReqProd), q.rxReqProd)
	if q.port, err = xen.AllocUnbound(backend); err != nil {
		return err
	}
	if cpu := q.id % runtime.NumCPU(); cpu != 0 {
		if err := q.port.BindVCPU(uint32(cpu)); err != nil {
			// Its events go to vCPU 0 instead: slower, not wrong.
			println("netfront: vif" + strconv.Itoa(q.d.index) + ": queue " + strconv.Itoa(q.id) +
				": binding its event channel to vCPU " + strconv.Itoa(cpu) + ": " + err.Error())
		}
	}
	return q.port.Unmask()
}

// signalSpace wakes a sender waiting for room on the queue.
func (q *queue) signalSpace() {
	select {
	case q.txSpace <- struct{}{}:
	default:
	}
}

// MAC returns the vif's hardware address.
func (d *Device) MAC() [6]byte { return d.mac }

// MTU returns the largest IP packet a frame can carry (1500).
func (d *Device) MTU() int { return mtu }

// Index returns the vif number (device/vif/<n>).
func (d *Device) Index() int { return d.index }

// Queues returns the number of queues in use.
func (d *Device) Queues() int { return int(d.active.Load()) }

// breakDevice stops the device for good after the backend broke the ring protocol: it is
// reported once, senders get ErrBroken, nothing more is read from the rings.
func (d *Device) breakDevice(why string) {
	if d.broken.Swap(true) {
		return
	}
	println("netfront: vif" + strconv.Itoa(d.index) + ": " + why + ": device stopped")
	for _, q := range d.queues {
		if q != nil {
			q.signalSpace()
		}
	}
}

// loop is a queue's event goroutine: it sleeps in the event channel until the
// backend signals, reclaims tx slots (waking blocked senders) and kicks rxLoop. Rx
// runs on its own goroutine so that a receiver callback may call Send even when the
// tx ring is full: the slots it waits for are freed here. A queue the backend no longer
// takes after a restore waits until it is in use again.
func (q *queue) loop() {
	go q.rxLoop()
	for {
		q.txMu.Lock()
		inUse := q.inUse()
		if inUse {
			q.reclaimTx()
		}
		port := q.port // a new one after a restore (resume.go)
		q.txMu.Unlock()
		if inUse {
			select {
			case q.rxKick <- struct{}{}:
			default:
			}
		}
		select {
		case <-q.d.closed:
			return
		default:
		}
		if !inUse {
			select {
			case <-q.wake:
			case <-q.d.closed:
				return
			}
			continue
		}
		port.Wait() // returns at once for a port of the domain before a restore
		q.events.Add(1)
		q.d.events.Add(1)
	}
}

// Stats returns the device's counters.
func (d *Device) Stats() Stats {
	st := Stats{
		RxFrames: d.rxFrames.Load(), RxBytes: d.rxBytes.Load(),
		RxErrors: d.rxErrors.Load(), RxDropped: d.rxDropped.Load(),
		TxFrames: d.txFrames.Load(), TxBytes: d.txBytes.Load(),
		TxErrors: d.txErrors.Load(), TxWaits: d.txWaits.Load(),
		Events: d.events.Load(), BadResponses: d.badResponses.Load(), Broken: d.broken.Load(),
		Restores: d.restores.Load(),
		RxGSO:    d.rxGSO.Load(), RxMultiSlot: d.rxMultiSlot.Load(), TxGSO: d.txGSO.Load(),
	}
	for _, q := range d.queues[:d.active.Load()] {
		st.Queues = append(st.Queues, QueueStats{TxFrames: q.txFrames.Load(),
			RxFrames: q.rxFrames.Load(), Events: q.events.Load(), BadResponses: q.badResponses.Load()})
	}
	return st
}

// Close disconnects from the backend: the tx requests in flight are answered first (at most
// 1 s), then state Closing, wait for the backend to close,
// state Closed, then end the grants the backend no longer uses. Senders and receivers
// blocked on the device return ErrClosed. The event goroutines stay parked on the
// (now silent) ports.
func (d *Device) Close() error {
	d.closeOnce.Do(func() {
		end := time.Now().Add(time.Second)
		for _, q := range d.queues[:d.active.Load()] {
			q.flushTx(time.Until(end))
		}
		close(d.closed)
		err := d.bus.Disconnect(stateTimeout)
		if err == nil {
			d.endGrants()
		}
		d.closeErr = err
	})
	return d.closeErr
}

func (d *Device) endGrants() {
	for _, q := range d.queues[:d.active.Load()] {
		for _, r := range q.ringRefs {
			gnttab.End(r)
		}
		for _, r := range q.txRefs {
			gnttab.End(r)
		}
		for _, r := range q.rxRefs {
			gnttab.End(r)
		}
	}
}
