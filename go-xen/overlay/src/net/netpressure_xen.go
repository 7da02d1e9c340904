// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package net

import (
	"internal/xen"
	"math"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

// Memory pressure on new TCP connections (tcp.Options.MemoryPressure). netconns= bounds how
// many connections are open, at an assumed cost each; what one costs is the program's own
// (kvstore's buffers, net/http's), so the bound alone cannot keep connections a peer opens
// from taking the heap the program needs: 1,266 idle kvstore connections (32 KiB of buffers
// each then) crashed a 64 MB guest with "out of memory" below it. So a new connection is
// also refused (a reset, as past netconns=) while the heap is short, as Linux refuses
// sockets under tcp_mem pressure:
//
//   - what the last GC found live, plus goroutine stacks, plus a reserve, would pass the
//     runtime's memory limit (runtime/mem_xen.go: 7/8 of the domain's heap unless
//     GOMEMLIMIT says otherwise). The reserve is pressureFloor plus pressureReserve for
//     each open connection and the new one: room for what they need when they all wake at
//     once (a request's buffers, packets, timer goroutines). A fixed share of the limit
//     does not do: with 3/4 of it for connections, 3,798 idle kvstore connections in 64 MB
//     each sent one request at once and the answers (a 16 KiB writer each then) ran the
//     heap out; with 1/2, 3,100 of them (4 KiB writers) still did in some runs, and httpd
//     in 16 MB, whose own data is half its heap, took none. 16 KiB a connection covers
//     kvstore's burst (buffers 6.5 KiB, a packet each way, timer goroutines' stacks). It
//     is a margin, not a bound: what a program allocates per request is its own;
//   - or heap objects and stacks now, garbage included, are past 7/8 of the limit: between
//     two GCs the first lags, and a heap this close to the limit has no room left either way.
//
// metrics.Read is called at most once per pressureEvery, unless pressureRecheck connections
// opened since the last reading: in between the last reading stands. Time alone let a fast
// peer open 10 ms worth of connections unseen, and a program that gives each 256 KiB ran out
// of memory between two readings; a count bounds what one reading misses to pressureRecheck
// connections' worth, and a flood of SYNs that opens none costs no more readings.
// What the last GC found is stale once connections close and nothing else allocates (no GC
// runs), which would refuse connections long after the memory came back: while memory is
// short, a goroutine runs a GC every pressureGC and reads again, until it is not.
const (
	pressureFloor                  = 1 << 20
	pressureReserve                = 16 << 10
	pressureNowNum, pressureNowDen = 7, 8
	pressureEvery                  = 10 * time.Millisecond
	pressureRecheck                = 4
	pressureGC                     = time.Second
)

var pressure struct {
	mu       sync.Mutex
	at       time.Time
	open     int  // connections open at the last call
	openRead int  // connections open at the last reading
	watching bool // the GC goroutine runs
	samples  []metrics.Sample
	// The last reading.
	live, stacks, objects, limit uint64
}

// memoryPressure reports whether the heap is too short for another TCP connection when
// open are open.
func memoryPressure(open int) bool {
	pressure.mu.Lock()
	defer pressure.mu.Unlock()
	now := time.Now()
	if pressure.samples == nil || now.Sub(pressure.at) >= pressureEvery || open >= pressure.openRead+pressureRecheck {
		readPressure(now)
		pressure.openRead = open
	}
	pressure.open = open
	short := isShort(open)
	if short && !pressure.watching {
		pressure.watching = true
		go watchPressure()
	}
	return short
}

// isShort applies the rules to the last reading. Called with pressure.mu held.
func isShort(open int) bool {
	p := &pressure
	reserve := uint64(pressureFloor + pressureReserve*(open+1))
	return p.live+p.stacks+reserve > p.limit || p.objects+p.stacks > p.limit/pressureNowDen*pressureNowNum
}

// watchPressure runs a GC every pressureGC while memory is short for one more connection.
func watchPressure() {
	for {
		time.Sleep(pressureGC)
		runtime.GC()
		pressure.mu.Lock()
		readPressure(time.Now())
		if !isShort(pressure.open) {
			pressure.watching = false
			pressure.mu.Unlock()
			return
		}
		pressure.mu.Unlock()
	}
}

// readPressure reads the runtime's metrics. Called with pressure.mu held.
func readPressure(now time.Time) {
	if pressure.samples == nil {
		pressure.samples = []metrics.Sample{
			{Name: "/gc/heap/live:bytes"},
			{Name: "/memory/classes/heap/stacks:bytes"},
			{Name: "/memory/classes/heap/objects:bytes"},
			{Name: "/gc/gomemlimit:bytes"},
		}
	}
	metrics.Read(pressure.samples)
	v := func(i int) uint64 {
		if s := pressure.samples[i]; s.Value.Kind() == metrics.KindUint64 {
			return s.Value.Uint64()
		}
		return 0
	}
	limit := v(3)
	if limit == 0 || limit == math.MaxInt64 {
		limit = uint64(xen.MemoryBytes()) // GOMEMLIMIT=off: the domain's memory stands in
	}
	pressure.at = now
	pressure.live, pressure.stacks, pressure.objects, pressure.limit = v(0), v(1), v(2), limit
}
