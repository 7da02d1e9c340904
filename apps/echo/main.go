// Echo is a UDP echo server (RFC 862) on port 7: every datagram goes back to its sender
// unchanged. On GOOS=xen the network is netstack over netfront, which also answers ping;
// the same program runs on Linux unchanged.
//
// Environment: ECHO_ADDR, the address to listen on (default ":7"); ECHO_SPIN=N starts N
// goroutines that burn CPU in a loop without function calls, a stand-in for CPU-bound
// handlers (the bench measures echo latency beside one: Go must preempt the loop).
package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
)

// spins counts the spinners' iterations (read by nobody: it keeps the loop from being
// optimized away).
var spins uint64

func spin() {
	for {
		spins++
	}
}

func main() {
	addr := os.Getenv("ECHO_ADDR")
	if addr == "" {
		addr = ":7"
	}
	c, err := net.ListenPacket("udp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
	var ips []string
	if as, err := net.InterfaceAddrs(); err == nil {
		for _, a := range as {
			ips = append(ips, a.String())
		}
	}
	n, _ := strconv.Atoi(os.Getenv("ECHO_SPIN"))
	for i := 0; i < n; i++ {
		go spin()
	}
	fmt.Printf("echo: listening on udp %v, addresses %v, %d spinning goroutines\n", c.LocalAddr(), ips, n)
	buf := make([]byte, 65536)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			fmt.Fprintln(os.Stderr, "echo: read:", err)
			continue
		}
		if _, err := c.WriteTo(buf[:n], from); err != nil {
			fmt.Fprintln(os.Stderr, "echo: write:", err)
		}
	}
}
