// timers starts 1000 goroutines that sleep random durations up to 2 s and checks that
// each wakes within tolerance of its deadline by the guest's own clock.
package main

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

func main() {
	const n = 1000
	var wg sync.WaitGroup
	late := make([]time.Duration, n)
	start := time.Now()
	for i := 0; i < n; i++ {
		d := time.Duration(rand.IntN(2000)) * time.Millisecond
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.Now()
			time.Sleep(d)
			late[i] = time.Since(t) - d
		}()
	}
	wg.Wait()
	var worst time.Duration
	early := 0
	for _, l := range late {
		if l < 0 {
			early++
		}
		worst = max(worst, l)
	}
	fmt.Printf("woke %d goroutines in %v; early %d; worst lateness %v\n", n,
		time.Since(start).Round(time.Millisecond), early, worst.Round(time.Millisecond))
}
