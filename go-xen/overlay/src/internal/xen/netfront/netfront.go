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
//	(*Device).Stats() Stats        counters
//	(*Device).Close() error        disconnect from the backend
//
// Handshake (internal/xen/xenbus, netif.h): read the vif's backend and mac; wait for the
// backend to reach InitWait; share one tx and one rx ring page and allocate an event channel
// to the backend; write tx-ring-ref, rx-ring-ref, event-channel, request-rx-copy=1 (the
// backend copies into our pages), feature-rx-notify=1, the offloads we take (features.go)
// and state=Connected in one transaction; wait for the backend's state to become Connected
// (a xenstore watch, no polling).
//
// Buffers: each of the 256 rx and 256 tx ring slots owns one page, granted to the
// backend once at Open (rx writable, tx read-only) and reused for every frame, so
// there is no per-packet grant traffic. Send copies the frame into free tx pages (tx.go);
// a received frame is copied once out of its rx pages by the receiver before they go back
// to the backend (rx.go).
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
	"internal/xen/xenbus"
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
	// maxRxFrame bounds a received frame: a 64 KiB IP packet behind an Ethernet header and
	// an 802.1Q tag (netback's GSO packets with feature-sg), rxMaxSlots the slots it takes.
	maxRxFrame = 65535 + 14 + 4
	rxMaxSlots = (maxRxFrame+xen.PageSize-1)/xen.PageSize + 1

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
}

// Device is one connected vif.
type Device struct {
	index int
	bus   *xenbus.Device // device/vif/<n> and its backend in xenstore
	mac   [6]byte
	port  xen.Port

	restores atomic.Uint64 // reconnections after a restore (resume.go)
	rxMu     sync.Mutex    // held while rx responses are consumed; and from suspend to resume

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
	txSpace   chan struct{}            // signalled when slots were freed
	feat      Features                 // offloads in use (features.go); written under txMu and rxMu
	featNow   atomic.Pointer[Features] // the same, for Features without a lock
	rxSG      bool                     // we told the backend we take multi-slot frames

	rxKick    chan struct{} // loop -> rxLoop: the port fired
	rxReqProd uint32
	rxRspCons uint32
	rxPosted  [rxSlots]bool // rx pages handed to the backend, not yet answered
	rxParts   [][]byte      // receive's scratch: the slots of one frame

	recvMu  sync.Mutex
	recv    func(*Frame)
	recvEnd func() // called when a drain of the rx ring ends (SetBatchReceiver)
	rxq    chan []byte

	closeOnce sync.Once
	closed    chan struct{}
	closeErr  error

	rxFrames, rxBytes, rxErrors, rxDropped atomic.Uint64
	txFrames, txBytes, txErrors, txWaits   atomic.Uint64
	events, badResponses                   atomic.Uint64
	rxGSO, rxMultiSlot, txGSO              atomic.Uint64
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
	bus, err := xenbus.Open(xs, "device/vif/"+strconv.Itoa(index), "netfront: vif "+strconv.Itoa(index))
	if err != nil {
		return nil, err
	}
	d := &Device{
		index:   index,
		bus:     bus,
		txSpace: make(chan struct{}, 1),
		rxKick:  make(chan struct{}, 1),
		rxq:     make(chan []byte, rxQueueLen),
		closed:  make(chan struct{}),
	}
	if err := d.readMAC(); err != nil {
		return nil, err
	}
	if err := bus.Connect(d.setupRings, stateTimeout); err != nil {
		return nil, err
	}
	go d.loop()
	d.port.Notify() // the rx ring is already full of requests
	xen.AtShutdown(func() { d.Close() })
	xen.OnSuspend(d.suspend, d.resume)
	return d, nil
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
func (d *Device) txRing() uintptr { return d.rings[0] }
func (d *Device) rxRing() uintptr { return d.rings[1] }

func u32(a uintptr) *uint32 { return (*uint32)(unsafe.Pointer(a)) }
func u16(a uintptr) *uint16 { return (*uint16)(unsafe.Pointer(a)) }
func u8(a uintptr) *uint8   { return (*uint8)(unsafe.Pointer(a)) }

func txEntry(ring uintptr, i uint32) uintptr {
	return ring + xen.SringRing + uintptr(i%txSlots)*xen.SizeofNetifTxEntry
}

func rxEntry(ring uintptr, i uint32) uintptr {
	return ring + xen.SringRing + uintptr(i%rxSlots)*xen.SizeofNetifRxEntry
}

// setupRings allocates the rings and buffer pages, then shares them (connectRings); it
// returns the nodes the handshake writes.
func (d *Device) setupRings() ([][2]string, error) {
	d.ringPages = gnttab.AllocPages(2)
	d.txBufs = gnttab.AllocPages(txSlots)
	d.rxBufs = gnttab.AllocPages(rxSlots)
	d.rings = [2]uintptr{d.ringPages.Addr(0), d.ringPages.Addr(1)}
	d.rxPage = d.rxBufs.Bytes
	d.txPage = d.txBufs.Bytes
	return d.shareRings()
}

// shareRings is connectRings, then the nodes to write: the rings, the event channel and
// the features settled with the backend's.
func (d *Device) shareRings() ([][2]string, error) {
	if err := d.connectRings(); err != nil {
		return nil, err
	}
	d.negotiate()
	return append([][2]string{
		{"tx-ring-ref", strconv.Itoa(int(d.ringRefs[0]))},
		{"rx-ring-ref", strconv.Itoa(int(d.ringRefs[1]))},
		{"event-channel", strconv.Itoa(int(d.port.Num()))},
		{"request-rx-copy", "1"},
		{"feature-rx-notify", "1"},
	}, d.featureKeys()...), nil
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
		if d.ringRefs[i], err = gnttab.GrantPage(d.bus.BackendID, d.ringPages.Addr(i), false); err != nil {
			return err
		}
	}
	for i := range d.txRefs {
		if d.txRefs[i], err = gnttab.GrantPage(d.bus.BackendID, d.txBufs.Addr(i), true); err != nil {
			return err
		}
		d.txFree = append(d.txFree, uint16(i))
	}
	for i := range d.rxRefs {
		if d.rxRefs[i], err = gnttab.GrantPage(d.bus.BackendID, d.rxBufs.Addr(i), false); err != nil {
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
	if d.port, err = xen.AllocUnbound(d.bus.BackendID); err != nil {
		return err
	}
	return d.port.Unmask()
}

// MAC returns the vif's hardware address.
func (d *Device) MAC() [6]byte { return d.mac }

// MTU returns the largest IP packet a frame can carry (1500).
func (d *Device) MTU() int { return mtu }

// Index returns the vif number (device/vif/<n>).
func (d *Device) Index() int { return d.index }

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

// Stats returns the device's counters.
func (d *Device) Stats() Stats {
	return Stats{
		RxFrames: d.rxFrames.Load(), RxBytes: d.rxBytes.Load(),
		RxErrors: d.rxErrors.Load(), RxDropped: d.rxDropped.Load(),
		TxFrames: d.txFrames.Load(), TxBytes: d.txBytes.Load(),
		TxErrors: d.txErrors.Load(), TxWaits: d.txWaits.Load(),
		Events: d.events.Load(), BadResponses: d.badResponses.Load(), Broken: d.broken.Load(),
		Restores: d.restores.Load(),
		RxGSO:    d.rxGSO.Load(), RxMultiSlot: d.rxMultiSlot.Load(), TxGSO: d.txGSO.Load(),
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
		err := d.bus.Disconnect(stateTimeout)
		if err == nil {
			d.endGrants()
		}
		d.closeErr = err
	})
	return d.closeErr
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
