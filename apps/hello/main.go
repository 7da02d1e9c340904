// Hello prints one line on the Xen console and exits; the smallest go-xen application.
package main

import "fmt"

func main() {
	fmt.Println("hello, xen")
}
