// Spin checks preemption: goroutines spin in loops without function calls (which only
// asynchronous preemption can interrupt) while the main goroutine sleeps 10 ms at a time and
// measures how late it wakes. It prints
//
//	spin: sleeps=N late_max_ms=X late_p50_ms=Y spins=S
//
// and exits 0 once every sleep woke. Words on the command line: spinners=K (default 1),
// sleeps=N (default 100), gomaxprocs=P, calls=1 (the spinners call a function in their loop).
package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

var counters [64]atomic.Uint64

//go:noinline
func spin(i int, stop *atomic.Bool) {
	n := uint64(0)
	for !stop.Load() {
		n++ // no calls: only an asynchronous preemption takes this goroutine off its P
	}
	counters[i].Store(n)
}

//go:noinline
func inc(n uint64) uint64 {
	return n + 1
}

// step is not a leaf (a leaf without a frame has no stack check, so no preemption point).
//
//go:noinline
func step(n uint64) uint64 {
	return inc(n)
}

// spinCalls calls a function in its loop: the cooperative preemption check in step's
// prologue stops it even with GODEBUG=asyncpreemptoff=1.
//
//go:noinline
func spinCalls(i int, stop *atomic.Bool) {
	n := uint64(0)
	for !stop.Load() {
		n = step(n)
	}
	counters[i].Store(n)
}

func main() {
	spinners, sleeps, calls := 1, 100, 0
	for _, w := range os.Args[1:] {
		k, v, _ := strings.Cut(w, "=")
		n, err := strconv.Atoi(v)
		if err != nil {
			continue
		}
		switch k {
		case "spinners":
			spinners = n
		case "sleeps":
			sleeps = n
		case "calls":
			calls = n
		case "gomaxprocs":
			runtime.GOMAXPROCS(n)
		}
	}
	var stop atomic.Bool
	for i := 0; i < spinners; i++ {
		if calls != 0 {
			go spinCalls(i, &stop)
		} else {
			go spin(i, &stop)
		}
	}
	runtime.Gosched()
	late := make([]time.Duration, 0, sleeps)
	for i := 0; i < sleeps; i++ {
		t := time.Now()
		time.Sleep(10 * time.Millisecond)
		late = append(late, time.Since(t)-10*time.Millisecond)
	}
	stop.Store(true)
	time.Sleep(10 * time.Millisecond)
	var spins uint64
	for i := 0; i < spinners; i++ {
		spins += counters[i].Load()
	}
	slices.Sort(late)
	fmt.Printf("spin: sleeps=%d late_max_ms=%.1f late_p50_ms=%.1f spins=%d gomaxprocs=%d\n",
		len(late), late[len(late)-1].Seconds()*1e3, late[len(late)/2].Seconds()*1e3, spins,
		runtime.GOMAXPROCS(0))
}
