// Guesttest reads every file of its embedded romfs image and prints one line per file with
// its SHA-256, so that a tier-2 test (tests/xen/test_romfs_guest.py) can compare the guest's
// view with the host's tree; it also times a pass that reads everything through ReadAt.
//
// Output:
//
//	romfs: mounted N nodes, B bytes
//	file SHA256 SIZE MODE MTIME_NS PATH
//	romfs: read F files, B bytes in D (R MB/s)
//	romfs: ok
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"
	"unsafe"

	"goxen/romfs"
	"goxen/romfs/internal/guestimg"
)

func main() {
	if len(guestimg.Image) == 0 {
		fmt.Println("romfs: no image embedded")
		os.Exit(2)
	}
	b := unsafe.Slice(unsafe.StringData(guestimg.Image), len(guestimg.Image))
	t0 := time.Now()
	img, err := romfs.Mount(b)
	if err != nil {
		fmt.Println("romfs: mount:", err)
		os.Exit(1)
	}
	fmt.Printf("romfs: mounted %d nodes, %d bytes in %v\n", img.Len(), img.Size(), time.Since(t0))

	failed := false
	for i := range img.Len() {
		n := img.Node(i)
		if n.IsDir() {
			continue
		}
		p := path(n)
		if got, err := img.Lookup(p); err != nil || got.Index() != i {
			fmt.Printf("romfs: lookup %s: %v\n", p, err)
			failed = true
		}
		if err := n.Verify(); err != nil {
			fmt.Printf("romfs: %s: %v\n", p, err)
			failed = true
		}
		sum := sha256.Sum256(n.Data())
		fmt.Printf("file %s %d %o %d %s\n", hex.EncodeToString(sum[:]), n.Size(), n.Mode(), n.ModTime(), p)
	}

	buf := make([]byte, 64<<10)
	var files, total int64
	t0 = time.Now()
	for i := range img.Len() {
		n := img.Node(i)
		if n.IsDir() {
			continue
		}
		files++
		for off := int64(0); off < n.Size(); {
			k := n.ReadAt(buf, off)
			off += int64(k)
			total += int64(k)
		}
	}
	d := time.Since(t0)
	fmt.Printf("romfs: read %d files, %d bytes in %v (%.1f MB/s)\n", files, total, d,
		float64(total)/1e6/max(d.Seconds(), 1e-9))
	if failed {
		os.Exit(1)
	}
	fmt.Println("romfs: ok")
}

// path is n's path from the root, built from its parents.
func path(n romfs.Node) string {
	var parts []string
	for ; n.Index() != 0; n = n.Parent() {
		parts = append(parts, n.Name())
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, "/")
}
