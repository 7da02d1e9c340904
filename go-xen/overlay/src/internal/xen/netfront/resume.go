// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build xen

package netfront

// Suspend and resume (internal/xen.OnSuspend). suspend stops the rings: it holds rxMu and
// txMu until resume, so no frame is consumed or queued meanwhile (senders wait). After a
// cancelled suspend the device goes on as it was. In a restored domain the old backend,
// grants and event channel are gone and the toolstack has made a new backend
// (backend/vif/<new domid>/<n>, state InitWait): resume reads the device's xenstore
// directory again and connects as Open does, the same pages granted anew; the frames that
// were in flight are lost. A reconnection that fails stops the device (breakDevice) with
// the reason on the console.

func (d *Device) suspend() {
	d.rxMu.Lock()
	d.txMu.Lock()
}

func (d *Device) resume(newDomain bool) {
	defer d.rxMu.Unlock()
	defer d.txMu.Unlock()
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
	d.port.Notify() // the rx ring is full of requests again
}

func (d *Device) reconnect() error {
	if err := d.bus.Reread(); err != nil {
		return err
	}
	if err := d.readMAC(); err != nil {
		return err
	}
	return d.bus.Connect(d.shareRings, stateTimeout)
}
