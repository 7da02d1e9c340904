package iofs_test

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
	"unsafe"

	"goxen/romfs"
	"goxen/romfs/internal/packtest"
	"goxen/romfs/iofs"
)

// content is deterministic, position-dependent file data.
func content(seed, n int) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

func write(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// tree builds the round-trip test tree and returns its root.
func tree(t *testing.T, large bool) string {
	root := t.TempDir()
	write(t, filepath.Join(root, "empty"), nil, 0o644)
	write(t, filepath.Join(root, "static", "index.html"), []byte("<h1>hello</h1>\n"), 0o644)
	write(t, filepath.Join(root, "static", "run.sh"), []byte("#!/bin/sh\n"), 0o755)
	write(t, filepath.Join(root, "static", "secret"), []byte("s"), 0o600)
	for _, name := range []string{"héllo.txt", "日本語", "emoji-😀", "Zed", "a b", "-dash"} {
		write(t, filepath.Join(root, "unicode", name), []byte(name), 0o644)
	}
	if err := os.MkdirAll(filepath.Join(root, "emptydir"), 0o755); err != nil {
		t.Fatal(err)
	}
	deep := root
	for i := range 100 {
		deep = filepath.Join(deep, fmt.Sprintf("d%02d", i))
	}
	write(t, filepath.Join(deep, "bottom"), []byte("deep"), 0o644)
	for i := range 3000 {
		write(t, filepath.Join(root, "many", fmt.Sprintf("f%05d", i*7%3000)), content(i, i%97), 0o644)
	}
	for i := range 20 {
		write(t, filepath.Join(root, "sizes", fmt.Sprintf("s%02d", i)), content(i, i*i*31), 0o644)
	}
	if large {
		write(t, filepath.Join(root, "large", "big.bin"), content(7, 16<<20+12345), 0o644)
	}
	mt := time.Date(2001, 2, 3, 4, 5, 6, 789, time.UTC)
	if err := os.Chtimes(filepath.Join(root, "static", "index.html"), mt, mt); err != nil {
		t.Fatal(err)
	}
	return root
}

// compare checks every file and directory of root against fsys.
func compare(t *testing.T, root string, fsys fs.FS) int {
	t.Helper()
	count := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		want, err := d.Info()
		if err != nil {
			return err
		}
		got, err := fs.Stat(fsys, rel)
		if err != nil {
			t.Errorf("stat %s: %v", rel, err)
			return nil
		}
		count++
		if got.IsDir() != want.IsDir() || got.Mode() != want.Mode() {
			t.Errorf("%s: mode %v, want %v", rel, got.Mode(), want.Mode())
		}
		if !got.ModTime().Equal(want.ModTime()) {
			t.Errorf("%s: mtime %v, want %v", rel, got.ModTime(), want.ModTime())
		}
		if want.IsDir() {
			ents, err := fs.ReadDir(fsys, rel)
			osents, _ := os.ReadDir(path)
			if err != nil || len(ents) != len(osents) {
				t.Errorf("%s: readdir: %d entries, %v; want %d", rel, len(ents), err, len(osents))
			}
			return nil
		}
		if got.Size() != want.Size() {
			t.Errorf("%s: size %d, want %d", rel, got.Size(), want.Size())
		}
		wantData, _ := os.ReadFile(path)
		gotData, err := fs.ReadFile(fsys, rel)
		if err != nil || !bytes.Equal(gotData, wantData) {
			t.Errorf("%s: contents differ (%d bytes, %v)", rel, len(gotData), err)
		}
		n := got.Sys().(romfs.Node)
		if n.CRC() != crc32.ChecksumIEEE(wantData) || n.Verify() != nil {
			t.Errorf("%s: crc %08x, want %08x", rel, n.CRC(), crc32.ChecksumIEEE(wantData))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return count
}

func TestRoundTrip(t *testing.T) {
	large := !testing.Short()
	root := tree(t, large)
	img := packtest.Pack(t, root)
	fsys, err := iofs.Mount(img)
	if err != nil {
		t.Fatal(err)
	}
	n := compare(t, root, fsys)
	if n != fsys.Image().Len() {
		t.Errorf("image has %d nodes, the tree %d", fsys.Image().Len(), n)
	}
	if large {
		d := fsys.Image().Root()
		big, _ := fsys.Image().Lookup("large/big.bin")
		if big.Size() <= 16<<20 || d.NumChildren() == 0 {
			t.Errorf("large file: %d bytes", big.Size())
		}
		if off := uintptr(unsafe.Pointer(&big.Data()[0])) - uintptr(unsafe.Pointer(&img[0])); off%16 != 0 {
			t.Errorf("file data at image offset %d is not 16-byte aligned", off)
		}
	}
	if testing.Short() {
		return
	}
	// Every directory, file and name through the fstest checker (too slow for the deep and
	// many-entry parts: check a representative subtree and a few of each).
	for _, sub := range []string{"static", "unicode", "sizes", "emptydir"} {
		s, err := fs.Sub(fsys, sub)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		ents, _ := fs.ReadDir(s, ".")
		for _, e := range ents {
			want = append(want, e.Name())
		}
		if err := fstest.TestFS(s, want...); err != nil {
			t.Errorf("fstest %s: %v", sub, err)
		}
	}
}

func TestFSTestWhole(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "a.txt"), []byte("aaa"), 0o644)
	write(t, filepath.Join(root, "dir", "b.txt"), content(1, 5000), 0o640)
	write(t, filepath.Join(root, "dir", "sub", "c"), nil, 0o600)
	os.MkdirAll(filepath.Join(root, "void"), 0o700)
	fsys, err := iofs.Mount(packtest.Pack(t, root))
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(fsys, "a.txt", "dir/b.txt", "dir/sub/c", "void"); err != nil {
		t.Fatal(err)
	}
}

