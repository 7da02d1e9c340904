// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build xen

package netfront

import (
	"internal/xen"
	"strconv"
	"sync/atomic"
)

// Receive (netif.h "Guest receive"). Every rx ring position holds a request for one page,
// and page i always sits at the positions i, i+256, ...: the request at position p is for
// page p%256 and so is the response at p (netback answers in ring order and overwrites the
// id of an extra-info slot, so the id is not used, as Linux's netfront does not). A frame is
// a chain of responses:
//
//	first    status = its bytes in this page, at offset; flags: more_data when more slots
//	         follow, extra_info before extra-info slots, csum_blank (the checksum is the
//	         pseudo-header sum only: a local sender's) and data_validated (checked already)
//	extra    type GSO with the MSS (one slot each, chained by XEN_NETIF_EXTRA_FLAG_MORE)
//	further  status = bytes in that page; more_data on all but the last
//
// With feature-sg off, a chain is the backend's error. Every page of a consumed chain is
// posted again at once; a chain whose end the backend has not produced yet is left for the
// next event.

// Frame is one received frame. Parts alias the device's rx pages: they are valid only while
// the receiver runs, which copies them out (once, into its own packet).
type Frame struct {
	Parts [][]byte
	Len   int
	// CsumValid: the TCP/UDP checksum need not be verified (NETRXF_data_validated: dom0
	// checked it; NETRXF_csum_blank: a sender on this host left it partial, and the field
	// holds the pseudo-header sum only).
	CsumValid bool
	CsumBlank bool
	// GSOType and GSOSize: the frame is a TCP segment of up to 64 KiB that arrived in MTU
	// pieces of GSOSize bytes (or was sent as one by a guest on this host).
	GSOType uint8
	GSOSize uint16
}

// Bytes returns a copy of the frame in one slice.
func (f *Frame) Bytes() []byte {
	b := make([]byte, 0, f.Len)
	for _, p := range f.Parts {
		b = append(b, p...)
	}
	return b
}

// rxLoop consumes the queue's received frames each time loop kicks it.
func (q *queue) rxLoop() {
	for {
		select {
		case <-q.rxKick:
		case <-q.d.closed:
			return
		}
		q.receive()
	}
}

// receive consumes rx responses, delivers the frames and posts the pages again. A producer
// index past the pages posted stops the device.
func (q *queue) receive() {
	q.rxMu.Lock()
	defer q.rxMu.Unlock()
	defer q.d.drained()
	if q.d.broken.Load() || !q.inUse() {
		return
	}
	ring := q.rxRing()
	old := q.rxReqProd
	for {
		prod := atomic.LoadUint32(u32(ring + xen.SringRspProd))
		if prod-q.rxRspCons > q.rxReqProd-q.rxRspCons {
			q.d.breakDevice("rx response producer ahead of the pages posted")
			return
		}
		for q.rxRspCons != prod && q.rxChain(ring, prod) {
		}
		if q.d.broken.Load() {
			return
		}
		// RING_FINAL_CHECK_FOR_RESPONSES: an event at the next response (past an unfinished
		// chain, whose rest has not come), then look again.
		atomic.StoreUint32(u32(ring+xen.SringRspEvent), prod+1)
		if atomic.LoadUint32(u32(ring+xen.SringRspProd)) == prod {
			break
		}
	}
	if q.rxReqProd != old && push(ring, old, q.rxReqProd) {
		q.port.Notify()
	}
}

// drained tells a batch receiver that a drain of a queue's rx ring ended (also a cut-short
// one). Frames from other queues it holds go on with this queue's: nothing waits past the
// end of the drain that is under way.
func (d *Device) drained() {
	d.recvMu.Lock()
	end := d.recvEnd
	d.recvMu.Unlock()
	if end != nil {
		d.deliverMu.Lock()
		end()
		d.deliverMu.Unlock()
	}
}

