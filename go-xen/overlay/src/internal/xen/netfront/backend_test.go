// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build xen

package netfront

import (
	"internal/xen"
	"sync/atomic"
	"testing"
	"unsafe"
)

// A fake backend: the device's rings in plain memory, responses written by the test as a
// hostile netback would. Run in a guest by tests/xen/test_netfront_backend.py.

type fakeRings struct {
	tx, rx []byte
	pages  [rxSlots][xen.PageSize]byte
}

// newFakeDevice makes a device of n queues over fake rings, as setupRings leaves it.
func newFakeDevice(t *testing.T, n int) (*Device, []*fakeRings) {
	d := &Device{closed: make(chan struct{}), rxq: make(chan []byte, rxQueueLen)}
	var fs []*fakeRings
	for i := range n {
		f := &fakeRings{tx: make([]byte, xen.PageSize), rx: make([]byte, xen.PageSize)}
		q := newQueue(d, i)
		q.txPage = func(int) []byte { return make([]byte, xen.PageSize) }
		q.rings = [2]uintptr{uintptr(unsafe.Pointer(&f.tx[0])), uintptr(unsafe.Pointer(&f.rx[0]))}
		q.rxPage = func(id int) []byte { return f.pages[id][:] }
		for i := range txSlots {
			q.txFree = append(q.txFree, uint16(i))
		}
		for i := range rxSlots { // every rx page posted, as connectRings does
			q.rxPosted[i] = true
			q.rxReqProd++
		}
		d.queues[i] = q
		fs = append(fs, f)
	}
	d.active.Store(int32(n))
	return d, fs
}

// newFakeQueue is a device of one queue.
func newFakeQueue(t *testing.T) (*queue, *fakeRings) {
	d, fs := newFakeDevice(t, 1)
	return d.queues[0], fs[0]
}

// sendFake takes n tx slots as Send would, without the grant pages.
func (q *queue) sendFake(n int) []uint16 {
	var ids []uint16
	for range n {
		id := q.txFree[len(q.txFree)-1]
		q.txFree = q.txFree[:len(q.txFree)-1]
		q.txBusy[id] = true
		q.txReqProd++
		ids = append(ids, id)
	}
	return ids
}

func (q *queue) txRespond(i uint32, id uint16, status int16) {
	e := txEntry(q.txRing(), i)
	*u16(e + xen.NetifTxResponseID) = id
	*u16(e + xen.NetifTxResponseStatus) = uint16(status)
}

func (q *queue) rxRespond(i uint32, id, off, flags uint16, status int16) {
	e := rxEntry(q.rxRing(), i)
	*u16(e + xen.NetifRxResponseID) = id
	*u16(e + xen.NetifRxResponseOffset) = off
	*u16(e + xen.NetifRxResponseFlags) = flags
	*u16(e + xen.NetifRxResponseStatus) = uint16(status)
}

func setProd(ring uintptr, prod uint32) { atomic.StoreUint32(u32(ring+xen.SringRspProd), prod) }

func TestBackendTxIDs(t *testing.T) {
	q, _ := newFakeQueue(t)
	ids := q.sendFake(3)
	q.txRespond(0, ids[0], xen.NETIF_RSP_OKAY)
	q.txRespond(1, 9999, xen.NETIF_RSP_OKAY)   // out of range
	q.txRespond(2, ids[0], xen.NETIF_RSP_OKAY) // answered twice
	setProd(q.txRing(), 3)
	free := len(q.txFree)
	q.reclaimTx()
	if got := len(q.txFree); got != free+1 {
		t.Fatalf("free slots %d, want %d (one real answer)", got, free+1)
	}
	if st := q.d.Stats(); st.BadResponses != 2 || st.Broken {
		t.Fatalf("stats %+v, want 2 bad responses, not broken", st)
	}
	// Two more requests; the backend answers the two left from before: they are freed, the
	// new ones stay in flight, and no slot is ever free twice.
	more := q.sendFake(2)
	q.txRespond(3, ids[1], xen.NETIF_RSP_OKAY)
	q.txRespond(4, ids[2], -1) // NETIF_RSP_ERROR
	setProd(q.txRing(), 5)
	q.reclaimTx()
	if len(q.txFree) != txSlots-2 || !q.txBusy[more[0]] || !q.txBusy[more[1]] {
		t.Fatalf("free slots %d, want %d", len(q.txFree), txSlots-2)
	}
	seen := map[uint16]bool{}
	for _, id := range q.txFree {
		if seen[id] {
			t.Fatalf("slot %d free twice", id)
		}
		seen[id] = true
	}
	if st := q.d.Stats(); st.TxErrors != 1 || st.Broken {
		t.Fatalf("stats %+v", st)
	}
}

