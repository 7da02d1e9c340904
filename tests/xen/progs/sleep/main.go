// Sleep sleeps 2 s and prints how long that took by its own clock, in nanoseconds.
package main

import (
	"fmt"
	"time"
)

func main() {
	fmt.Println("sleeping 2s")
	start := time.Now()
	time.Sleep(2 * time.Second)
	fmt.Println("slept", time.Since(start).Nanoseconds())
}