func TestDeterministicAndMtime(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "x"), []byte("x"), 0o644)
	a := packtest.Pack(t, root, "--mtime", "1700000000")
	b := packtest.Pack(t, root, "--mtime", "1700000000")
	if !bytes.Equal(a, b) {
		t.Fatal("two packs of one tree differ")
	}
	fsys, _ := iofs.Mount(a)
	fi, _ := fsys.Stat("x")
	if got := fi.ModTime().Unix(); got != 1700000000 {
		t.Errorf("mtime %d, want 1700000000", got)
	}
}

func TestErrors(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "f"), []byte("0123456789"), 0o644)
	fsys, err := iofs.Mount(packtest.Pack(t, root))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]error{
		"missing": fs.ErrNotExist, "f/x": nil, "/f": fs.ErrInvalid, "f/": fs.ErrInvalid,
		"./f": fs.ErrInvalid, "a//b": fs.ErrInvalid, "..": fs.ErrInvalid,
	} {
		_, err := fsys.Open(name)
		var pe *fs.PathError
		if !errors.As(err, &pe) || pe.Path != name {
			t.Errorf("open %q: %v, want a *PathError for it", name, err)
			continue
		}
		if want != nil && !errors.Is(err, want) {
			t.Errorf("open %q: %v, want %v", name, err, want)
		}
		if want == nil && !strings.Contains(err.Error(), "not a directory") {
			t.Errorf("open %q: %v, want not a directory", name, err)
		}
	}
	if _, err := fsys.ReadFile("."); err == nil {
		t.Error("readfile . succeeded")
	}
	if _, err := fsys.ReadDir("f"); err == nil {
		t.Error("readdir of a file succeeded")
	}

	f, _ := fsys.Open("f")
	rs := f.(io.ReadSeeker)
	ra := f.(io.ReaderAt)
	buf := make([]byte, 4)
	if n, err := ra.ReadAt(buf, 8); n != 2 || err != io.EOF || string(buf[:2]) != "89" {
		t.Errorf("ReadAt(8) = %d, %v, %q", n, err, buf[:n])
	}
	if n, err := ra.ReadAt(buf, 100); n != 0 || err != io.EOF {
		t.Errorf("ReadAt(100) = %d, %v", n, err)
	}
	if _, err := ra.ReadAt(buf, -1); err == nil {
		t.Error("ReadAt(-1) succeeded")
	}
	if off, err := rs.Seek(-3, io.SeekEnd); off != 7 || err != nil {
		t.Errorf("Seek(-3, end) = %d, %v", off, err)
	}
	if b, _ := io.ReadAll(rs); string(b) != "789" {
		t.Errorf("read after seek: %q", b)
	}
	if _, err := rs.Seek(-1, io.SeekStart); err == nil {
		t.Error("Seek(-1) succeeded")
	}
	f.Close()
	if _, err := rs.Read(buf); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("read after close: %v", err)
	}
}

func TestMountRejects(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "f"), []byte("data"), 0o644)
	img := packtest.Pack(t, root)
	if _, err := iofs.Mount(img[:len(img)-1]); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated image: %v", err)
	}
	bad := append([]byte{}, img...)
	bad[70] ^= 1
	if _, err := iofs.Mount(bad); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("corrupted index: %v", err)
	}
}
