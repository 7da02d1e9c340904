package peersvc

import (
	"bytes"
	"io"
	"math/rand"
	"testing"
)

// Bytes is the same stream however it is read: the seed-1 block, repeated without a seam.
func TestBytesRepeatsThePattern(t *testing.T) {
	n := 2*patternLen + 12345
	want := make([]byte, patternLen)
	rand.New(rand.NewSource(1)).Read(want)
	for _, chunk := range []int{1, 4096, 32 << 10, patternLen + 7} {
		got, buf, r := make([]byte, 0, n), make([]byte, chunk), Bytes()
		for len(got) < n {
			k, err := r.Read(buf[:min(chunk, n-len(got))])
			if err != nil || k == 0 {
				t.Fatalf("chunk %d: read %d, %v", chunk, k, err)
			}
			got = append(got, buf[:k]...)
		}
		for off := 0; off < n; off += patternLen {
			end := min(off+patternLen, n)
			if !bytes.Equal(got[off:end], want[:end-off]) {
				t.Fatalf("chunk %d: bytes from %d differ from the pattern", chunk, off)
			}
		}
	}
	a, _ := io.ReadAll(io.LimitReader(Bytes(), 100))
	if !bytes.Equal(a, want[:100]) {
		t.Fatal("a fresh reader does not start at the pattern's start")
	}
}
