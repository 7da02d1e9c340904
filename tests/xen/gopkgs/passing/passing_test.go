// Package passing checks that test flags and results cross go test -exec on Xen.
package passing

import (
	"os"
	"testing"
)

func TestRunsOnXen(t *testing.T) {
	if len(os.Args) < 2 {
		t.Fatalf("no test flags reached the guest: %q", os.Args)
	}
}
