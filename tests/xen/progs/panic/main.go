// Panic panics: the runtime must print "panic: boom" and the goroutine trace, then crash.
package main

import "fmt"

func main() {
	fmt.Println("about to panic")
	panic("boom")
}
