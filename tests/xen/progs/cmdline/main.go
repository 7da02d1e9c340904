// cmdline prints os.Args, the working directory and selected environment variables from the
// kernel command line, and GOMAXPROCS as the environment set it, NumCPU (the vCPUs), and
// GOMAXPROCS after a change at run time (threads run Ps over the vCPU as Linux runs them over one CPU).
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
)

func main() {
	fmt.Printf("args %q\n", os.Args[1:])
	wd, err := os.Getwd()
	if err != nil {
		wd = err.Error()
	}
	fmt.Printf("cwd %q\n", wd)
	fmt.Printf("GREETING=%q MISSING=%q\n", os.Getenv("GREETING"), os.Getenv("MISSING"))
	fmt.Printf("GOMAXPROCS %d NumCPU %d\n", runtime.GOMAXPROCS(0), runtime.NumCPU())
	runtime.GOMAXPROCS(2)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() { defer wg.Done() }()
	}
	wg.Wait()
	fmt.Printf("GOMAXPROCS %d\n", runtime.GOMAXPROCS(0))
}
