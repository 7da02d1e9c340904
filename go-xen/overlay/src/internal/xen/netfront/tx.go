// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build xen

package netfront

import (
	"errors"
	"internal/xen"
	"sync/atomic"
	"time"
	"unsafe"
)

// Transmit (netif.h "Guest transmit"). A frame takes one request per page it spans (every
// tx slot owns one granted page; a frame is copied into as many as it needs, 4096 bytes
// each), and a GSO frame one more, its extra-info segment, right after the first:
//
//	first    size = the whole frame's length, flags: more_data when more slots follow,
//	         extra_info before a GSO segment, csum_blank|data_validated for a partial checksum
//	extra    type GSO: the MSS and TCPV4/TCPV6 (it has no id and no page)
//	further  size = the bytes in that slot, more_data on all but the last
//
// The backend answers every request slot: with the slot's id for a data slot, with
// NETIF_RSP_NULL for an extra one. Responses come in any order (netback may hold a page
// until dom0 is done with it), so each slot is freed by its own id.

// TxOffload is what the backend is asked to do with one frame.
type TxOffload struct {
	// CsumBlank: the TCP or UDP checksum field holds the pseudo-header sum only; the backend
	// completes it (NETTXF_csum_blank). Needs Features.TxCsumV4 (or V6).
	CsumBlank bool
	// GSOType (xen.XEN_NETIF_GSO_TYPE_TCPV4 or TCPV6) asks the backend to cut the frame, a
	// TCP segment larger than the MTU, into GSOSize-byte segments. Needs Features.TxGSOv4
	// (or v6) and CsumBlank.
	GSOType uint8
	GSOSize uint16
}

// A frame takes at most 16 pages (XEN_NETIF_MAX_TX_SIZE, 65535 bytes, from a page-aligned
// start), within the XEN_NETIF_NR_SLOTS_MIN (18) slots every netback accepts.

// Send copies frame (a whole Ethernet frame, without FCS) into free tx slots and hands it
// to the backend. It blocks while too few slots are free; it does not drop frames.
func (d *Device) Send(frame []byte) error { return d.SendOffload(frame, TxOffload{}) }

// SendOffload is Send with offloads for the backend (Features says which it takes). A
// frame longer than a page needs Features.SG. The frame goes out on the queue its flow
// hashes to (flowHash).
func (d *Device) SendOffload(frame []byte, o TxOffload) error { return d.SendParts(frame, nil, o) }

// SendParts is SendOffload for a frame in two parts, head (the headers, at least the
// Ethernet header, and what follows them) and then tail, copied into the tx pages from
// where they lie: a TCP segment's payload from its send queue.
func (d *Device) SendParts(head, tail []byte, o TxOffload) error {
	if len(head) < 14 {
		return ErrFrameSize
	}
	h := flowHash(head)
	for {
		q := d.queues[h%uint32(d.active.Load())]
		q.txMu.Lock()
		if err := q.send(head, tail, o); err != errRequeue {
			return err
		}
		// The queue went out of use (a restore whose new backend takes fewer): wake the
		// next sender waiting on it, then pick again.
		q.signalSpace()
	}
}

// errRequeue: the queue send was given is no longer in use; pick another.
var errRequeue = errors.New("netfront: queue out of use")

