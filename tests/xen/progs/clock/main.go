// Clock prints the wall clock; the test compares it with the host's clock at that line.
package main

import (
	"fmt"
	"time"
)

func main() {
	now := time.Now()
	fmt.Println("now", now.UnixNano(), now.UTC().Format(time.RFC3339Nano))
}