// rxChain takes the frame whose first response is at q.rxRspCons when all of its slots are
// before prod: it delivers it (or counts why not), posts its pages again and reports true.
// It reports false, consuming nothing, when the chain goes on past prod.
func (q *queue) rxChain(ring uintptr, prod uint32) bool {
	start := q.rxRspCons
	first := rxEntry(ring, start)
	flags := *u16(first + xen.NetifRxResponseFlags)
	var (
		end              = start + 1
		gsoType          uint8
		gsoSize          uint16
		bad, err         bool
		dataSlots, total = 1, 0
	)
	if flags&xen.NETRXF_extra_info != 0 {
		for more := true; more; {
			if end == prod {
				return q.rxIncomplete(start, end)
			}
			x := rxEntry(ring, end)
			end++
			typ, xflags := *u8(x + xen.NetifExtraType), *u8(x + xen.NetifExtraFlags)
			more = xflags&xen.XEN_NETIF_EXTRA_FLAG_MORE != 0
			switch {
			case typ == xen.XEN_NETIF_EXTRA_TYPE_GSO:
				gsoSize, gsoType = *u16(x + xen.NetifExtraGSOSize), *u8(x + xen.NetifExtraGSOType)
				if gsoSize == 0 || gsoType != xen.XEN_NETIF_GSO_TYPE_TCPV4 && gsoType != xen.XEN_NETIF_GSO_TYPE_TCPV6 {
					err = true
				}
			default:
				err = true // none, or a type we never asked for (hash, multicast)
			}
			if end-start >= rxSlots {
				q.d.breakDevice("rx extra-info chain as long as the ring")
				return false
			}
		}
		if !q.d.feat.RxGSO {
			bad = true
		}
	}
	for more := flags&xen.NETRXF_more_data != 0; more; {
		if end == prod {
			return q.rxIncomplete(start, end)
		}
		e := rxEntry(ring, end)
		end++
		dataSlots++
		more = *u16(e + xen.NetifRxResponseFlags)&xen.NETRXF_more_data != 0
		if end-start >= rxSlots {
			q.d.breakDevice("rx frame chain as long as the ring")
			return false
		}
	}
	if dataSlots > 1 && !q.d.rxSG {
		bad = true // several slots were never offered
	}
	if dataSlots > rxMaxSlots {
		err = true
	}
	// The data slots' offsets and lengths, each within its page.
	parts := q.rxParts[:0]
	if !bad && !err {
		for i := start; i != end; i++ {
			if i != start && int(i-start) <= int(end-start)-dataSlots {
				continue // an extra-info slot
			}
			e := rxEntry(ring, i)
			off := int(*u16(e + xen.NetifRxResponseOffset))
			n := int(int16(*u16(e + xen.NetifRxResponseStatus)))
			page := int(i % rxSlots)
			if n < 0 || off+n > xen.PageSize || !q.rxPosted[page] {
				err = true
				break
			}
			total += n
			parts = append(parts, q.rxPage(page)[off:off+n])
		}
	}
	switch {
	case bad:
		q.badResponses.Add(1)
		q.d.badResponses.Add(1)
	case err || total < 14 || total > maxRxFrame || total > maxFrame && !q.d.rxSG:
		q.d.rxErrors.Add(1)
	default:
		f := Frame{Parts: parts, Len: total, GSOType: gsoType, GSOSize: gsoSize,
			CsumBlank: flags&xen.NETRXF_csum_blank != 0,
			CsumValid: flags&(xen.NETRXF_csum_blank|xen.NETRXF_data_validated) != 0 && q.d.feat.RxCsum}
		if gsoType != 0 {
			q.d.rxGSO.Add(1)
		}
		if dataSlots > 1 {
			q.d.rxMultiSlot.Add(1)
		}
		q.rxFrames.Add(1)
		q.d.deliver(&f)
	}
	q.rxParts = parts[:0]
	// Post every page of the chain again, in the positions 256 on (the same pages).
	for i := start; i != end; i++ {
		e := rxEntry(ring, q.rxReqProd)
		page := q.rxReqProd % rxSlots
		*u16(e + xen.NetifRxRequestID) = uint16(page)
		*u32(e + xen.NetifRxRequestGref) = uint32(q.rxRefs[page])
		q.rxReqProd++
	}
	q.rxRspCons = end
	return true
}

// rxIncomplete handles a chain that runs up to prod without its end: wait for the rest, or,
// when the backend holds every page already, it never comes: the device stops.
func (q *queue) rxIncomplete(start, end uint32) bool {
	if end-start >= q.rxReqProd-start {
		q.d.breakDevice("rx frame chain over every page posted (" + strconv.Itoa(int(end-start)) + " slots)")
	}
	return false
}

// deliver hands a frame to the receiver, or copies it into Receive's queue.
func (d *Device) deliver(f *Frame) {
	d.rxFrames.Add(1)
	d.rxBytes.Add(uint64(f.Len))
	d.recvMu.Lock()
	recv := d.recv
	d.recvMu.Unlock()
	if recv != nil {
		d.deliverMu.Lock()
		recv(f)
		d.deliverMu.Unlock()
		return
	}
	select {
	case d.rxq <- f.Bytes():
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

// SetReceiver makes the device call f with every received frame (on a queue's rx
// goroutine, one frame at a time whatever the queue; f copies the frame's parts out before returning, may call
// Send, and should not block for long: while it runs the rx ring is not refilled) instead
// of queueing it for Receive. SetReceiver(nil) goes back to Receive.
func (d *Device) SetReceiver(f func(*Frame)) {
	d.SetBatchReceiver(f, nil)
}

// SetBatchReceiver is SetReceiver, and also calls end when the device has drained the rx
// ring (after the last frame of a batch: the pages are posted again), on the same goroutine.
// A receiver may hold frames it was given (copied out) until then, to hand them on together
// (netstack's receive coalescing); nothing is held past end.
func (d *Device) SetBatchReceiver(f func(*Frame), end func()) {
	d.recvMu.Lock()
	d.recv, d.recvEnd = f, end
	d.recvMu.Unlock()
}
