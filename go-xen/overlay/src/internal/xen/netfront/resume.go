// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build xen

package netfront

// Suspend and resume (internal/xen.OnSuspend). suspend stops the rings: it holds every
// queue's rxMu and txMu until resume (all rxMu first: a receiver callback holding one may be
// waiting for tx room, which the event goroutines free under txMu), so no frame is consumed
// or queued meanwhile (senders wait). After a cancelled suspend the device goes on as it
// was. In a restored domain the old backend, grants and event channels are gone and the
// toolstack has made a new backend (backend/vif/<new domid>/<n>, state InitWait): resume
// reads the device's xenstore directory again and connects as Open does, settling the number
// of queues anew (the new host's backend may take fewer, or more, up to the vCPUs), the same
// pages granted anew; the frames that were in flight are lost. Queues left out of use park
// their goroutines, and their waiting senders move to the queues in use. A reconnection that
// fails stops the device (breakDevice) with the reason on the console.

func (d *Device) suspend() {
	n := 0
	for n < len(d.queues) && d.queues[n] != nil {
		n++
	}
	for _, q := range d.queues[:n] {
		q.rxMu.Lock()
	}
	for _, q := range d.queues[:n] {
		q.txMu.Lock()
	}
	d.locked = n
}

func (d *Device) resume(newDomain bool) {
	locked := d.queues[:d.locked]
	defer func() {
		for _, q := range locked {
			q.txMu.Unlock()
		}
		for _, q := range locked {
			q.rxMu.Unlock()
		}
	}()
	if !newDomain || d.broken.Load() {
		return
	}
	select {
	case <-d.closed:
		return
	default:
	}
	if err := d.reconnect(); err != nil {
		d.breakDevice("reconnecting after the restore: " + err.Error())
		return
	}
	d.restores.Add(1)
	d.start() // new queues' goroutines; the rx rings are full of requests again
}

func (d *Device) reconnect() error {
	if err := d.bus.Reread(); err != nil {
		return err
	}
	if err := d.readMAC(); err != nil {
		return err
	}
	return d.bus.Connect(d.setupRings, stateTimeout)
}
