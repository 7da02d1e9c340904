// Smp exercises the runtime on several vCPUs: what NumCPU and GOMAXPROCS say, CPU-bound work
// split over NumCPU goroutines against the same work on one, shared state under contention (a
// mutex, atomics, channels), allocation and garbage collection on every P at once, and
// GOMAXPROCS changed at run time. Each result is a "smp: ..." line the test reads.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

func spin(n int) uint64 {
	x := uint64(1)
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

// split runs total rounds of spin over workers goroutines and returns the wall time.
func split(workers, total int) time.Duration {
	t0 := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			spin(total / workers)
		}()
	}
	wg.Wait()
	return time.Since(t0)
}

// speedup is the best of three runs on one goroutine over the best of three on n.
func speedup(n, total int) (float64, time.Duration, time.Duration) {
	best := func(workers int) time.Duration {
		b := time.Duration(1 << 62)
		for i := 0; i < 3; i++ {
			b = min(b, split(workers, total))
		}
		return b
	}
	one, many := best(1), best(n)
	return float64(one) / float64(many), one, many
}

func contention(workers int) error {
	var mu sync.Mutex
	var atom atomic.Int64
	plain := 0
	ch := make(chan int)
	done := make(chan int64)
	go func() { // the channel's consumer sums what every worker sends
		var sum int64
		for v := range ch {
			sum += int64(v)
		}
		done <- sum
	}()
	var wg sync.WaitGroup
	const rounds = 20000
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				mu.Lock()
				plain++
				mu.Unlock()
				atom.Add(1)
				if i%10 == 0 {
					ch <- 1
				}
			}
		}()
	}
	wg.Wait()
	close(ch)
	sum := <-done
	want := workers * rounds
	if plain != want || atom.Load() != int64(want) || sum != int64(want/10) {
		return fmt.Errorf("mutex %d, atomic %d, channel %d; want %d, %d, %d", plain, atom.Load(), sum, want, want, want/10)
	}
	return nil
}

// garbage has every worker build and check linked data while the collector runs.
func garbage(workers int) error {
	type node struct {
		next *node
		v    [8]int
	}
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for round := 0; round < 20; round++ {
				var head *node
				for i := 0; i < 5000; i++ {
					head = &node{next: head, v: [8]int{w, round, i}}
				}
				m := make(map[int][]byte)
				for i := 0; i < 500; i++ {
					m[i] = make([]byte, 256)
					m[i][0] = byte(i)
				}
				n := 4999
				for p := head; p != nil; p = p.next {
					if p.v[0] != w || p.v[1] != round || p.v[2] != n {
						errs <- fmt.Errorf("worker %d round %d: node %d holds %v", w, round, n, p.v[:3])
						return
					}
					n--
				}
				for i, b := range m {
					if b[0] != byte(i) {
						errs <- fmt.Errorf("worker %d: map entry %d holds %d", w, i, b[0])
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func main() {
	n := runtime.NumCPU()
	fmt.Printf("smp: NumCPU %d GOMAXPROCS %d\n", n, runtime.GOMAXPROCS(0))
	const total = 60_000_000
	s, one, many := speedup(n, total)
	fmt.Printf("smp: speedup %.2f (1 goroutine %v, %d goroutines %v)\n", s, one.Round(time.Millisecond), n, many.Round(time.Millisecond))
	gcs := func() uint32 { var m runtime.MemStats; runtime.ReadMemStats(&m); return m.NumGC }
	before := gcs()
	for _, f := range []struct {
		name string
		fn   func(int) error
	}{{"contention", contention}, {"garbage", garbage}} {
		if err := f.fn(2 * n); err != nil {
			fmt.Printf("smp: %s: %v\n", f.name, err)
			os.Exit(1)
		}
		fmt.Printf("smp: %s ok\n", f.name)
	}
	fmt.Printf("smp: %d collections\n", gcs()-before)
	prev := runtime.GOMAXPROCS(1)
	s1, _, _ := speedup(n, total)
	fmt.Printf("smp: GOMAXPROCS 1 (was %d): speedup %.2f\n", prev, s1)
	runtime.GOMAXPROCS(prev)
	s2, _, _ := speedup(n, total)
	fmt.Printf("smp: GOMAXPROCS %d again: speedup %.2f\n", runtime.GOMAXPROCS(0), s2)
}
