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
// Without a linked image, a romfs image passed as the boot module (start_info.mod_start) is
// used instead. The image is mounted at "/" on the first path call. The device tree's mounts
// (/dev, and /tmp where tmpFS is mounted) stay its own, so image entries of those names are
// hidden; its generated /etc files (etc_xen.go) fill in what the image's /etc lacks. A
// directory in both lists the image's entries merged with the device tree's. Everything else
// is read-only: creating, writing, truncating, renaming or removing fails with EROFS. A corrupt
// image is reported once on the console and leaves the device tree alone.
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

// initrd returns the boot module Xen loaded after the kernel, or nil (runtime/syscall_xen.go).
func initrd() []byte

// romfsMagic starts every romfs image (romfs/FORMAT.md).
const romfsMagic = "GOXROMFS"

var romfsMount = sync.OnceValue(func() *romfs.Image {
	data := unsafe.Slice(unsafe.StringData(romfsImage), len(romfsImage))
	if len(data) == 0 {
		// No linked image: a romfs image given as the boot module (go_xen_exec passes a
		// test package's testdata/ this way) serves instead.
		if m := initrd(); len(m) >= len(romfsMagic) && string(m[:len(romfsMagic)]) == romfsMagic {
			data = m
		}
	}
	if len(data) == 0 {
		return nil
	}
	img, err := romfs.Mount(data)
	if err != nil {
		consoleWrite([]byte("syscall: romfs image not mounted: " + err.Error() + "\n"))
		return nil
	}
	return img
})

func init() { rootFS = romfsTree{} }

// romfsTree serves the image, with the device tree's mounts over it and its other nodes
// under it.
type romfsTree struct{}

// romfsDev is romfs's Stat_t.Dev (the device tree is 1, tmpFS 2).
const romfsDev = 3

// isDev reports whether path (clean, absolute) is in one of the device tree's mounts.
func isDev(path string) bool {
	for _, name := range devMounts {
		if len(path) > len(name) && path[1:1+len(name)] == name &&
			(len(path) == 1+len(name) || path[1+len(name)] == '/') {
			return true
		}
	}
	return false
}

// underDev reports whether the device tree has path, which the image lacks (err from lookup).
func underDev(path string, err error) bool {
	_, ok := devNodes[path]
	return ok && err == ENOENT
}

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
	st.Dev = romfsDev
	st.Ino = uint64(n.Index()) + 1
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
		if underDev(path, err) {
			return devTree{}.stat(path, st)
		}
		return err
	}
	romfsStat(n, st)
	return nil
}

// readOnly answers a change to path: ENOENT if it does not exist (unless notExistOK), else
// EROFS.
func (t romfsTree) readOnly(path string, notExistOK bool) error {
	if isDev(path) {
		return devTree{}.readOnly(path, notExistOK)
	}
	var st Stat_t
	if err := t.stat(path, &st); err != nil && !(notExistOK && err == ENOENT) {
		return err
	}
	return EROFS
}

func (t romfsTree) mkdir(path string, perm uint32) error    { return t.readOnly(path, true) }
func (t romfsTree) remove(path string, dir bool) error      { return t.readOnly(path, false) }
func (t romfsTree) rename(from, to string) error            { return t.readOnly(from, false) }
func (t romfsTree) chmod(path string, mode uint32) error    { return t.readOnly(path, false) }
func (t romfsTree) truncate(path string, size int64) error  { return t.readOnly(path, false) }
func (t romfsTree) utimes(path string, ts []Timespec) error { return t.readOnly(path, false) }

func (t romfsTree) open(path string, flags int, perm uint32) (fileOps, error) {
	if isDev(path) {
		return devTree{}.open(path, flags, perm)
	}
	n, err := t.lookup(path)
	if err != nil {
		if underDev(path, err) {
			return devTree{}.open(path, flags, perm)
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
		var dev []string // the device tree's entries here (sorted), merged into the listing
		if dn, ok := devNodes[path]; ok && dn.mode&S_IFMT == S_IFDIR {
			dev = dn.entries
		}
		for k := range n.NumChildren() {
			c := n.Child(k)
			name := c.Name()
			for len(dev) > 0 && dev[0] < name {
				d.ents = append(d.ents, devEntry(path, dev[0]))
				dev = dev[1:]
			}
			if len(dev) > 0 && dev[0] == name {
				dev = dev[1:]
				if path == "/" && isDev("/"+name) {
					d.ents = append(d.ents, devEntry(path, name))
					continue
				}
			}
			d.ents = append(d.ents, dirEntry{name: name, ino: uint64(c.Index()) + 1, mode: c.Mode()})
		}
		for _, name := range dev {
			d.ents = append(d.ents, devEntry(path, name))
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
