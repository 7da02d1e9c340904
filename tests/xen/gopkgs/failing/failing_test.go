// Package failing has a test that fails on purpose: go test -exec must report FAIL.
package failing

import "testing"

func TestPasses(t *testing.T) {}

func TestFailsOnPurpose(t *testing.T) {
	t.Fatal("this test fails on purpose")
}
