package iofs_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"goxen/romfs/iofs"
)

// FuzzRead drives an open file of testdata/tree.img with a program of Read, ReadAt and Seek
// calls taken from ops, and checks every result against bytes.Reader over the same contents.
func FuzzRead(f *testing.F) {
	img, err := os.ReadFile(filepath.Join("..", "testdata", "tree.img"))
	if err != nil {
		f.Fatal(err)
	}
	fsys, err := iofs.Mount(img)
	if err != nil {
		f.Fatal(err)
	}
	names := []string{"static/img/noise.bin", "hello.txt", "static/empty.txt"}
	f.Add(uint8(0), []byte{0, 10, 0, 1, 5, 3, 2, 0, 2, 200, 1, 0})
	f.Add(uint8(1), []byte{2, 255, 2, 1, 0, 0, 0, 255})
	f.Fuzz(func(t *testing.T, which uint8, ops []byte) {
		name := names[int(which)%len(names)]
		want, _ := fsys.ReadFile(name)
		file, err := fsys.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		got := file.(interface {
			io.Reader
			io.ReaderAt
			io.Seeker
		})
		model := bytes.NewReader(want)
		for len(ops) >= 3 {
			op, a, b := ops[0]%3, int64(int8(ops[1]))*int64(ops[2]%8+1), int(ops[2])
			ops = ops[3:]
			switch op {
			case 0: // Read(b bytes)
				p, q := make([]byte, b), make([]byte, b)
				n, err := got.Read(p)
				m, merr := model.Read(q)
				if b == 0 && m == 0 { // bytes.Reader returns EOF for empty reads at the end; we need not
					merr, err = nil, nil
				}
				if n != m || err != merr || !bytes.Equal(p[:n], q[:m]) {
					t.Fatalf("Read(%d) = %d, %v; want %d, %v", b, n, err, m, merr)
				}
			case 1: // ReadAt(b bytes, a)
				p, q := make([]byte, b), make([]byte, b)
				n, err := got.ReadAt(p, a)
				m, merr := model.ReadAt(q, a)
				if b == 0 && a >= 0 { // an empty ReadAt may report EOF or not (io.ReaderAt)
					merr, err = nil, nil
				}
				if (err == nil) != (merr == nil) || n != m || !bytes.Equal(p[:n], q[:m]) {
					t.Fatalf("ReadAt(%d, %d) = %d, %v; want %d, %v", b, a, n, err, m, merr)
				}
			case 2: // Seek(a, whence)
				whence := b % 3
				n, err := got.Seek(a, whence)
				m, merr := model.Seek(a, whence)
				if (err == nil) != (merr == nil) || (err == nil && n != m) {
					t.Fatalf("Seek(%d, %d) = %d, %v; want %d, %v", a, whence, n, err, m, merr)
				}
			}
		}
	})
}
