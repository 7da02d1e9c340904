// Netnone uses package net in a domain without vifs (dom0 on the tier-2 bed): only the
// loopback interface, UDP sockets bind but have no route off the host, TCP dials fail with
// ENETUNREACH, IPv6 with a clear error. One "case: result" line each, then "netnone: done".
package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
)

func main() {
	ifs, err := net.Interfaces()
	fmt.Printf("interfaces: %d %v\n", len(ifs), err)
	c, err := net.ListenPacket("udp", ":7")
	if err != nil {
		fmt.Println("listen udp:", err)
		os.Exit(1)
	}
	fmt.Println("listen udp:", c.LocalAddr())
	_, err = c.WriteTo([]byte("x"), &net.UDPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 9})
	fmt.Println("write udp:", err)
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	_, _, err = c.ReadFrom(make([]byte, 10))
	fmt.Println("read deadline:", errors.Is(err, os.ErrDeadlineExceeded), err)
	c.Close()
	_, _, err = c.ReadFrom(make([]byte, 10))
	fmt.Println("read closed:", errors.Is(err, net.ErrClosed))
	l, err := net.Listen("tcp", ":80")
	fmt.Println("listen tcp:", err == nil, err)
	if l != nil {
		l.Close()
	}
	_, err = net.Dial("tcp", "10.0.0.1:80")
	fmt.Println("dial tcp:", errors.Is(err, syscall.ENETUNREACH), err)
	_, err = net.Dial("tcp6", "[2001:db8::1]:80")
	fmt.Println("dial tcp6:", errors.Is(err, syscall.ENETUNREACH), err)
	fmt.Println("netnone: done")
}
