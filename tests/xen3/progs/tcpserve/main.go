// Tcpserve is an ordinary Go program serving TCP through package net, for the tier-3 TCP
// tests (tests/xen3/test_tcp_bed.py): an echo on port 7 (the reply ends with the client's
// FIN), a sink on port 9 (reads to EOF, answers with the count and the hex SHA-256), a
// source on port 19 (reads a decimal count and a newline, sends that many pattern bytes),
// and net/http on port 80 (/ and /bytes?n=N). With env.FETCH=URL it also fetches URL with
// http.Get, retrying for a minute, and prints the size and SHA-256 of the body.
package main

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

// pattern(n) is bytes 0..250 repeated (251 is prime, so it never lines up with 2^k).
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

func serve(port int, handle func(net.Conn)) {
	l, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
	if err != nil {
		fmt.Println("tcpserve: listen:", err)
		os.Exit(1)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				fmt.Println("tcpserve: accept:", err)
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
}

func main() {
	serve(7, func(c net.Conn) {
		io.Copy(c, c)
		c.(*net.TCPConn).CloseWrite()
	})
	serve(9, func(c net.Conn) {
		h := sha256.New()
		n, err := io.Copy(h, c)
		if err != nil {
			fmt.Println("tcpserve: sink:", err)
			return
		}
		fmt.Fprintf(c, "%d %x\n", n, h.Sum(nil))
	})
	serve(19, func(c net.Conn) {
		line, err := bufio.NewReader(c).ReadString('\n')
		n, err2 := strconv.Atoi(line[:max(len(line)-1, 0)])
		if err != nil || err2 != nil || n < 0 || n > 64<<20 {
			fmt.Fprintf(c, "bad count %q\n", line)
			return
		}
		c.Write(pattern(n))
	})
	var requests atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %d from tcpserve\n", requests.Add(1))
	})
	mux.HandleFunc("/bytes", func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n < 0 || n > 64<<20 {
			http.Error(w, "bad n", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(pattern(n))
	})
	go func() {
		err := http.ListenAndServe(":80", mux)
		fmt.Println("tcpserve: http:", err)
		os.Exit(1)
	}()
	fmt.Println("tcpserve: serving echo 7, sink 9, source 19, http 80")
	if url := os.Getenv("FETCH"); url != "" {
		fetch(url)
	}
	select {}
}

func fetch(url string) {
	client := &http.Client{Timeout: 20 * time.Second}
	var last error
	for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		resp, err := client.Get(url)
		if err != nil {
			last = err
			continue
		}
		h := sha256.New()
		n, err := io.Copy(h, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			last = fmt.Errorf("status %d, %d bytes: %v", resp.StatusCode, n, err)
			continue
		}
		fmt.Printf("tcpserve: fetched %s: %d bytes sha256 %x\n", url, n, h.Sum(nil))
		return
	}
	fmt.Printf("tcpserve: fetch %s failed: %v\n", url, last)
}
