// Readbench times reading every regular file under a directory through os (WalkDir, Open,
// io.Copy into a hash-free sink), the romfs row of `./scons bench`: the same program runs as
// a go-xen unikernel over its embedded image and as a Linux domU over an initramfs.
//
// Usage: readbench [DIR] (default "/"; /dev, /proc and /sys are skipped). Output, last line:
//
//	readbench: FILES files BYTES bytes in NANOS ns
package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

func main() {
	root := "/"
	if len(os.Args) > 1 {
		root = os.Args[1]
	}
	buf := make([]byte, 64<<10)
	var files, total int64
	t0 := time.Now()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (path == "/dev" || path == "/proc" || path == "/sys") {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		n, err := io.CopyBuffer(sink{}, onlyReader{f}, buf)
		f.Close()
		files++
		total += n
		return err
	})
	d := time.Since(t0)
	if err != nil {
		fmt.Println("readbench:", err)
		os.Exit(1)
	}
	fmt.Printf("readbench: %d files %d bytes in %d ns\n", files, total, d.Nanoseconds())
}

// sink discards; onlyReader hides WriterTo/ReaderFrom so that every byte is copied through
// buf on both systems alike.
type sink struct{}

func (sink) Write(p []byte) (int, error) { return len(p), nil }

type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }
