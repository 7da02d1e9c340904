// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build xen

package netfront

import (
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
// frame longer than a page needs Features.SG.
func (d *Device) SendOffload(frame []byte, o TxOffload) error {
	if len(frame) < 14 {
		return ErrFrameSize
	}
	d.txMu.Lock()
	if len(frame) > d.maxTxFrame() {
		d.txMu.Unlock()
		return ErrFrameSize
	}
	f := d.feat
	if o.CsumBlank && !f.TxCsumV4 && !f.TxCsumV6 ||
		o.GSOType != 0 && (!o.CsumBlank || o.GSOSize == 0 ||
			!(o.GSOType == xen.XEN_NETIF_GSO_TYPE_TCPV4 && f.TxGSOv4 || o.GSOType == xen.XEN_NETIF_GSO_TYPE_TCPV6 && f.TxGSOv6)) {
		d.txMu.Unlock()
		return ErrOffload
	}
	data := (len(frame) + xen.PageSize - 1) / xen.PageSize
	slots := data
	if o.GSOType != 0 {
		slots++
	}
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
		if !d.txRoom(data, slots) {
			d.reclaimTx()
		}
		if d.txRoom(data, slots) {
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
	ring := d.txRing()
	old := d.txReqProd
	for i := 0; i < data; i++ {
		id := d.txFree[len(d.txFree)-1]
		d.txFree = d.txFree[:len(d.txFree)-1]
		d.txBusy[id] = true
		chunk := frame[i*xen.PageSize : min((i+1)*xen.PageSize, len(frame))]
		copy(d.txPage(int(id)), chunk)
		e := txEntry(ring, d.txReqProd)
		d.txReqProd++
		*u32(e + xen.NetifTxRequestGref) = uint32(d.txRefs[id])
		*u16(e + xen.NetifTxRequestOffset) = 0
		*u16(e + xen.NetifTxRequestID) = id
		size, flags := len(chunk), uint16(0)
		if i < data-1 {
			flags |= xen.NETTXF_more_data
		}
		if i == 0 {
			size = len(frame) // the first slot's size is the whole frame's
			if o.CsumBlank {
				flags |= xen.NETTXF_csum_blank | xen.NETTXF_data_validated
			}
			if o.GSOType != 0 {
				flags |= xen.NETTXF_extra_info
				x := txEntry(ring, d.txReqProd)
				d.txReqProd++
				clear((*[xen.SizeofNetifTxEntry]byte)(unsafe.Pointer(x))[:])
				*u8(x + xen.NetifExtraType) = xen.XEN_NETIF_EXTRA_TYPE_GSO
				*u16(x + xen.NetifExtraGSOSize) = o.GSOSize
				*u8(x + xen.NetifExtraGSOType) = o.GSOType
			}
		}
		*u16(e + xen.NetifTxRequestFlags) = flags
		*u16(e + xen.NetifTxRequestSize) = uint16(size)
	}
	notify := push(ring, old, d.txReqProd)
	d.txMu.Unlock()
	d.txFrames.Add(1)
	d.txBytes.Add(uint64(len(frame)))
	if o.GSOType != 0 {
		d.txGSO.Add(1)
	}
	if notify {
		d.port.Notify()
	}
	return nil
}

// txRoom reports whether data pages and slots ring entries are free; d.txMu is held.
func (d *Device) txRoom(data, slots int) bool {
	return len(d.txFree) >= data && int(d.txReqProd-d.txRspCons)+slots <= txSlots
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
				continue // an extra-info slot's answer
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
		inFlight := d.txReqProd != d.txRspCons
		d.txMu.Unlock()
		if !inFlight || d.broken.Load() || !time.Now().Before(end) {
			return
		}
	}
}
