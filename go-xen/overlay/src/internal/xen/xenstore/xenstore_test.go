// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build xen

package xenstore_test

import (
	"errors"
	"internal/xen/xenstore"
	"testing"
	"time"
)

// The client against a fake xenstored (export_test.go). Run in a guest by
// tests/xen/test_gotest.py.

func TestStoreOversizedHeader(t *testing.T) {
	f := xenstore.NewFakeStore()
	wasBroken := f.Pending(1)
	f.Respond(1, 1<<30) // "a gigabyte follows"
	if !f.RunReader(time.Second) {
		t.Fatal("the reader did not stop on a header past XENSTORE_PAYLOAD_MAX")
	}
	if !wasBroken() {
		t.Fatal("the waiting request did not fail")
	}
	if _, err := f.Read("x"); !errors.Is(err, xenstore.ErrBroken) {
		t.Fatalf("a request after: %v, want ErrBroken", err)
	}
}

func TestStoreProducerJump(t *testing.T) {
	f := xenstore.NewFakeStore()
	f.SetRspProd(1 << 20)
	if !f.RunReader(time.Second) {
		t.Fatal("the reader did not stop on a producer a megabyte ahead")
	}
}

func TestStoreWatchQueueBounded(t *testing.T) {
	f := xenstore.NewFakeStore()
	w := xenstore.NewWatch(f.C)
	for i := range 10000 {
		w.Post("p/" + string(rune('a'+i%26)))
	}
	if n := w.Queued(); n != xenstore.MaxWatchQueue {
		t.Fatalf("%d changes queued, want %d", n, xenstore.MaxWatchQueue)
	}
}

func TestStoreRequestTimeout(t *testing.T) {
	f := xenstore.NewFakeStore()
	defer xenstore.SetRequestTimeout(xenstore.SetRequestTimeout(100 * time.Millisecond))
	_, err := f.Read("x")
	var e *xenstore.Error
	if !errors.As(err, &e) || e.Errno != "ETIMEDOUT" {
		t.Fatalf("unanswered request: %v, want ETIMEDOUT", err)
	}
	if f.PendingCount() != 0 {
		t.Fatal("the timed-out request stays pending")
	}
}
