// churn allocates and drops ten times the domain's memory; the GC must keep up.
package main

import (
	"fmt"
	"runtime"
)

type node struct {
	next *node
	buf  []byte
}

func main() {
	const domainMiB = 64
	var live *node
	total := 0
	for total < 10*domainMiB<<20 {
		n := &node{buf: make([]byte, 64<<10)}
		n.buf[len(n.buf)-1] = 1
		// Keep a short list alive so the heap has both garbage and live data.
		n.next = live
		live = n
		if total%(4<<20) == 0 {
			live = nil
		}
		total += len(n.buf)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("churned %d MiB, %d GCs, heap %d MiB\n", total>>20, ms.NumGC, ms.HeapAlloc>>20)
}
