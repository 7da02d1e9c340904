package main

import (
	"strconv"
	"strings"
	"testing"
)

func TestStatsReportMemory(t *testing.T) {
	s := NewStore(1<<20, 1<<20, nil)
	stats := run(t, s, "stats\r\n")
	for _, name := range []string{"go_sys", "go_heap_inuse", "go_heap_alloc"} {
		i := strings.Index(stats, "STAT "+name+" ")
		if i < 0 {
			t.Fatalf("stats lack %s:\n%s", name, stats)
		}
		v := strings.Fields(stats[i:])[2]
		if n, err := strconv.ParseUint(v, 10, 64); err != nil || n == 0 {
			t.Errorf("%s = %q, want a positive number", name, v)
		}
	}
	if !strings.HasSuffix(stats, "END\r\n") {
		t.Errorf("stats end: %q", stats)
	}
}
