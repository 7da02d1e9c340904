// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build xen

// The application's romfs image as the root file system (the file layer is fs_xen.go).
//
// The image is linked into the program by the go-xen build: a generated file that the image
// build adds to package main (go build -overlay; goxen.romfs.embed_overlay) embeds it with
// go:embed and pushes it into romfsImage with go:linkname. That definition has content, so
// the linker keeps it and drops the empty one below; a program built without an image keeps
// the empty one and sees only the device tree.
//
// The image is mounted at "/" on the first path call. /dev (and everything under it) stays
// the device tree's, so an image directory named dev is hidden; the root directory lists
// the image's entries and dev. Everything else is read-only: creating, writing, truncating,
// renaming or removing fails with EROFS. A corrupt image is reported once on the console and
// leaves the device tree alone.
//
// Reads copy from the image in place; nothing is cached or allocated per read.

package syscall

import (
	"internal/romfs"
	"sync"
	"unsafe"
)

// romfsImage is the application's image ("" when the build linked none).
var romfsImage string

var romfsMount = sync.OnceValue(func() *romfs.Image {
	if len(romfsImage) == 0 {
		return nil
	}
	img, err := romfs.Mount(unsafe.Slice(unsafe.StringData(romfsImage), len(romfsImage)))
	if err != nil {
		consoleWrite([]byte("syscall: romfs image not mounted: " + err.Error() + "\n"))
		return nil
	}
	return img
})

func init() { rootFS = romfsTree{} }

// romfsTree serves the image, with the device tree at /dev.
type romfsTree struct{}

// isDev reports whether path (clean, absolute) is the device tree's.
func isDev(path string) bool {
	return path == "/dev" || len(path) > 5 && path[:5] == "/dev/"
}

// romfsIno numbers image nodes after the device tree's inodes.
const romfsIno = 1 << 32

func (romfsTree) lookup(path string) (romfs.Node, error) {
	img := romfsMount()
	if img == nil {
		return romfs.Node{}, ENOENT
	}
	n, err := img.Lookup(path)
	switch err {
	case nil:
		return n, nil
	case romfs.ErrNotDir:
		return romfs.Node{}, ENOTDIR
	case romfs.ErrInvalid:
		return romfs.Node{}, EINVAL
	}
	return romfs.Node{}, ENOENT
}

func romfsStat(n romfs.Node, st *Stat_t) {
	st.Ino = romfsIno + uint64(n.Index())
	st.Mode = n.Mode()
	st.Nlink = 1
	if n.IsDir() {
		st.Nlink = 2
	}
	st.Size = n.Size()
	st.Blksize = 4096
	st.Blocks = (st.Size + 511) / 512
	t := n.ModTime()
	sec, nsec := t/1e9, t%1e9
	if nsec < 0 {
		sec, nsec = sec-1, nsec+1e9
	}
	st.Mtime, st.MtimeNsec = sec, nsec
	st.Atime, st.AtimeNsec = sec, nsec
	st.Ctime, st.CtimeNsec = sec, nsec
}

func (t romfsTree) stat(path string, st *Stat_t) error {
	if isDev(path) {
		return devTree{}.stat(path, st)
	}
	n, err := t.lookup(path)
	if err != nil {
		if path == "/" {
			return devTree{}.stat(path, st)
		}
		return err
	}
	romfsStat(n, st)
	return nil
}

func (t romfsTree) open(path string, flags int) (fileOps, error) {
	if isDev(path) {
		return devTree{}.open(path, flags)
	}
	n, err := t.lookup(path)
	if err != nil {
		if path == "/" {
			return devTree{}.open(path, flags)
		}
		if err == ENOENT && flags&O_CREAT != 0 {
			return nil, EROFS
		}
		return nil, err
	}
	if flags&O_CREAT != 0 && flags&O_EXCL != 0 {
		return nil, EEXIST
	}
	writing := flags&O_ACCMODE != O_RDONLY || flags&O_TRUNC != 0
	if n.IsDir() {
		if writing {
			return nil, EISDIR
		}
		d := &dirFile{}
		romfsStat(n, &d.st)
		dev := path == "/"
		for k := range n.NumChildren() {
			c := n.Child(k)
			name := c.Name()
			if dev && name >= "dev" {
				d.ents = append(d.ents, dirEntry{name: "dev", ino: 2, mode: S_IFDIR | 0555})
				dev = false
			}
			if path == "/" && name == "dev" {
				continue // hidden by the device tree
			}
			d.ents = append(d.ents, dirEntry{name: name, ino: romfsIno + uint64(c.Index()), mode: c.Mode()})
		}
		if dev {
			d.ents = append(d.ents, dirEntry{name: "dev", ino: 2, mode: S_IFDIR | 0555})
		}
		return d, nil
	}
	if flags&O_DIRECTORY != 0 {
		return nil, ENOTDIR
	}
	if writing {
		return nil, EROFS
	}
	return &romfsFile{node: n}, nil
}

// romfsFile is an open file of the image.
type romfsFile struct {
	baseFile
	node romfs.Node
	mu   sync.Mutex
	off  int64
}

func (f *romfsFile) read(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.node.ReadAt(b, f.off)
	f.off += int64(n)
	return n, nil
}

func (f *romfsFile) pread(b []byte, off int64) (int, error) { return f.node.ReadAt(b, off), nil }

func (f *romfsFile) seek(off int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch whence {
	case SEEK_CUR:
		off += f.off
	case SEEK_END:
		off += f.node.Size()
	}
	if off < 0 {
		return 0, EINVAL
	}
	f.off = off
	return off, nil
}

func (f *romfsFile) write(b []byte) (int, error)             { return 0, EBADF }
func (f *romfsFile) pwrite(b []byte, off int64) (int, error) { return 0, EBADF }
func (f *romfsFile) fstat(st *Stat_t) error                  { romfsStat(f.node, st); return nil }
