// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build xen

package xenstore

import (
	"sync/atomic"
	"time"
	"unsafe"
)

// A fake xenstored for xenstore_test.go: the ring in plain memory, replies written as a
// hostile xenstored would. (The tests are an external package: testing imports os, which
// imports this package through internal/xen/control.)

type FakeStore struct {
	page []byte
	C    *Client
}

func NewFakeStore() *FakeStore {
	f := &FakeStore{page: make([]byte, 4096)}
	f.C = &Client{ring: uintptr(unsafe.Pointer(&f.page[0])), space: make(chan struct{}, 1),
		pending: make(map[uint32]chan reply), watches: make(map[string]*Watch)}
	return f
}

// Respond appends a header announcing n payload bytes for request id to the response ring.
func (f *FakeStore) Respond(id, n uint32) {
	h := make([]byte, headerSize)
	put32(h[0:], typeRead)
	put32(h[4:], id)
	put32(h[12:], n)
	prod := atomic.LoadUint32(f.C.u32(offRspProd))
	for _, x := range h {
		f.page[offRsp+uintptr(prod%ringSize)] = x
		prod++
	}
	atomic.StoreUint32(f.C.u32(offRspProd), prod)
}

// SetRspProd moves the response producer.
func (f *FakeStore) SetRspProd(p uint32) { atomic.StoreUint32(f.C.u32(offRspProd), p) }

// Pending registers a request id as waiting and returns whether its reply was the broken one.
func (f *FakeStore) Pending(id uint32) func() bool {
	ch := make(chan reply, 1)
	f.C.mu.Lock()
	f.C.pending[id] = ch
	f.C.mu.Unlock()
	return func() bool { r := <-ch; return r.typ == typeBroken }
}

func (f *FakeStore) PendingCount() int {
	f.C.mu.Lock()
	defer f.C.mu.Unlock()
	return len(f.C.pending)
}

// RunReader runs the reader and reports whether it stopped on its own within d (else it is
// parked waiting for an event the fake never sends).
func (f *FakeStore) RunReader(d time.Duration) bool {
	done := make(chan struct{})
	go func() { f.C.reader(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

func (f *FakeStore) Read(path string) ([]byte, error) {
	return f.C.request(typeRead, 0, "read", path, cstr(path))
}

func SetRequestTimeout(d time.Duration) (old time.Duration) {
	old, requestTimeout = requestTimeout, d
	return old
}

func NewWatch(c *Client) *Watch {
	return &Watch{c: c, path: "p", token: "t", notify: make(chan struct{}, 1)}
}

func (w *Watch) Post(path string) { w.post(path) }
func (w *Watch) Queued() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queue)
}

const MaxWatchQueue = maxWatchQueue
