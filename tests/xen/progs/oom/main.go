// oom keeps more memory than the domain has: it must die with a clear out of memory error.
package main

import "fmt"

var keep [][]byte

func main() {
	for i := 1; ; i++ {
		b := make([]byte, 1<<20)
		b[0] = 1
		keep = append(keep, b)
		if i%16 == 0 {
			fmt.Println("holding", i, "MiB")
		}
	}
}
