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

func newFakeDevice(t *testing.T) (*Device, *fakeRings) {
	f := &fakeRings{tx: make([]byte, xen.PageSize), rx: make([]byte, xen.PageSize)}
	d := &Device{closed: make(chan struct{}), txSpace: make(chan struct{}, 1), rxq: make(chan []byte, rxQueueLen)}
	d.txPage = func(int) []byte { return make([]byte, xen.PageSize) }
	d.rings = [2]uintptr{uintptr(unsafe.Pointer(&f.tx[0])), uintptr(unsafe.Pointer(&f.rx[0]))}
	d.rxPage = func(id int) []byte { return f.pages[id][:] }
	for i := range txSlots {
		d.txFree = append(d.txFree, uint16(i))
	}
	for i := range rxSlots { // every rx page posted, as setupRings does
		d.rxPosted[i] = true
		d.rxReqProd++
	}
	return d, f
}

// sendFake takes n tx slots as Send would, without the grant pages.
func (d *Device) sendFake(n int) []uint16 {
	var ids []uint16
	for range n {
		id := d.txFree[len(d.txFree)-1]
		d.txFree = d.txFree[:len(d.txFree)-1]
		d.txBusy[id] = true
		d.txReqProd++
		ids = append(ids, id)
	}
	return ids
}

func (d *Device) txRespond(i uint32, id uint16, status int16) {
	e := txEntry(d.txRing(), i)
	*u16(e + xen.NetifTxResponseID) = id
	*u16(e + xen.NetifTxResponseStatus) = uint16(status)
}

func (d *Device) rxRespond(i uint32, id, off, flags uint16, status int16) {
	e := rxEntry(d.rxRing(), i)
	*u16(e + xen.NetifRxResponseID) = id
	*u16(e + xen.NetifRxResponseOffset) = off
	*u16(e + xen.NetifRxResponseFlags) = flags
	*u16(e + xen.NetifRxResponseStatus) = uint16(status)
}

func setProd(ring uintptr, prod uint32) { atomic.StoreUint32(u32(ring+xen.SringRspProd), prod) }

func TestBackendTxIDs(t *testing.T) {
	d, _ := newFakeDevice(t)
	ids := d.sendFake(3)
	d.txRespond(0, ids[0], xen.NETIF_RSP_OKAY)
	d.txRespond(1, 9999, xen.NETIF_RSP_OKAY)   // out of range
	d.txRespond(2, ids[0], xen.NETIF_RSP_OKAY) // answered twice
	setProd(d.txRing(), 3)
	free := len(d.txFree)
	d.reclaimTx()
	if got := len(d.txFree); got != free+1 {
		t.Fatalf("free slots %d, want %d (one real answer)", got, free+1)
	}
	if st := d.Stats(); st.BadResponses != 2 || st.Broken {
		t.Fatalf("stats %+v, want 2 bad responses, not broken", st)
	}
	// Two more requests; the backend answers the two left from before: they are freed, the
	// new ones stay in flight, and no slot is ever free twice.
	more := d.sendFake(2)
	d.txRespond(3, ids[1], xen.NETIF_RSP_OKAY)
	d.txRespond(4, ids[2], -1) // NETIF_RSP_ERROR
	setProd(d.txRing(), 5)
	d.reclaimTx()
	if len(d.txFree) != txSlots-2 || !d.txBusy[more[0]] || !d.txBusy[more[1]] {
		t.Fatalf("free slots %d, want %d", len(d.txFree), txSlots-2)
	}
	seen := map[uint16]bool{}
	for _, id := range d.txFree {
		if seen[id] {
			t.Fatalf("slot %d free twice", id)
		}
		seen[id] = true
	}
	if st := d.Stats(); st.TxErrors != 1 || st.Broken {
		t.Fatalf("stats %+v", st)
	}
}

func TestBackendTxProducerJump(t *testing.T) {
	d, _ := newFakeDevice(t)
	d.sendFake(2)
	setProd(d.txRing(), 1000) // more responses than requests
	d.reclaimTx()
	if !d.Stats().Broken {
		t.Fatal("a producer jump did not stop the device")
	}
	if err := d.Send(make([]byte, 60)); err != ErrBroken {
		t.Fatalf("Send after the backend broke the ring: %v, want ErrBroken", err)
	}
}

