// memlimit keeps 28 MiB live in a 48 MiB domain and churns garbage through the rest. With
// GOGC=100 alone the heap goal (twice the live heap) is more than the domain has; the default
// soft memory limit on xen makes the GC collect in time.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
)

var live [][]byte

func main() {
	limit := debug.SetMemoryLimit(-1)
	fmt.Printf("memory limit %d MiB (GOMEMLIMIT=%q)\n", limit>>20, os.Getenv("GOMEMLIMIT"))
	for range 28 {
		b := make([]byte, 1<<20)
		b[len(b)-1] = 1
		live = append(live, b)
	}
	churned := 0
	var sink []byte
	for churned < 400<<20 {
		sink = make([]byte, 256<<10)
		sink[0] = 1
		churned += len(sink)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("live %d MiB, churned %d MiB, %d GCs, heap sys %d MiB\n",
		len(live), churned>>20, ms.NumGC, ms.HeapSys>>20)
}
