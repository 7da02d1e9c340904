package main

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// MemStats returns the memory statistics that `stats` adds after the general ones (not in
// memcached): the Go runtime's view, which means the same on every GOOS, and where the
// system has /proc (Linux), the process's resident set and the machine's used memory.
//
//	go_sys         bytes the runtime obtained from the system (runtime.MemStats.Sys)
//	go_heap_inuse  bytes in in-use heap spans
//	go_heap_alloc  bytes of allocated heap objects
//	rss            resident set size of this process (/proc/self/statm)
//	mem_used       MemTotal - MemAvailable (/proc/meminfo)
func MemStats() [][2]string {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	out := [][2]string{
		{"go_sys", strconv.FormatUint(m.Sys, 10)},
		{"go_heap_inuse", strconv.FormatUint(m.HeapInuse, 10)},
		{"go_heap_alloc", strconv.FormatUint(m.HeapAlloc, 10)},
	}
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 2 {
			if pages, err := strconv.ParseUint(f[1], 10, 64); err == nil {
				out = append(out, [2]string{"rss", strconv.FormatUint(pages*uint64(os.Getpagesize()), 10)})
			}
		}
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		defer f.Close()
		kb := map[string]uint64{}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			w := strings.Fields(sc.Text())
			if len(w) >= 2 {
				if n, err := strconv.ParseUint(w[1], 10, 64); err == nil {
					kb[strings.TrimSuffix(w[0], ":")] = n
				}
			}
		}
		total, ok1 := kb["MemTotal"]
		avail, ok2 := kb["MemAvailable"]
		if ok1 && ok2 && total >= avail {
			out = append(out, [2]string{"mem_used", strconv.FormatUint((total-avail)*1024, 10)})
		}
	}
	return out
}

// NetstackStats returns what `stats netstack` prints (not in memcached): on xen, the
// network stack's counters and limits from /proc/net/netstack, one "Group.Name value" pair
// each (TCP.Connections, TCP.ConnsRefused, Budget.Used, UDP.RcvbufErrors, eth0.RxFrames,
// ...); elsewhere none.
func NetstackStats() [][2]string {
	b, err := os.ReadFile("/proc/net/netstack")
	if err != nil {
		return nil
	}
	var out [][2]string
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			out = append(out, [2]string{f[0], f[1]})
		}
	}
	return out
}
