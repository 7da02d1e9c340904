// Echo is a UDP echo server (RFC 862) on port 7: every datagram goes back to its sender
// unchanged. On GOOS=xen the network is netstack over netfront, which also answers ping;
// the same program runs on Linux unchanged.
//
// Environment: ECHO_ADDR, the address to listen on (default ":7").
package main

import (
	"errors"
	"fmt"
	"net"
	"os"
)

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
	fmt.Printf("echo: listening on udp %v, addresses %v\n", c.LocalAddr(), ips)
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
