// Exit3 prints a line and exits with status 3: the runner must report exit status 3.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Println("exiting with 3")
	os.Exit(3)
}
