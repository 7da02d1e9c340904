// cpuprof takes a CPU profile inside the guest with runtime/pprof while one goroutine burns
// CPU in burnCPU and another sleeps in a loop, then prints the profile (gzipped protobuf, as
// pprof writes it) base64-encoded between two marker lines for the host to read with
// `go tool pprof`.
//
// Command line: seconds=N (default 2).
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

var sink [32]byte

//go:noinline
func burnCPU(stop <-chan struct{}) int {
	n := 0
	buf := make([]byte, 4096)
	for {
		select {
		case <-stop:
			return n
		default:
		}
		for i := 0; i < 64; i++ {
			sink = sha256.Sum256(buf)
			buf[0] = sink[0]
			n++
		}
	}
}

func main() {
	seconds := 2
	for _, a := range os.Args[1:] {
		if v, ok := strings.CutPrefix(a, "seconds="); ok {
			seconds, _ = strconv.Atoi(v)
		}
	}
	var prof bytes.Buffer
	if err := pprof.StartCPUProfile(&prof); err != nil {
		fmt.Println("cpuprof: start:", err)
		os.Exit(1)
	}
	stop := make(chan struct{})
	done := make(chan int)
	go func() { done <- burnCPU(stop) }()
	sleeps := 0
	for end := time.Now().Add(time.Duration(seconds) * time.Second); time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
		sleeps++
	}
	close(stop)
	hashes := <-done
	pprof.StopCPUProfile()
	fmt.Printf("cpuprof: hashes=%d sleeps=%d bytes=%d\n", hashes, sleeps, prof.Len())
	fmt.Println("cpuprof: profile begin")
	enc := base64.StdEncoding.EncodeToString(prof.Bytes())
	for len(enc) > 0 {
		n := min(len(enc), 76)
		fmt.Println(enc[:n])
		enc = enc[n:]
	}
	fmt.Println("cpuprof: profile end")
}
