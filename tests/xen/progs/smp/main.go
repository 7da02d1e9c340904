// Smp exercises the runtime on several vCPUs: what NumCPU and GOMAXPROCS say, two goroutines
// seen running at the same instant (overlap: no clock involved), shared state under
// contention (a mutex, atomics, channels), allocation and garbage collection on every P at
// once, and GOMAXPROCS changed at run time. Each result is a "smp: ..." line the test reads.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
)

// overlap reports whether two goroutines ran at the same instant, without a clock: they take
// turns (a shared counter each moves on in its turn), and each waits for its turn in a loop
// with no call in it for at most spinLimit iterations, then gives up, which ends the game. The
// program runs with asynchronous preemption off (GODEBUG=asyncpreemptoff=1 on its command
// line), so a goroutine in that loop is never switched out: when it sees its partner move, the
// partner ran on another vCPU at that moment. A game of rounds turns played without a
// give-up is the proof; on one P every game ends at the first wait. It plays up to games
// games (one may lose its partner to the hypervisor or a collection) and returns the first
// won, or 0.
func overlap(rounds, games int) int {
	const spinLimit = 5_000_000
	for g := 1; g <= games; g++ {
		var turn, ready atomic.Int64
		var gaveUp atomic.Bool
		var wg sync.WaitGroup
		for me := int64(0); me < 2; me++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Start together: until both are here, wait yielding (a partner not yet
				// scheduled is no proof of anything).
				ready.Add(1)
				for ready.Load() < 2 {
					runtime.Gosched()
				}
				for r := int64(0); r < int64(rounds); r++ {
					want := 2*r + me
					i := 0
					for turn.Load() != want && !gaveUp.Load() && i < spinLimit {
						i++
					}
					if turn.Load() != want {
						gaveUp.Store(true)
						return
					}
					turn.Store(want + 1)
				}
			}()
		}
		wg.Wait()
		if !gaveUp.Load() {
			return g
		}
	}
	return 0
}

// report prints whether two goroutines were seen running at once.
func report(what string) {
	if g := overlap(1000, 10); g > 0 {
		fmt.Printf("smp: %s: two goroutines ran at once (game %d)\n", what, g)
	} else {
		fmt.Printf("smp: %s: never two goroutines at once\n", what)
	}
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
	report(fmt.Sprintf("GOMAXPROCS %d", runtime.GOMAXPROCS(0)))
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
	report(fmt.Sprintf("GOMAXPROCS 1 (was %d)", prev))
	runtime.GOMAXPROCS(prev)
	report(fmt.Sprintf("GOMAXPROCS %d again", runtime.GOMAXPROCS(0)))
}