func TestBackendRx(t *testing.T) {
	d, f := newFakeDevice(t)
	copy(f.pages[0][100:], "a good frame of sixty bytes or so, padded out to the minimum..")
	d.rxRespond(0, 0, 100, 0, 60)                   // good
	d.rxRespond(1, 300, 0, 0, 60)                   // any id: pages go by ring position
	d.rxRespond(2, 7, 0, xen.NETRXF_more_data, 60)  // sg never offered: a chain of two
	d.rxRespond(3, 7, 0, 0, 60)                     //   (its second slot)
	d.rxRespond(4, 8, 0, xen.NETRXF_extra_info, 60) // gso never offered
	d.rxRespond(5, 0, 0, 0, 0)                      //   (its extra-info slot, type none)
	d.rxRespond(6, 9, 4000, 0, 200)                 // past the page
	d.rxRespond(7, 10, 0, 0, -1)                    // error status
	d.rxRespond(8, 11, 0, 0, xen.PageSize)          // longer than a frame without sg
	d.rxRespond(9, 12, 0, 0, 10)                    // shorter than an Ethernet header
	setProd(d.rxRing(), 10)
	d.receive()
	st := d.Stats()
	if st.RxFrames != 2 || st.BadResponses != 2 || st.RxErrors != 4 || st.Broken {
		t.Fatalf("stats %+v: want 2 frames, 2 bad responses, 4 errors", st)
	}
	if got := <-d.rxq; string(got[:12]) != "a good frame" {
		t.Fatalf("frame %q", got[:12])
	}
	checkReposted(t, d, 10)
	setProd(d.rxRing(), 10+rxSlots+1) // past every page posted
	d.receive()
	if !d.Stats().Broken {
		t.Fatal("an rx producer jump did not stop the device")
	}
}

// checkReposted checks that every page consumed is posted again at its next position.
func checkReposted(t *testing.T, d *Device, consumed uint32) {
	t.Helper()
	if d.rxRspCons != consumed || d.rxReqProd != consumed+rxSlots {
		t.Fatalf("consumed %d, posted up to %d; want %d, %d", d.rxRspCons, d.rxReqProd, consumed, consumed+rxSlots)
	}
	for i := uint32(rxSlots); i < d.rxReqProd; i++ {
		if id := *u16(rxEntry(d.rxRing(), i) + xen.NetifRxRequestID); uint32(id) != i%rxSlots {
			t.Fatalf("position %d: page %d posted", i, id)
		}
	}
}

func (f *fakeRings) rxExtra(d *Device, i uint32, typ, flags uint8, size uint16, gso uint8) {
	e := rxEntry(d.rxRing(), i)
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
	d, f := newFakeDevice(t)
	d.rxSG, d.feat = true, Features{SG: true, RxGSO: true, RxCsum: true}
	var got []*Frame
	var data [][]byte
	d.SetReceiver(func(fr *Frame) { got = append(got, fr); data = append(data, fr.Bytes()) })
	for p := 0; p < 4; p++ {
		for i := range f.pages[p] {
			f.pages[p][i] = byte(p)
		}
	}
	// A 9192-byte GSO frame: pages 0, 2, 3 (1 holds the extra info).
	d.rxRespond(0, 0, 0, xen.NETRXF_more_data|xen.NETRXF_extra_info|xen.NETRXF_csum_blank|xen.NETRXF_data_validated, 4096)
	f.rxExtra(d, 1, xen.XEN_NETIF_EXTRA_TYPE_GSO, 0, 1448, xen.XEN_NETIF_GSO_TYPE_TCPV4)
	d.rxRespond(2, 2, 0, xen.NETRXF_more_data, 4096)
	d.rxRespond(3, 3, 0, 0, 1000)
	setProd(d.rxRing(), 3) // the producer stops inside the chain
	d.receive()
	if len(got) != 0 || d.rxRspCons != 0 {
		t.Fatalf("an unfinished chain was taken: %d frames, consumer %d", len(got), d.rxRspCons)
	}
	setProd(d.rxRing(), 4)
	d.receive()
	if len(got) != 1 {
		t.Fatalf("%d frames, want 1; stats %+v", len(got), d.Stats())
	}
	fr, b := got[0], data[0]
	if fr.Len != 9192 || len(b) != 9192 || b[0] != 0 || b[4096] != 2 || b[8192] != 3 || b[9191] != 3 ||
		fr.GSOType != xen.XEN_NETIF_GSO_TYPE_TCPV4 || fr.GSOSize != 1448 || !fr.CsumValid || !fr.CsumBlank {
		t.Fatalf("frame %+v", *fr)
	}
	checkReposted(t, d, 4)
	// Bad chains: an unknown extra type, a GSO size of 0, a middle slot past its page.
	d.rxRespond(4, 0, 0, xen.NETRXF_extra_info, 100)
	f.rxExtra(d, 5, 3, 0, 0, 0) // multicast: never asked for
	d.rxRespond(6, 0, 0, xen.NETRXF_extra_info, 100)
	f.rxExtra(d, 7, xen.XEN_NETIF_EXTRA_TYPE_GSO, 0, 0, xen.XEN_NETIF_GSO_TYPE_TCPV4)
	d.rxRespond(8, 0, 0, xen.NETRXF_more_data, 4096)
	d.rxRespond(9, 0, 100, xen.NETRXF_more_data, 4000)
	d.rxRespond(10, 0, 0, 0, 100)
	setProd(d.rxRing(), 11)
	d.receive()
	if st := d.Stats(); len(got) != 1 || st.RxErrors != 3 || st.Broken || st.RxGSO != 1 || st.RxMultiSlot != 1 {
		t.Fatalf("stats %+v, %d frames", st, len(got))
	}
	checkReposted(t, d, 11)
	// A chain over every page posted can never end: the device stops.
	for i := uint32(11); i < 11+rxSlots; i++ {
		d.rxRespond(i, 0, 0, xen.NETRXF_more_data, 100)
	}
	setProd(d.rxRing(), 11+rxSlots)
	d.receive()
	if !d.Stats().Broken {
		t.Fatal("an endless chain did not stop the device")
	}
}

