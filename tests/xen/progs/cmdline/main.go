// cmdline prints os.Args and selected environment variables from the kernel command line.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Printf("args %q\n", os.Args[1:])
	fmt.Printf("GREETING=%q MISSING=%q\n", os.Getenv("GREETING"), os.Getenv("MISSING"))
}
