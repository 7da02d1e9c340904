// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build xen

// Package xenbus is a split driver's frontend half of the xenbus handshake, the part every
// PV frontend (netfront today; block and console frontends next) does the same way
// (xen/include/public/io/xenbus.h, docs/misc/xenstore-paths.pandoc):
//
//   - the device's directory device/<class>/<n> in the domain's xenstore names its backend
//     (backend, backend-id);
//   - the frontend waits for the backend to reach InitWait, shares its rings, then writes
//     their references, its features and state Connected in one transaction (Publish), and
//     waits for the backend to be Connected;
//   - to disconnect, it goes Closing and then Closed, each step acknowledged by the backend
//     (Disconnect);
//   - the backend's state is followed with one xenstore watch, no polling.
//
// Every value read from xenstore is the toolstack's or the backend's: a state that is not a
// number is Unknown, a backend-id that does not fit a domain id is an error.
package xenbus

import (
	"errors"
	"internal/xen"
	"internal/xen/xenstore"
	"strconv"
	"strings"
	"time"
)

// Device is one frontend device's xenstore side.
type Device struct {
	XS        *xenstore.Client
	Front     string // device/<class>/<n>
	Back      string // the backend's directory
	BackendID uint16 // the backend's domain (for grants and event channels)
	name      string // how errors name the device ("netfront: vif 0")

	changed chan struct{}   // the backend's state node changed
	watch   *xenstore.Watch // on it
}

// Open reads the backend of the device at front (device/<class>/<n>) and starts watching
// its state. name prefixes errors.
func Open(xs *xenstore.Client, front, name string) (*Device, error) {
	d := &Device{XS: xs, Front: front, name: name, changed: make(chan struct{}, 1)}
	if err := d.Reread(); err != nil {
		return nil, err
	}
	return d, nil
}

// Reread reads backend and backend-id again (a restored domain has a new backend) and
// watches the backend's state node if it moved.
func (d *Device) Reread() error {
	back, err := d.XS.Read(d.Front + "/backend")
	if err != nil {
		return err
	}
	id, err := d.XS.Read(d.Front + "/backend-id")
	if err != nil {
		return err
	}
	n, err := strconv.ParseUint(strings.TrimSpace(id), 10, 16)
	if err != nil {
		return d.Errorf("bad backend-id " + strconv.Quote(id))
	}
	moved := back != d.Back
	d.Back, d.BackendID = back, uint16(n)
	if moved || d.watch == nil {
		if d.watch != nil {
			d.watch.Stop()
		}
		return d.watchBackend()
	}
	return nil
}

// watchBackend starts the one watch on the backend's state node; its goroutine (alive as
// long as the watch) turns events into wake-ups on d.changed.
func (d *Device) watchBackend() error {
	w, err := d.XS.Watch(d.Back + "/state")
	if err != nil {
		return err
	}
	d.watch = w
	go func() {
		for {
			if w.Next() == "" {
				return // stopped: the backend moved
			}
			select {
			case d.changed <- struct{}{}:
			default:
			}
		}
	}()
	return nil
}

// Errorf returns an error naming the device.
func (d *Device) Errorf(msg string) error { return errors.New(d.name + ": " + msg) }

// Read reads key in the frontend's directory.
func (d *Device) Read(key string) (string, error) { return d.XS.Read(d.Front + "/" + key) }

// BackendState returns the backend's state (Unknown when it cannot be read or is not a
// number).
func (d *Device) BackendState() int {
	s, err := d.XS.Read(d.Back + "/state")
	if err != nil {
		return xen.XenbusStateUnknown
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return xen.XenbusStateUnknown
	}
	return n
}

// BackendFeature reports whether the backend offers a feature: its node key reads "1"
// (absent, unreadable or anything else: no).
func (d *Device) BackendFeature(key string) bool {
	v, err := d.XS.Read(d.Back + "/" + key)
	return err == nil && strings.TrimSpace(v) == "1"
}

// BackendUint reads a number the backend offers in its node key (ok false when it is
// absent, unreadable or not a decimal number).
func (d *Device) BackendUint(key string) (n uint64, ok bool) {
	v, err := d.XS.Read(d.Back + "/" + key)
	if err != nil {
		return 0, false
	}
	n, err = strconv.ParseUint(strings.TrimSpace(v), 10, 32)
	return n, err == nil
}

// WaitBackend blocks until ok(backend state) holds and returns that state; it gives up
// after timeout, and as soon as the backend is Closed when ok does not accept Closed.
func (d *Device) WaitBackend(ok func(int) bool, timeout time.Duration) (int, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		st := d.BackendState()
		if ok(st) {
			return st, nil
		}
		if st == xen.XenbusStateClosed {
			return st, d.Errorf("backend is Closed")
		}
		select {
		case <-d.changed:
		case <-t.C:
			return st, d.Errorf("timed out waiting for the backend (state " + strconv.Itoa(st) + ")")
		}
	}
}

// Connect is the handshake: wait for the backend to be ready (InitWait or further), run
// setup (share the rings; it returns the nodes to write: ring references, event channel,
// features), write them and state Connected in one transaction, and wait for the backend to
// be Connected.
func (d *Device) Connect(setup func() ([][2]string, error), timeout time.Duration) error {
	if _, err := d.WaitBackend(func(s int) bool { return s >= xen.XenbusStateInitWait && s <= xen.XenbusStateConnected }, timeout); err != nil {
		return err
	}
	kv, err := setup()
	if err != nil {
		return err
	}
	if err := d.Publish(append(kv, [2]string{"state", strconv.Itoa(xen.XenbusStateConnected)})); err != nil {
		return err
	}
	st, err := d.WaitBackend(func(s int) bool { return s >= xen.XenbusStateConnected }, timeout)
	if err != nil {
		return err
	}
	if st != xen.XenbusStateConnected {
		return d.Errorf("backend went to state " + strconv.Itoa(st) + " instead of Connected")
	}
	return nil
}

// Publish writes kv into the frontend's directory in one transaction, again while xenstored
// answers EAGAIN (another transaction touched the same nodes), up to 100 times.
func (d *Device) Publish(kv [][2]string) error {
	for attempt := 0; ; attempt++ {
		tx, err := d.XS.Begin()
		if err != nil {
			return err
		}
		for _, e := range kv {
			if err = tx.Write(d.Front+"/"+e[0], e[1]); err != nil {
				tx.Abort()
				return err
			}
		}
		err = tx.Commit()
		if err == nil {
			return nil
		}
		var xe *xenstore.Error
		if !errors.As(err, &xe) || xe.Errno != "EAGAIN" || attempt > 100 {
			return err
		}
	}
}

// Disconnect goes Closing, waits for the backend to follow, goes Closed and waits for the
// backend to be Closed (or back in InitWait, ready for a new frontend), each wait at most
// timeout. A nil error means the backend let go of everything shared with it.
func (d *Device) Disconnect(timeout time.Duration) error {
	d.XS.Write(d.Front+"/state", strconv.Itoa(xen.XenbusStateClosing))
	_, err := d.WaitBackend(func(s int) bool { return s >= xen.XenbusStateClosing || s == xen.XenbusStateInitWait }, timeout)
	d.XS.Write(d.Front+"/state", strconv.Itoa(xen.XenbusStateClosed))
	if err != nil {
		return err
	}
	_, err = d.WaitBackend(func(s int) bool { return s == xen.XenbusStateClosed || s == xen.XenbusStateInitWait }, timeout)
	if err != nil && d.BackendState() == xen.XenbusStateClosed {
		err = nil
	}
	return err
}
