// Sleeper prints one line and sleeps for an hour: a guest that ends only when it is told to
// (xl shutdown) or destroyed.
package main

import (
	"fmt"
	"time"
)

func main() {
	fmt.Println("sleeping")
	time.Sleep(time.Hour)
	fmt.Println("woke up")
}
