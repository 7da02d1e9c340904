// Idle sleeps 5 s between two marker lines; the test measures QEMU's CPU time in between,
// which stays low only if an idle guest blocks in Xen instead of spinning.
package main

import (
	"fmt"
	"time"
)

func main() {
	fmt.Println("idle: sleeping 5s")
	time.Sleep(5 * time.Second)
	fmt.Println("idle: awake")
}