func TestBackendTxProducerJump(t *testing.T) {
	q, _ := newFakeQueue(t)
	q.sendFake(2)
	setProd(q.txRing(), 1000) // more responses than requests
	q.reclaimTx()
	if !q.d.Stats().Broken {
		t.Fatal("a producer jump did not stop the device")
	}
	if err := q.d.Send(make([]byte, 60)); err != ErrBroken {
		t.Fatalf("Send after the backend broke the ring: %v, want ErrBroken", err)
	}
}

func TestBackendRx(t *testing.T) {
	q, f := newFakeQueue(t)
	copy(f.pages[0][100:], "a good frame of sixty bytes or so, padded out to the minimum..")
	q.rxRespond(0, 0, 100, 0, 60)                   // good
	q.rxRespond(1, 300, 0, 0, 60)                   // any id: pages go by ring position
	q.rxRespond(2, 7, 0, xen.NETRXF_more_data, 60)  // sg never offered: a chain of two
	q.rxRespond(3, 7, 0, 0, 60)                     //   (its second slot)
	q.rxRespond(4, 8, 0, xen.NETRXF_extra_info, 60) // gso never offered
	q.rxRespond(5, 0, 0, 0, 0)                      //   (its extra-info slot, type none)
	q.rxRespond(6, 9, 4000, 0, 200)                 // past the page
	q.rxRespond(7, 10, 0, 0, -1)                    // error status
	q.rxRespond(8, 11, 0, 0, xen.PageSize)          // longer than a frame without sg
	q.rxRespond(9, 12, 0, 0, 10)                    // shorter than an Ethernet header
	setProd(q.rxRing(), 10)
	q.receive()
	st := q.d.Stats()
	if st.RxFrames != 2 || st.BadResponses != 2 || st.RxErrors != 4 || st.Broken {
		t.Fatalf("stats %+v: want 2 frames, 2 bad responses, 4 errors", st)
	}
	if got := <-q.d.rxq; string(got[:12]) != "a good frame" {
		t.Fatalf("frame %q", got[:12])
	}
	checkReposted(t, q, 10)
	setProd(q.rxRing(), 10+rxSlots+1) // past every page posted
	q.receive()
	if !q.d.Stats().Broken {
		t.Fatal("an rx producer jump did not stop the device")
	}
}

// checkReposted checks that every page consumed is posted again at its next position.
func checkReposted(t *testing.T, q *queue, consumed uint32) {
	t.Helper()
	if q.rxRspCons != consumed || q.rxReqProd != consumed+rxSlots {
		t.Fatalf("consumed %d, posted up to %d; want %d, %d", q.rxRspCons, q.rxReqProd, consumed, consumed+rxSlots)
	}
	for i := uint32(rxSlots); i < q.rxReqProd; i++ {
		if id := *u16(rxEntry(q.rxRing(), i) + xen.NetifRxRequestID); uint32(id) != i%rxSlots {
			t.Fatalf("position %d: page %d posted", i, id)
		}
	}
}

func (f *fakeRings) rxExtra(q *queue, i uint32, typ, flags uint8, size uint16, gso uint8) {
	e := rxEntry(q.rxRing(), i)
	clear((*[xen.SizeofNetifRxEntry]byte)(unsafe.Pointer(e))[:])
	*u8(e + xen.NetifExtraType) = typ
	*u8(e + xen.NetifExtraFlags) = flags
	*u16(e + xen.NetifExtraGSOSize) = size
	*u8(e + xen.NetifExtraGSOType) = gso
}