// send is SendParts on queue q, called with q.txMu held; it unlocks it.
func (q *queue) send(head, tail []byte, o TxOffload) error {
	d := q.d
	if !q.inUse() {
		q.txMu.Unlock()
		return errRequeue
	}
	size := len(head) + len(tail)
	if size > d.maxTxFrame() {
		q.txMu.Unlock()
		return ErrFrameSize
	}
	f := d.feat
	if o.CsumBlank && !f.TxCsumV4 && !f.TxCsumV6 ||
		o.GSOType != 0 && (!o.CsumBlank || o.GSOSize == 0 ||
			!(o.GSOType == xen.XEN_NETIF_GSO_TYPE_TCPV4 && f.TxGSOv4 || o.GSOType == xen.XEN_NETIF_GSO_TYPE_TCPV6 && f.TxGSOv6)) {
		q.txMu.Unlock()
		return ErrOffload
	}
	data := (size + xen.PageSize - 1) / xen.PageSize
	slots := data
	if o.GSOType != 0 {
		slots++
	}
	for {
		select {
		case <-d.closed:
			q.txMu.Unlock()
			return ErrClosed
		default:
		}
		if d.broken.Load() {
			q.txMu.Unlock()
			q.signalSpace() // the next sender waiting here learns it too
			return ErrBroken
		}
		if !q.inUse() {
			q.txMu.Unlock()
			return errRequeue
		}
		if !q.txRoom(data, slots) {
			q.reclaimTx()
		}
		if q.txRoom(data, slots) {
			break
		}
		d.txWaits.Add(1)
		q.txMu.Unlock()
		select {
		case <-q.txSpace:
		case <-d.closed:
		}
		q.txMu.Lock()
	}
	ring := q.txRing()
	old := q.txReqProd
	for i := 0; i < data; i++ {
		id := q.txFree[len(q.txFree)-1]
		q.txFree = q.txFree[:len(q.txFree)-1]
		q.txBusy[id] = true
		chunk := min(xen.PageSize, size-i*xen.PageSize)
		copyAt(q.txPage(int(id))[:chunk], i*xen.PageSize, head, tail)
		e := txEntry(ring, q.txReqProd)
		q.txReqProd++
		*u32(e + xen.NetifTxRequestGref) = uint32(q.txRefs[id])
		*u16(e + xen.NetifTxRequestOffset) = 0
		*u16(e + xen.NetifTxRequestID) = id
		n, flags := chunk, uint16(0)
		if i < data-1 {
			flags |= xen.NETTXF_more_data
		}
		if i == 0 {
			n = size // the first slot's size is the whole frame's
			if o.CsumBlank {
				flags |= xen.NETTXF_csum_blank | xen.NETTXF_data_validated
			}
			if o.GSOType != 0 {
				flags |= xen.NETTXF_extra_info
				x := txEntry(ring, q.txReqProd)
				q.txReqProd++
				clear((*[xen.SizeofNetifTxEntry]byte)(unsafe.Pointer(x))[:])
				*u8(x + xen.NetifExtraType) = xen.XEN_NETIF_EXTRA_TYPE_GSO
				*u16(x + xen.NetifExtraGSOSize) = o.GSOSize
				*u8(x + xen.NetifExtraGSOType) = o.GSOType
			}
		}
		*u16(e + xen.NetifTxRequestFlags) = flags
		*u16(e + xen.NetifTxRequestSize) = uint16(n)
	}
	notify := push(ring, old, q.txReqProd)
	port := q.port
	q.txMu.Unlock()
	q.txFrames.Add(1)
	d.txFrames.Add(1)
	d.txBytes.Add(uint64(size))
	if o.GSOType != 0 {
		d.txGSO.Add(1)
	}
	if notify {
		port.Notify()
	}
	return nil
}

// copyAt fills dst with the bytes from off on of head followed by tail.
func copyAt(dst []byte, off int, head, tail []byte) {
	if off < len(head) {
		n := copy(dst, head[off:])
		dst, off = dst[n:], len(head)
	}
	copy(dst, tail[off-len(head):])
}

// txRoom reports whether data pages and slots ring entries are free; q.txMu is held.
func (q *queue) txRoom(data, slots int) bool {
	return len(q.txFree) >= data && int(q.txReqProd-q.txRspCons)+slots <= txSlots
}

