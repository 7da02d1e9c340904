// Nilptr dereferences a nil pointer: the runtime must print Go's panic and trace, then crash.
package main

import "fmt"

type node struct {
	next *node
	val  int
}

var head *node // nil; a package variable so the compiler cannot see through it

func main() {
	fmt.Println("dereferencing nil")
	fmt.Println(head.val)
}
