// netlimits checks netstack's limits through package net on xen, over the loopback, with
// netconns= and netbudget= from the command line: past the connection cap a dial fails (the
// stack is full: ENOBUFS, as both ends of a loopback connection are its own), closing makes
// room again; with netbudget=256K, writers of 3 MiB in all to readers that start late get
// every byte through (both ends charge the one budget; netstack/transport/tcp/budget_test.go
// has the rest); and SetReadBuffer and SetWriteBuffer work on TCP: 256 KiB through an 8 KiB
// window arrive intact. /proc/net/netstack shows the limits and what they refused.
//
// Output: "conns: N full: true", "reopen: ok", "budget: ok", "buffers: ok", "netstack: ok"
// or the error.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(1)
	}
	accepted := make(chan net.Conn, 64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()

	// Each loopback connection is two endpoints of the one stack: netconns=10 allows 5.
	var clients, servers []net.Conn
	var refused error
	for range 8 {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
		if err != nil {
			refused = err
			break
		}
		clients = append(clients, c)
		servers = append(servers, <-accepted)
	}
	fmt.Printf("conns: %d full: %v\n", len(clients), errors.Is(refused, syscall.ENOBUFS))
	if refused != nil && !errors.Is(refused, syscall.ENOBUFS) {
		fmt.Println("dial past the cap:", refused)
	}

	clients[0].Close()
	servers[0].Close()
	time.Sleep(100 * time.Millisecond)
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second); err != nil {
		fmt.Println("reopen:", err)
	} else {
		s := <-accepted
		c.Write([]byte("hi"))
		b := make([]byte, 2)
		if _, err := io.ReadFull(s, b); err != nil || string(b) != "hi" {
			fmt.Println("reopen:", string(b), err)
		} else {
			fmt.Println("reopen: ok")
		}
		c.Close()
		s.Close()
	}
	for i := 1; i < len(clients); i++ {
		clients[i].Close()
		servers[i].Close()
	}
	time.Sleep(100 * time.Millisecond)

	// netbudget=256K: 3 writers of 1 MiB each to readers that wait 1 s, then read. Both
	// ends charge the one budget; every byte arrives.
	const size = 1 << 20
	var pairs [][2]net.Conn
	for range 3 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			fmt.Println("budget dial:", err)
			os.Exit(1)
		}
		pairs = append(pairs, [2]net.Conn{c, <-accepted})
	}
	for i, p := range pairs {
		go p[0].Write(data(i, size))
	}
	time.Sleep(time.Second)
	results := make(chan error, 3)
	for i, p := range pairs {
		go func() {
			p[1].SetReadDeadline(time.Now().Add(60 * time.Second))
			got := make([]byte, size)
			_, err := io.ReadFull(p[1], got)
			if err == nil && !bytes.Equal(got, data(i, size)) {
				err = fmt.Errorf("conn %d: data differs", i)
			}
			results <- err
		}()
	}
	var failed error
	for range 3 {
		if err := <-results; err != nil {
			failed = err
		}
	}
	if failed != nil {
		fmt.Println("budget:", failed)
	} else {
		fmt.Println("budget: ok")
	}
	for _, p := range pairs {
		p[0].Close()
		p[1].Close()
	}

	c, err := net.Dial("tcp", ln.Addr().String())
	if err == nil {
		s := <-accepted
		tc := c.(*net.TCPConn)
		err = errors.Join(tc.SetReadBuffer(8<<10), tc.SetWriteBuffer(8<<10), s.(*net.TCPConn).SetReadBuffer(1<<20))
		if err == nil {
			go c.Write(data(9, 256<<10))
			got := make([]byte, 256<<10)
			s.SetReadDeadline(time.Now().Add(30 * time.Second))
			if _, err = io.ReadFull(s, got); err == nil && !bytes.Equal(got, data(9, 256<<10)) {
				err = errors.New("data differs")
			}
		}
	}
	if err != nil {
		fmt.Println("buffers:", err)
	} else {
		fmt.Println("buffers: ok")
	}

	if err := checkNetstats(); err != nil {
		fmt.Println("netstack:", err)
	} else {
		fmt.Println("netstack: ok")
	}
}

// checkNetstats reads /proc/net/netstack: the limits from the command line, the refused
// connection, the budget's peak and the loopback's frames must show.
func checkNetstats() error {
	b, err := os.ReadFile("/proc/net/netstack")
	if err != nil {
		return err
	}
	st := map[string]uint64{}
	for _, line := range strings.Split(string(b), "\n") {
		var k string
		var v uint64
		if n, _ := fmt.Sscan(line, &k, &v); n == 2 {
			st[k] = v
		}
	}
	if st["TCP.MaxConnections"] != 10 || st["Budget.Limit"] != 256<<10 || st["TCP.ConnsRefused"] == 0 ||
		st["Budget.Peak"] == 0 || st["Budget.Peak"] > 256<<10 || st["Link.RxFrames"] == 0 || st["TCP.ActiveOpens"] < 5 {
		return fmt.Errorf("unexpected counters:\n%s", b)
	}
	ents, err := os.ReadDir("/proc/net")
	if err != nil || len(ents) != 1 || ents[0].Name() != "netstack" {
		return fmt.Errorf("/proc/net: %v %v", ents, err)
	}
	return nil
}

func data(seed, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31 + seed + i>>10)
	}
	return b
}