// flowHash picks a frame's tx queue: a hash of its IP addresses, protocol and, for TCP and
// UDP outside fragments, ports, so that the frames of one flow keep one queue and their
// order. Other frames (ARP) hash to 0, queue 0.
func flowHash(f []byte) uint32 {
	typ, l3 := uint16(f[12])<<8|uint16(f[13]), 14
	if typ == 0x8100 && len(f) >= 18 { // an 802.1Q tag
		typ, l3 = uint16(f[16])<<8|uint16(f[17]), 18
	}
	ip := f[l3:]
	var addrs []byte
	var proto byte
	var l4 []byte
	switch typ {
	case 0x0800:
		if len(ip) < 20 || ip[0]>>4 != 4 {
			return 0
		}
		ihl := int(ip[0]&0xf) * 4
		if ihl < 20 || len(ip) < ihl {
			return 0
		}
		addrs, proto = ip[12:20], ip[9]
		if (uint16(ip[6])<<8|uint16(ip[7]))&0x3fff == 0 { // not a fragment: MF clear, offset 0
			l4 = ip[ihl:]
		}
	case 0x86dd:
		if len(ip) < 40 {
			return 0
		}
		addrs, proto, l4 = ip[8:40], ip[6], ip[40:] // no extension headers: their ports stay out
	default:
		return 0
	}
	h := uint32(2166136261) // FNV-1a
	for _, b := range addrs {
		h = (h ^ uint32(b)) * 16777619
	}
	h = (h ^ uint32(proto)) * 16777619
	if (proto == 6 || proto == 17) && len(l4) >= 4 {
		for _, b := range l4[:4] {
			h = (h ^ uint32(b)) * 16777619
		}
	}
	// Spread the low bits (the queue is h modulo a small number).
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	return h
}

// push publishes requests [old, new) and reports whether the backend asked to be
// notified (RING_PUSH_REQUESTS_AND_CHECK_NOTIFY). The atomic store is a full barrier
// on amd64, so req_event is read after req_prod is visible.
func push(ring uintptr, old, new uint32) bool {
	atomic.StoreUint32(u32(ring+xen.SringReqProd), new)
	ev := atomic.LoadUint32(u32(ring + xen.SringReqEvent))
	return new-ev < new-old
}

// reclaimTx frees the slots of answered tx requests; q.txMu is held. Nothing from the
// backend is trusted: a producer index past the requests it was given stops the device, and
// a response whose id is out of range or not in flight is counted and dropped, so that a slot
// is never freed twice (two frames would share a page) and no index leaves its array.
func (q *queue) reclaimTx() {
	if q.d.broken.Load() {
		return
	}
	ring := q.txRing()
	freed := false
	for {
		prod := atomic.LoadUint32(u32(ring + xen.SringRspProd))
		if prod-q.txRspCons > q.txReqProd-q.txRspCons {
			q.d.breakDevice("tx response producer ahead of the requests")
			return
		}
		for ; q.txRspCons != prod; q.txRspCons++ {
			e := txEntry(ring, q.txRspCons)
			status := int16(*u16(e + xen.NetifTxResponseStatus))
			if status == xen.NETIF_RSP_NULL {
				continue // an extra-info slot's answer
			}
			id := *u16(e + xen.NetifTxResponseID)
			if int(id) >= txSlots || !q.txBusy[id] {
				q.badResponses.Add(1)
				q.d.badResponses.Add(1)
				continue
			}
			if status != xen.NETIF_RSP_OKAY {
				q.d.txErrors.Add(1)
			}
			q.txBusy[id] = false
			q.txFree = append(q.txFree, id)
			freed = true
		}
		// RING_FINAL_CHECK_FOR_RESPONSES: ask for an event at the next response, then
		// look again in case it arrived before the threshold was visible.
		atomic.StoreUint32(u32(ring+xen.SringRspEvent), q.txRspCons+1)
		if atomic.LoadUint32(u32(ring+xen.SringRspProd)) == q.txRspCons {
			break
		}
	}
	if freed {
		q.signalSpace()
	}
}

// flushTx waits, at most limit, until the backend has answered every tx request in flight,
// so that frames sent just before a clean close (a UDP reply before exit) reach the wire.
func (q *queue) flushTx(limit time.Duration) {
	q.txMu.Lock()
	sent := q.txReqProd != 0
	q.txMu.Unlock()
	if !sent {
		return // nothing was ever sent (or the rings were never set up)
	}
	for end := time.Now().Add(limit); ; time.Sleep(2 * time.Millisecond) {
		q.txMu.Lock()
		q.reclaimTx()
		inFlight := q.txReqProd != q.txRspCons
		q.txMu.Unlock()
		if !inFlight || q.d.broken.Load() || !time.Now().Before(end) {
			return
		}
	}
}