// A 10000-byte GSO frame goes out as netif.h lays it out: the first request with the whole
// size and the checksum, more-data and extra-info flags, the GSO segment, then the other
// pages; the backend's answers (a NULL one for the extra slot) free every page.
func TestBackendTxGSO(t *testing.T) {
	d, _ := newFakeDevice(t)
	var pages [txSlots][xen.PageSize]byte
	d.txPage = func(id int) []byte { return pages[id][:] }
	frame := make([]byte, 10000)
	for i := range frame {
		frame[i] = byte(i / 4096)
	}
	o := TxOffload{CsumBlank: true, GSOType: xen.XEN_NETIF_GSO_TYPE_TCPV4, GSOSize: 1448}
	if err := d.SendOffload(frame, o); err != ErrFrameSize {
		t.Fatalf("a 10000-byte frame without sg: %v, want ErrFrameSize", err)
	}
	d.feat = Features{SG: true, TxCsumV4: true}
	if err := d.SendOffload(frame, o); err != ErrOffload {
		t.Fatalf("GSO not negotiated: %v, want ErrOffload", err)
	}
	d.feat.TxGSOv4 = true
	if err := d.SendOffload(frame, TxOffload{GSOType: o.GSOType, GSOSize: 1448}); err != ErrOffload {
		t.Fatalf("GSO without a partial checksum: %v, want ErrOffload", err)
	}
	if err := d.SendOffload(frame, o); err != nil {
		t.Fatal(err)
	}
	ring := d.txRing()
	req := func(i uint32) (id, flags, size uint16) {
		e := txEntry(ring, i)
		return *u16(e + xen.NetifTxRequestID), *u16(e + xen.NetifTxRequestFlags), *u16(e + xen.NetifTxRequestSize)
	}
	id0, fl0, sz0 := req(0)
	x := txEntry(ring, 1)
	id2, fl2, sz2 := req(2)
	id3, fl3, sz3 := req(3)
	if d.txReqProd != 4 || sz0 != 10000 || fl0 != xen.NETTXF_csum_blank|xen.NETTXF_data_validated|xen.NETTXF_more_data|xen.NETTXF_extra_info ||
		*u8(x + xen.NetifExtraType) != xen.XEN_NETIF_EXTRA_TYPE_GSO || *u16(x + xen.NetifExtraGSOSize) != 1448 ||
		*u8(x + xen.NetifExtraGSOType) != xen.XEN_NETIF_GSO_TYPE_TCPV4 || *u8(x + xen.NetifExtraFlags) != 0 ||
		fl2 != xen.NETTXF_more_data || sz2 != 4096 || fl3 != 0 || sz3 != 10000-8192 {
		t.Fatalf("requests: %d %#x %d / %d %#x %d / %d %#x %d", id0, fl0, sz0, id2, fl2, sz2, id3, fl3, sz3)
	}
	if pages[id0][4095] != 0 || pages[id2][0] != 1 || pages[id3][0] != 2 || pages[id3][10000-8193] != 2 {
		t.Fatal("frame not copied page by page")
	}
	d.txRespond(0, id0, xen.NETIF_RSP_OKAY)
	d.txRespond(1, 0xffff, xen.NETIF_RSP_NULL)
	d.txRespond(2, id3, xen.NETIF_RSP_OKAY) // answers in any order
	d.txRespond(3, id2, xen.NETIF_RSP_OKAY)
	setProd(ring, 4)
	d.reclaimTx()
	if st := d.Stats(); len(d.txFree) != txSlots || st.BadResponses != 0 || st.TxGSO != 1 {
		t.Fatalf("%d free, stats %+v", len(d.txFree), st)
	}
	// Ring entries, not only pages, bound what is in flight: 64 such frames take 192 pages
	// and all 256 entries; with 64 pages still free, a 65th has no room and would wait.
	for i := 0; i < 64; i++ {
		if err := d.SendOffload(frame, o); err != nil {
			t.Fatal(err)
		}
	}
	if used := d.txReqProd - d.txRspCons; used != txSlots || len(d.txFree) != 64 || d.txRoom(3, 4) {
		t.Fatalf("%d ring entries in flight, %d pages free, room %v", used, len(d.txFree), d.txRoom(3, 4))
	}
}
