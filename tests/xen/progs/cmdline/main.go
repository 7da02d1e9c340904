// cmdline prints os.Args and selected environment variables from the kernel command line,
// and shows that GOMAXPROCS stays 1 (one vCPU, one M) whatever is asked.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
)

func main() {
	fmt.Printf("args %q\n", os.Args[1:])
	fmt.Printf("GREETING=%q MISSING=%q\n", os.Getenv("GREETING"), os.Getenv("MISSING"))
	runtime.GOMAXPROCS(4)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() { defer wg.Done() }()
	}
	wg.Wait()
	fmt.Printf("GOMAXPROCS %d\n", runtime.GOMAXPROCS(0))
}
