// Tcpserve is an ordinary Go program serving TCP through package net, for the tier-3 TCP
// tests (tests/xen3/test_tcp_bed.py): an echo on port 7 (the reply ends with the client's
// FIN), a sink on port 9 (reads to EOF, answers with the count and the hex SHA-256), a
// source on port 19 (reads a decimal count and a newline, sends that many pattern bytes),
// and net/http on port 80 (/ and /bytes?n=N). With env.FETCH=URL it also fetches URL with
// http.Get, retrying for a minute, and prints the size and SHA-256 of the body.
//
// For the scheduler tests (tests/xen3/test_preempt_bed.py): env.SPIN=N starts N goroutines
// spinning in loops without function calls; UDP port 7 echoes datagrams; /burn?ms=N burns
// CPU in the handler for N ms without calls; /sleeps sleeps 10 ms twenty times and answers
// with the worst lateness in microseconds.
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

var spinStop atomic.Bool

//go:noinline
func spin(counter *atomic.Uint64) {
	n := uint64(0)
	for !spinStop.Load() {
		n++ // no calls: only asynchronous preemption takes it off the P
		if n&(1<<24-1) == 0 {
			counter.Add(1 << 24) // the spinners' rounds, summed
		}
	}
}

// burn spins until deadline (system time through time.Now, checked every 2^20 rounds).
//
//go:noinline
func burn(until time.Time) uint64 {
	n := uint64(0)
	for {
		n++
		if n&(1<<20-1) == 0 && !time.Now().Before(until) {
			return n
		}
	}
}

func udpEcho() {
	c, err := net.ListenPacket("udp", ":7")
	if err != nil {
		fmt.Println("tcpserve: udp:", err)
		os.Exit(1)
	}
	buf := make([]byte, 2048)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		c.WriteTo(buf[:n], from)
	}
}

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
	mux.HandleFunc("/burn", func(w http.ResponseWriter, r *http.Request) {
		ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
		if err != nil || ms < 0 || ms > 60000 {
			http.Error(w, "bad ms", http.StatusBadRequest)
			return
		}
		t := time.Now()
		n := burn(t.Add(time.Duration(ms) * time.Millisecond))
		fmt.Fprintf(w, "burned %d rounds in %v\n", n, time.Since(t).Round(time.Millisecond))
	})
	mux.HandleFunc("/sleeps", func(w http.ResponseWriter, r *http.Request) {
		var worst time.Duration
		for i := 0; i < 20; i++ {
			t := time.Now()
			time.Sleep(10 * time.Millisecond)
			worst = max(worst, time.Since(t)-10*time.Millisecond)
		}
		fmt.Fprintf(w, "%d\n", worst.Microseconds())
	})
	var spins atomic.Uint64
	mux.HandleFunc("/spins", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%d\n", spins.Load())
	})
	go udpEcho()
	if n, _ := strconv.Atoi(os.Getenv("SPIN")); n > 0 {
		for i := 0; i < n; i++ {
			go spin(&spins)
		}
		fmt.Printf("tcpserve: %d goroutines spinning\n", n)
	}
	go func() {
		err := http.ListenAndServe(":80", mux)
		fmt.Println("tcpserve: http:", err)
		os.Exit(1)
	}()
	fmt.Println("tcpserve: serving echo 7, sink 9, source 19, http 80, udp echo 7")
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
