// Fpstress checks that the CPU keeps each process's FPU/SSE state across context switches: the
// test bed's own health check (tests/xen3/test_bed_health.py). It runs in the Linux baseline
// domU, where the kernel saves and restores that state at every switch between processes; QEMU
// 7.2's TCG corrupts it when the guest uses XSAVE (goxen.xenrun.QEMU_CPU turns XSAVE off).
//
//	fpstress [-seconds N] [-workers W]
//
// starts W copies of itself as separate processes. Each fills a 1 MiB buffer, then for N
// seconds repeats: copy it (memmove: SSE moves), hash the copy (SHA-256), compare the copy
// with the original (SSE compares) and run a float64 recurrence (scalar SSE2) whose bits are
// known, checking every result against the first round's. Every wrong round is printed. The
// parent prints
//
//	FPSTRESS total rounds=R wrong=X workers=W
//
// and exits 1 when X > 0 or a worker failed.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

const bufSize = 1 << 20

func main() {
	seconds := flag.Float64("seconds", 40, "how long each worker runs")
	workers := flag.Int("workers", 3, "worker processes")
	worker := flag.Int("worker", -1, "run as worker number N (internal)")
	flag.Parse()
	if *worker >= 0 {
		os.Exit(work(*worker, time.Duration(*seconds*float64(time.Second))))
	}
	os.Exit(parent(*workers, *seconds))
}

// parent starts the workers, relays their lines and sums their tallies.
func parent(n int, seconds float64) int {
	self, err := os.Executable()
	if err != nil {
		fmt.Println("FPSTRESS error:", err)
		return 1
	}
	var (
		mu            sync.Mutex
		rounds, wrong int
		failed        bool
		wg            sync.WaitGroup
	)
	for i := 0; i < n; i++ {
		cmd := exec.Command(self, "-worker", strconv.Itoa(i), "-seconds", fmt.Sprint(seconds))
		out, err := cmd.StdoutPipe()
		if err == nil {
			cmd.Stderr = os.Stderr
			err = cmd.Start()
		}
		if err != nil {
			fmt.Printf("FPSTRESS error: worker %d: %v\n", i, err)
			return 1
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sc := bufio.NewScanner(out)
			done := false
			for sc.Scan() {
				line := sc.Text()
				mu.Lock()
				fmt.Println(line)
				var w, r, x int
				if _, err := fmt.Sscanf(line, "FPSTRESS worker=%d rounds=%d wrong=%d", &w, &r, &x); err == nil {
					rounds += r
					wrong += x
					done = true
				}
				mu.Unlock()
			}
			err := cmd.Wait()
			mu.Lock()
			defer mu.Unlock()
			if err != nil || !done {
				fmt.Printf("FPSTRESS error: worker %d ended without its tally (%v)\n", i, err)
				failed = true
			}
		}(i)
	}
	wg.Wait()
	fmt.Printf("FPSTRESS total rounds=%d wrong=%d workers=%d\n", rounds, wrong, n)
	if failed || wrong > 0 {
		return 1
	}
	return 0
}

// recurrence is a float64 computation with many live XMM values; its result's bits are the
// same every time on a correct CPU.
func recurrence(seed float64) uint64 {
	a, b, c, d := seed, 1/seed, math.Sqrt(seed), seed*seed
	for i := 0; i < 20000; i++ {
		a = a*0.999 + b*0.001
		b = b*0.998 + c*0.002
		c = c*0.997 + d*0.003
		d = d*0.996 + a*0.004
	}
	return math.Float64bits(a + b*3 + c*5 + d*7)
}

func work(id int, d time.Duration) int {
	src := make([]byte, bufSize)
	rand.New(rand.NewSource(int64(id) + 1)).Read(src)
	dst := make([]byte, bufSize)
	wantSum := sha256.Sum256(src)
	seed := 1.5 + float64(id)
	wantBits := recurrence(seed)
	rounds, wrong := 0, 0
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		clear(dst)
		copy(dst, src)
		var faults []string
		if sum := sha256.Sum256(dst); sum != wantSum {
			faults = append(faults, fmt.Sprintf("sha256 %x want %x", sum[:8], wantSum[:8]))
		}
		if !bytes.Equal(dst, src) {
			faults = append(faults, "copy differs")
		}
		if bits := recurrence(seed); bits != wantBits {
			faults = append(faults, fmt.Sprintf("float bits %#x want %#x", bits, wantBits))
		}
		rounds++
		if len(faults) > 0 {
			wrong++
			fmt.Printf("FPSTRESS wrong worker=%d round=%d: %s\n", id, rounds, strings.Join(faults, "; "))
		}
	}
	fmt.Printf("FPSTRESS worker=%d rounds=%d wrong=%d\n", id, rounds, wrong)
	return 0
}
