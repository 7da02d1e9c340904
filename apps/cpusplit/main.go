// Cpusplit measures what several CPUs give a CPU-bound Go program: the same work (rounds of a
// 64-bit LCG, no memory traffic, no calls) done by one goroutine and split over NumCPU
// goroutines, timed with the monotonic clock. The parallel part of `./scons bench` runs it on
// both sides with the same vCPUs.
//
// Environment: CPUSPLIT_ROUNDS, the LCG steps per measurement (default 200,000,000);
// CPUSPLIT_RUNS, measurements of each (default 3).
//
// Output, then the exit status:
//
//	cpusplit: NumCPU N GOMAXPROCS P
//	cpusplit: run R one NS many NS
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

var sink [64]uint64 // one result per worker, so no loop is optimized away

func lcg(w, n int) {
	x := uint64(w + 1)
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	sink[w%len(sink)] = x
}

// split does total steps over workers goroutines and returns the wall time.
func split(workers, total int) time.Duration {
	t0 := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			lcg(w, total/workers)
		}(w)
	}
	wg.Wait()
	return time.Since(t0)
}

func env(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func main() {
	rounds, runs := env("CPUSPLIT_ROUNDS", 200_000_000), env("CPUSPLIT_RUNS", 3)
	n := runtime.NumCPU()
	fmt.Printf("cpusplit: NumCPU %d GOMAXPROCS %d\n", n, runtime.GOMAXPROCS(0))
	for r := 1; r <= runs; r++ {
		one := split(1, rounds)
		many := split(n, rounds)
		fmt.Printf("cpusplit: run %d one %d many %d\n", r, one.Nanoseconds(), many.Nanoseconds())
	}
}
