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
	copy(f.pages[5][100:], "a good frame of sixty bytes or so, padded out to the minimum..")
	d.rxRespond(0, 5, 100, 0, 60)                   // good
	d.rxRespond(1, 300, 0, 0, 60)                   // id out of range
	d.rxRespond(2, 5, 100, 0, 60)                   // id 5 again: re-posted, fine
	d.rxRespond(3, 7, 0, xen.NETRXF_more_data, 60)  // sg never offered
	d.rxRespond(4, 8, 0, xen.NETRXF_extra_info, 60) // gso never offered
	d.rxRespond(5, 9, 4000, 0, 200)                 // past the page
	d.rxRespond(6, 10, 0, 0, -1)                    // error status
	d.rxRespond(7, 11, 0, 0, xen.PageSize)          // longer than a frame
	setProd(d.rxRing(), 8)
	d.receive()
	st := d.Stats()
	if st.RxFrames != 2 || st.BadResponses != 3 || st.RxErrors != 3 || st.Broken {
		t.Fatalf("stats %+v: want 2 frames, 3 bad responses, 3 errors", st)
	}
	if got := <-d.rxq; string(got[:12]) != "a good frame" {
		t.Fatalf("frame %q", got[:12])
	}
	// Answering a page that was not posted (id 300 never was; a page answered and not yet
	// re-posted cannot be named twice in one batch here, as receive re-posts at once).
	setProd(d.rxRing(), 8+rxSlots+1) // past every page posted
	d.receive()
	if !d.Stats().Broken {
		t.Fatal("an rx producer jump did not stop the device")
	}
}
