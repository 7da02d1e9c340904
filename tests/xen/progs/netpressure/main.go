// netpressure checks that connections a peer keeps opening cannot take the heap: with
// netconns= far above what the memory holds, each accepted loopback connection's handler
// keeps 256 KiB live (an app's buffers), and dials go on until one is refused. The stack must
// refuse them (tcp.Options.MemoryPressure, net/netpressure_xen.go) before the runtime runs out
// of memory; every open connection still answers; closing half makes room again without the
// program calling runtime.GC; and
// /proc/net/netstack counts TCP.PressureRefused.
//
// Output: "refused after N connections: ERR", "open: ok", "room again: ok",
// "PressureRefused: ok" or the error.
package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

const perConn = 256 << 10

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(1)
	}
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			// The connection's memory is taken before the next one is dialed, as a handler
			// starts before a remote peer's next connection arrives. Allocated in serve, it
			// could lag: the dialer and this loop hand the P to each other (runnext) and the
			// new handlers waited in the run queue, up to a time slice's worth of dials
			// (here 50 and more, 256 KiB each) that no reading of the heap could see yet.
			held := make([]byte, perConn)
			go serve(c, held)
			accepted <- c
		}
	}()

	var clients, servers []net.Conn
	var refused error
	for range 100_000 {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 10*time.Second)
		if err != nil {
			refused = err
			break
		}
		clients = append(clients, c)
		select {
		case s := <-accepted:
			servers = append(servers, s)
		case <-time.After(10 * time.Second):
			refused = errors.New("accepted nothing in 10 s")
		}
		if refused != nil {
			break
		}
	}
	kind := "other"
	if errors.Is(refused, syscall.ENOBUFS) || errors.Is(refused, syscall.ECONNREFUSED) {
		kind = "refused"
	}
	fmt.Printf("refused after %d connections (%d MiB held): %s: %v\n", len(clients),
		len(clients)*perConn>>20, kind, refused)

	if err := echoAll(clients); err != nil {
		fmt.Println("open:", err)
	} else {
		fmt.Println("open: ok")
	}

	// Nothing here allocates: the stack's own GC while memory is short (every second) must
	// notice that half of it came back.
	for i := 0; i < len(clients); i += 2 {
		clients[i].Close()
	}
	time.Sleep(2500 * time.Millisecond)
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), 10*time.Second); err != nil {
		fmt.Println("room again:", err)
	} else if err := echoAll([]net.Conn{c}); err != nil {
		fmt.Println("room again:", err)
	} else {
		fmt.Println("room again: ok")
	}

	b, err := os.ReadFile("/proc/net/netstack")
	var n uint64
	for _, line := range strings.Split(string(b), "\n") {
		fmt.Sscanf(line, "TCP.PressureRefused %d", &n)
	}
	if err != nil || n == 0 {
		fmt.Printf("PressureRefused: %d (%v)\n%s", n, err, b)
	} else {
		fmt.Println("PressureRefused: ok")
	}
}

// serve holds held (perConn bytes) live for the connection's life and echoes what it reads.
func serve(c net.Conn, held []byte) {
	defer c.Close()
	for i := range held {
		held[i] = byte(i)
	}
	buf := make([]byte, 1)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
		buf[0] ^= held[len(held)-1] ^ 0xff // keeps held live; 0xff ^ 0xff: the byte back
		if _, err := c.Write(buf); err != nil {
			return
		}
	}
}

// echoAll sends one byte on every connection and reads it back.
func echoAll(conns []net.Conn) error {
	for i, c := range conns {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		b := []byte{byte(i)}
		if _, err := c.Write(b); err != nil {
			return fmt.Errorf("conn %d: %v", i, err)
		}
		if _, err := io.ReadFull(c, b); err != nil || b[0] != byte(i) {
			return fmt.Errorf("conn %d: %v %v", i, b, err)
		}
	}
	return nil
}