// With sg and GSO offered, a frame spans pages: the first response, its GSO extra-info
// slot, then the rest; the receiver sees the pieces in order with the GSO size and the
// checksum flags, a chain cut short by the producer waits for its end, and bad extra info
// or slots are counted and dropped with every page posted again.
func TestBackendRxChains(t *testing.T) {
	q, f := newFakeQueue(t)
	q.d.rxSG, q.d.feat = true, Features{SG: true, RxGSO: true, RxCsum: true}
	var got []*Frame
	var data [][]byte
	q.d.SetReceiver(func(fr *Frame) { got = append(got, fr); data = append(data, fr.Bytes()) })
	for p := 0; p < 4; p++ {
		for i := range f.pages[p] {
			f.pages[p][i] = byte(p)
		}
	}
	// A 9192-byte GSO frame: pages 0, 2, 3 (1 holds the extra info).
	q.rxRespond(0, 0, 0, xen.NETRXF_more_data|xen.NETRXF_extra_info|xen.NETRXF_csum_blank|xen.NETRXF_data_validated, 4096)
	f.rxExtra(q, 1, xen.XEN_NETIF_EXTRA_TYPE_GSO, 0, 1448, xen.XEN_NETIF_GSO_TYPE_TCPV4)
	q.rxRespond(2, 2, 0, xen.NETRXF_more_data, 4096)
	q.rxRespond(3, 3, 0, 0, 1000)
	setProd(q.rxRing(), 3) // the producer stops inside the chain
	q.receive()
	if len(got) != 0 || q.rxRspCons != 0 {
		t.Fatalf("an unfinished chain was taken: %d frames, consumer %d", len(got), q.rxRspCons)
	}
	setProd(q.rxRing(), 4)
	q.receive()
	if len(got) != 1 {
		t.Fatalf("%d frames, want 1; stats %+v", len(got), q.d.Stats())
	}
	fr, b := got[0], data[0]
	if fr.Len != 9192 || len(b) != 9192 || b[0] != 0 || b[4096] != 2 || b[8192] != 3 || b[9191] != 3 ||
		fr.GSOType != xen.XEN_NETIF_GSO_TYPE_TCPV4 || fr.GSOSize != 1448 || !fr.CsumValid || !fr.CsumBlank {
		t.Fatalf("frame %+v", *fr)
	}
	checkReposted(t, q, 4)
	// Bad chains: an unknown extra type, a GSO size of 0, a middle slot past its page.
	q.rxRespond(4, 0, 0, xen.NETRXF_extra_info, 100)
	f.rxExtra(q, 5, 3, 0, 0, 0) // multicast: never asked for
	q.rxRespond(6, 0, 0, xen.NETRXF_extra_info, 100)
	f.rxExtra(q, 7, xen.XEN_NETIF_EXTRA_TYPE_GSO, 0, 0, xen.XEN_NETIF_GSO_TYPE_TCPV4)
	q.rxRespond(8, 0, 0, xen.NETRXF_more_data, 4096)
	q.rxRespond(9, 0, 100, xen.NETRXF_more_data, 4000)
	q.rxRespond(10, 0, 0, 0, 100)
	setProd(q.rxRing(), 11)
	q.receive()
	if st := q.d.Stats(); len(got) != 1 || st.RxErrors != 3 || st.Broken || st.RxGSO != 1 || st.RxMultiSlot != 1 {
		t.Fatalf("stats %+v, %d frames", st, len(got))
	}
	checkReposted(t, q, 11)
	// A chain over every page posted can never end: the device stops.
	for i := uint32(11); i < 11+rxSlots; i++ {
		q.rxRespond(i, 0, 0, xen.NETRXF_more_data, 100)
	}
	setProd(q.rxRing(), 11+rxSlots)
	q.receive()
	if !q.d.Stats().Broken {
		t.Fatal("an endless chain did not stop the device")
	}
}

