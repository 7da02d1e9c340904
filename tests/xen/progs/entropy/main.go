// entropy prints 32 bytes from crypto/rand and a math/rand/v2 value (seeded by the runtime).
package main

import (
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
)

func main() {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	fmt.Printf("crypto/rand %x\n", b)
	fmt.Printf("math/rand %d\n", mrand.Uint64())
}
