// Fsread reads every regular file under a directory tree and prints how long that took: the
// romfs benchmark of `./scons bench`. On Xen the tree is the kernel's romfs image (mounted at
// /); on Linux it is the same tree in the baseline domU's initramfs.
//
// Environment: FSREAD_ROOT, the tree (default /tree); FSREAD_PASSES, how many times to read
// it (default 3; the first pass is reported separately from the rest).
//
// Output, one line per pass, then the exit status:
//
//	fsread: pass N files F bytes B crc32 C ns T
package main

import (
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

type result struct {
	files int
	bytes int64
	crc   uint32
}

// readTree reads every regular file under root with one reusable buffer, in WalkDir's
// (lexical) order, and folds each file's CRC-32 and path into one checksum.
func readTree(root string, buf []byte) (result, error) {
	var r result
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h := crc32.NewIEEE()
		for {
			n, err := f.Read(buf)
			h.Write(buf[:n])
			r.bytes += int64(n)
			if err == io.EOF {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		rel, _ := filepath.Rel(root, p)
		r.crc = crc32.Update(r.crc, crc32.IEEETable, []byte(rel))
		r.crc = crc32.Update(r.crc, crc32.IEEETable, h.Sum(nil))
		r.files++
		return nil
	})
	return r, err
}

func main() {
	root := os.Getenv("FSREAD_ROOT")
	if root == "" {
		root = "/tree"
	}
	passes := 3
	if v := os.Getenv("FSREAD_PASSES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "fsread: FSREAD_PASSES: bad count %q\n", v)
			os.Exit(2)
		}
		passes = n
	}
	buf := make([]byte, 256<<10)
	for i := 1; i <= passes; i++ {
		t := time.Now()
		r, err := readTree(root, buf)
		el := time.Since(t)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fsread:", err)
			os.Exit(1)
		}
		fmt.Printf("fsread: pass %d files %d bytes %d crc32 %08x ns %d\n", i, r.files, r.bytes,
			r.crc, el.Nanoseconds())
	}
}
