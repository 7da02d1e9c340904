package main

import (
	"fmt"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"
)

// debugHandler serves, when HTTPD_DEBUG=1, what an operator uses to look inside a running
// server: net/http/pprof's /debug/pprof/ (CPU profiles with ?seconds=N, heap, goroutines) and
// /debug/burn?ms=N, which burns N ms (at most 10 s) of CPU in the handler, to check that the
// server keeps answering other requests meanwhile. Everything else goes to next.
func debugHandler(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/burn", func(w http.ResponseWriter, r *http.Request) {
		ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
		if err != nil || ms < 0 || ms > 10000 {
			http.Error(w, "ms: a whole number of milliseconds, at most 10000", http.StatusBadRequest)
			return
		}
		start := time.Now()
		n := burnCPU(time.Duration(ms) * time.Millisecond)
		fmt.Fprintf(w, "burned %d ms of CPU in %d rounds\n", time.Since(start).Milliseconds(), n)
	})
	mux.Handle("/", next)
	return mux
}

var burnSink uint64

// burnCPU computes until d has passed, looking at the clock every 2^16 rounds; its inner loop
// has no function calls, so only asynchronous preemption can take the CPU from it.
//
//go:noinline
func burnCPU(d time.Duration) int {
	end := time.Now().Add(d)
	rounds := 0
	x := burnSink | 1
	for time.Now().Before(end) {
		for i := 0; i < 1<<16; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
		rounds++
	}
	burnSink = x
	return rounds
}
