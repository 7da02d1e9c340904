// Goroutines exercises the scheduler on one M: a worker pool over channels with a
// sync.WaitGroup, select against a timer, unbuffered ping-pong, a ticker and a mutex, all
// printing results that do not depend on scheduling order.
package main

import (
	"fmt"
	"sync"
	"time"
)

func main() {
	// A worker pool: squares of 1..10 through channels.
	jobs := make(chan int)
	results := make(chan int, 10)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				time.Sleep(time.Millisecond)
				results <- j * j
			}
		}()
	}
	for i := 1; i <= 10; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(results)
	sum := 0
	for r := range results {
		sum += r
	}
	fmt.Println("sum of squares:", sum)

	// select: a 50 ms timer fires before a sender that waits 300 ms.
	late := make(chan string)
	go func() {
		time.Sleep(300 * time.Millisecond)
		late <- "late"
	}()
	select {
	case m := <-late:
		fmt.Println("select:", m)
	case <-time.After(50 * time.Millisecond):
		fmt.Println("select: timer first")
	}
	fmt.Println("select:", <-late)

	// Unbuffered ping-pong between two goroutines.
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
	}()
	n := 0
	for i := 0; i < 1000; i++ {
		ping <- n
		n = <-pong
	}
	close(ping)
	fmt.Println("ping-pong:", n)

	// A ticker.
	t := time.NewTicker(20 * time.Millisecond)
	ticks := 0
	for range t.C {
		ticks++
		if ticks == 5 {
			break
		}
	}
	t.Stop()
	fmt.Println("ticks:", ticks)

	// Many goroutines sharing a mutex-protected counter.
	var mu sync.Mutex
	count := 0
	var wg2 sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			for k := 0; k < 100; k++ {
				mu.Lock()
				count++
				mu.Unlock()
			}
		}()
	}
	wg2.Wait()
	fmt.Println("counter:", count)
	fmt.Println("done")
}
