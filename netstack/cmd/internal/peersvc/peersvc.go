// Package peersvc holds the services the host benchmarks and tests talk to, written once and
// served by both peers of `./scons bench`'s host part: tapstack (over netstack) and linuxpeer
// (over Linux's sockets), so that the two sides differ only in the stack beneath them.
//
//	Echo(c)        copies what it reads back, then closes c
//	Sink(c)        reads to EOF, answers with the sha256 (hex) of what it read, closes c
//	EchoUDP(pc)    sends every datagram back to its sender
//	Handler(hello) HTTP: "/" says hello, "/bytes/N" sends N bytes (a pseudo-random block, repeated),
//	               "/bytes/N/sha256" their sha256 (hex)
//	Serve(accept, handle) runs handle on each accepted connection until accept fails
package peersvc

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"strconv"
	"sync"
)

// Echo copies c's input back to it, then closes c.
func Echo(c io.ReadWriteCloser) {
	io.Copy(c, c)
	c.Close()
}

// Sink reads c to EOF, writes the sha256 (hex) of what it read, then closes c.
func Sink(c io.ReadWriteCloser) {
	h := sha256.New()
	io.Copy(h, c)
	io.WriteString(c, hex.EncodeToString(h.Sum(nil)))
	c.Close()
}

// EchoUDP sends every datagram pc receives back to its sender, until pc fails.
func EchoUDP(pc net.PacketConn) {
	buf := make([]byte, 65536)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		pc.WriteTo(buf[:n], from)
	}
}

// Serve calls handle on its own goroutine for each connection accept returns, until accept
// fails.
func Serve[C any](accept func() (C, error), handle func(C)) {
	for {
		c, err := accept()
		if err != nil {
			return
		}
		go handle(c)
	}
}

// Handler is the HTTP service; hello names the stack in the answer to "/".
func Handler(hello string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s, %s\n", hello, r.RemoteAddr)
	})
	mux.HandleFunc("/bytes/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.PathValue("n"))
		if err != nil || n < 0 {
			http.Error(w, "bad size", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(n))
		io.CopyN(w, Bytes(), int64(n))
	})
	mux.HandleFunc("/bytes/{n}/sha256", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.PathValue("n"))
		if err != nil || n < 0 {
			http.Error(w, "bad size", http.StatusBadRequest)
			return
		}
		h := sha256.New()
		io.CopyN(h, Bytes(), int64(n))
		io.WriteString(w, hex.EncodeToString(h.Sum(nil)))
	})
	return mux
}

// patternLen is the length of the block Bytes repeats: about 1 MB, and prime, so that no
// power-of-two offset (a segment, a window, a page) lines up with a repetition.
const patternLen = 1_000_003

// pattern is patternLen pseudo-random bytes (seed 1: the same on both peers), made once.
var pattern = sync.OnceValue(func() []byte {
	b := make([]byte, patternLen)
	rand.New(rand.NewSource(1)).Read(b)
	return b
})

// Bytes is the byte stream /bytes/N serves: the pattern block, repeated. Generating the
// bytes as they go out cost more CPU than the stack under test (math/rand took 65% of the
// peer's profile in a TCP bulk run), so the bench measured the generator.
func Bytes() io.Reader {
	return &patternReader{}
}

type patternReader struct{ off int }

func (r *patternReader) Read(b []byte) (int, error) {
	p, n := pattern(), 0
	for n < len(b) {
		k := copy(b[n:], p[r.off:])
		n += k
		r.off = (r.off + k) % patternLen
	}
	return n, nil
}