// A 10000-byte GSO frame goes out as netif.h lays it out: the first request with the whole
// size and the checksum, more-data and extra-info flags, the GSO segment, then the other
// pages; the backend's answers (a NULL one for the extra slot) free every page.
func TestBackendTxGSO(t *testing.T) {
	q, _ := newFakeQueue(t)
	var pages [txSlots][xen.PageSize]byte
	q.txPage = func(id int) []byte { return pages[id][:] }
	frame := make([]byte, 10000)
	for i := range frame {
		frame[i] = byte(i / 4096)
	}
	o := TxOffload{CsumBlank: true, GSOType: xen.XEN_NETIF_GSO_TYPE_TCPV4, GSOSize: 1448}
	if err := q.d.SendOffload(frame, o); err != ErrFrameSize {
		t.Fatalf("a 10000-byte frame without sg: %v, want ErrFrameSize", err)
	}
	q.d.feat = Features{SG: true, TxCsumV4: true}
	if err := q.d.SendOffload(frame, o); err != ErrOffload {
		t.Fatalf("GSO not negotiated: %v, want ErrOffload", err)
	}
	q.d.feat.TxGSOv4 = true
	if err := q.d.SendOffload(frame, TxOffload{GSOType: o.GSOType, GSOSize: 1448}); err != ErrOffload {
		t.Fatalf("GSO without a partial checksum: %v, want ErrOffload", err)
	}
	if err := q.d.SendOffload(frame, o); err != nil {
		t.Fatal(err)
	}
	ring := q.txRing()
	req := func(i uint32) (id, flags, size uint16) {
		e := txEntry(ring, i)
		return *u16(e + xen.NetifTxRequestID), *u16(e + xen.NetifTxRequestFlags), *u16(e + xen.NetifTxRequestSize)
	}
	id0, fl0, sz0 := req(0)
	x := txEntry(ring, 1)
	id2, fl2, sz2 := req(2)
	id3, fl3, sz3 := req(3)
	if q.txReqProd != 4 || sz0 != 10000 || fl0 != xen.NETTXF_csum_blank|xen.NETTXF_data_validated|xen.NETTXF_more_data|xen.NETTXF_extra_info ||
		*u8(x + xen.NetifExtraType) != xen.XEN_NETIF_EXTRA_TYPE_GSO || *u16(x + xen.NetifExtraGSOSize) != 1448 ||
		*u8(x + xen.NetifExtraGSOType) != xen.XEN_NETIF_GSO_TYPE_TCPV4 || *u8(x + xen.NetifExtraFlags) != 0 ||
		fl2 != xen.NETTXF_more_data || sz2 != 4096 || fl3 != 0 || sz3 != 10000-8192 {
		t.Fatalf("requests: %d %#x %d / %d %#x %d / %d %#x %d", id0, fl0, sz0, id2, fl2, sz2, id3, fl3, sz3)
	}
	if pages[id0][4095] != 0 || pages[id2][0] != 1 || pages[id3][0] != 2 || pages[id3][10000-8193] != 2 {
		t.Fatal("frame not copied page by page")
	}
	q.txRespond(0, id0, xen.NETIF_RSP_OKAY)
	q.txRespond(1, 0xffff, xen.NETIF_RSP_NULL)
	q.txRespond(2, id3, xen.NETIF_RSP_OKAY) // answers in any order
	q.txRespond(3, id2, xen.NETIF_RSP_OKAY)
	setProd(ring, 4)
	q.reclaimTx()
	if st := q.d.Stats(); len(q.txFree) != txSlots || st.BadResponses != 0 || st.TxGSO != 1 {
		t.Fatalf("%d free, stats %+v", len(q.txFree), st)
	}
	// Ring entries, not only pages, bound what is in flight: 64 such frames take 192 pages
	// and all 256 entries; with 64 pages still free, a 65th has no room and would wait.
	for i := 0; i < 64; i++ {
		if err := q.d.SendOffload(frame, o); err != nil {
			t.Fatal(err)
		}
	}
	if used := q.txReqProd - q.txRspCons; used != txSlots || len(q.txFree) != 64 || q.txRoom(3, 4) {
		t.Fatalf("%d ring entries in flight, %d pages free, room %v", used, len(q.txFree), q.txRoom(3, 4))
	}
}

// A frame in two parts (headers, then a payload from elsewhere) lands in the pages as the
// same frame in one piece would, the boundary between the parts falling inside a page.
func TestBackendTxParts(t *testing.T) {
	q, _ := newFakeQueue(t)
	var pages [txSlots][xen.PageSize]byte
	q.txPage = func(id int) []byte { return pages[id][:] }
	q.d.feat = Features{SG: true}
	frame := make([]byte, 9000)
	for i := range frame {
		frame[i] = byte(i * 7 / 5)
	}
	for _, cut := range []int{14, 54, 4096, 4100, 9000} {
		start := q.txReqProd
		if err := q.d.SendParts(frame[:cut], frame[cut:], TxOffload{}); err != nil {
			t.Fatal(err)
		}
		var got []byte
		for i := start; i < q.txReqProd; i++ {
			e := txEntry(q.txRing(), i)
			id, size := *u16(e + xen.NetifTxRequestID), int(*u16(e + xen.NetifTxRequestSize))
			if i == start {
				if size != len(frame) {
					t.Fatalf("cut %d: first request's size %d", cut, size)
				}
				size = min(size, xen.PageSize)
			}
			got = append(got, pages[id][:size]...)
		}
		if string(got) != string(frame) {
			t.Fatalf("cut %d: the pages do not hold the frame", cut)
		}
		for i := start; i < q.txReqProd; i++ {
			q.txRespond(i, *u16(txEntry(q.txRing(), i) + xen.NetifTxRequestID), xen.NETIF_RSP_OKAY)
		}
		setProd(q.txRing(), q.txReqProd)
		q.reclaimTx()
	}
	if err := q.d.SendParts(frame[:10], frame[10:], TxOffload{}); err != ErrFrameSize {
		t.Fatalf("a head shorter than an Ethernet header: %v", err)
	}
}
