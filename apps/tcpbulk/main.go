// Tcpbulk measures TCP bulk throughput: the TCP benchmark of `./scons bench`.
//
//	port 5001 (sink):   reads everything a client sends; when the client closes its side
//	                    (CloseWrite), answers with the byte count as a decimal line and closes.
//	port 5002 (source): writes a fixed pattern to each client until the client closes.
//
// Environment: TCPBULK_SINK and TCPBULK_SOURCE, the listen addresses (default :5001, :5002).
// When TCP cannot listen (a netstack without TCP), it says why on stderr and exits 1.
package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
)

func sink(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 128<<10)
	var n int64
	for {
		k, err := c.Read(buf)
		n += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "tcpbulk: sink:", err)
			return
		}
	}
	c.Write([]byte(strconv.FormatInt(n, 10) + "\n"))
}

func source(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 128<<10)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	for {
		if _, err := c.Write(buf); err != nil {
			return
		}
	}
}

func serve(ln net.Listener, handle func(net.Conn)) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				fmt.Fprintln(os.Stderr, "tcpbulk: accept:", err)
			}
			return
		}
		go handle(c)
	}
}

func listen(env, def string) net.Listener {
	addr := os.Getenv(env)
	if addr == "" {
		addr = def
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tcpbulk:", err)
		os.Exit(1)
	}
	return ln
}

func main() {
	sinkLn := listen("TCPBULK_SINK", ":5001")
	sourceLn := listen("TCPBULK_SOURCE", ":5002")
	fmt.Printf("tcpbulk: sink on %v, source on %v\n", sinkLn.Addr(), sourceLn.Addr())
	go serve(sourceLn, source)
	serve(sinkLn, sink)
}
