// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// memFS: a writable file tree in memory, mounted at /tmp (see lookupFS). Regular
// files and directories only; no links. Contents live on the Go heap and vanish
// with the domain. One mutex guards the whole tree, file contents included.

package syscall

import "sync"

type memFS struct {
	mu      sync.Mutex
	root    *memNode
	nextIno uint64
}

type memNode struct {
	ino      uint64
	mode     uint32              // S_IFDIR or S_IFREG, plus permission bits
	data     []byte              // of a regular file
	children map[string]*memNode // of a directory
	atime    Timespec
	mtime    Timespec
	ctime    Timespec
}

// memDev is Stat_t.Dev of memFS files (devTree's is 1), so os.SameFile can tell
// the trees apart.
const memDev = 2

func newMemFS() *memFS {
	fs := &memFS{nextIno: 1}
	fs.root = fs.newNode(S_IFDIR | 01777)
	return fs
}

func timeNow() Timespec {
	sec, nsec := now()
	return Timespec{Sec: sec, Nsec: int64(nsec)}
}

// newNode makes a node; fs.mu must be held (or fs not yet shared).
func (fs *memFS) newNode(mode uint32) *memNode {
	t := timeNow()
	n := &memNode{ino: fs.nextIno, mode: mode, atime: t, mtime: t, ctime: t}
	fs.nextIno++
	if mode&S_IFMT == S_IFDIR {
		n.children = map[string]*memNode{}
	}
	return n
}

func (n *memNode) isDir() bool { return n.mode&S_IFMT == S_IFDIR }

func (n *memNode) fill(st *Stat_t) {
	*st = Stat_t{
		Dev: memDev, Ino: n.ino, Mode: n.mode, Nlink: 1, Size: int64(len(n.data)),
		Blksize: 4096, Blocks: (int64(len(n.data)) + 511) / 512,
		Atime: n.atime.Sec, AtimeNsec: n.atime.Nsec,
		Mtime: n.mtime.Sec, MtimeNsec: n.mtime.Nsec,
		Ctime: n.ctime.Sec, CtimeNsec: n.ctime.Nsec,
	}
	if n.isDir() {
		st.Nlink = 2
		st.Size = int64(len(n.children))
	}
}

// walk returns the node at the clean absolute path p; fs.mu must be held.
func (fs *memFS) walk(p string) (*memNode, error) {
	n := fs.root
	for len(p) > 0 {
		if p[0] == '/' {
			p = p[1:]
			continue
		}
		i := 0
		for i < len(p) && p[i] != '/' {
			i++
		}
		if !n.isDir() {
			return nil, ENOTDIR
		}
		c, ok := n.children[p[:i]]
		if !ok {
			return nil, ENOENT
		}
		n, p = c, p[i:]
	}
	return n, nil
}

// parent returns the directory that holds p and p's last element; fs.mu must
// be held. The root has no parent: EBUSY (it is the mount point).
func (fs *memFS) parent(p string) (*memNode, string, error) {
	i := len(p) - 1
	for i >= 0 && p[i] != '/' {
		i--
	}
	name := p[i+1:]
	if name == "" {
		return nil, "", EBUSY
	}
	dir, err := fs.walk(p[:i+1])
	if err != nil {
		return nil, "", err
	}
	if !dir.isDir() {
		return nil, "", ENOTDIR
	}
	if len(name) > 255 {
		return nil, "", ENAMETOOLONG
	}
	return dir, name, nil
}

func (fs *memFS) stat(p string, st *Stat_t) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.walk(p)
	if err != nil {
		return err
	}
	n.fill(st)
	return nil
}

func (fs *memFS) open(p string, flags int, perm uint32) (fileOps, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.walk(p)
	if err == ENOENT && flags&O_CREAT != 0 {
		dir, name, perr := fs.parent(p)
		if perr != nil {
			return nil, perr
		}
		n = fs.newNode(S_IFREG | perm&0777)
		dir.children[name] = n
		dir.mtime, dir.ctime = n.mtime, n.mtime
	} else if err != nil {
		return nil, err
	} else if flags&(O_CREAT|O_EXCL) == O_CREAT|O_EXCL {
		return nil, EEXIST
	}
	acc := flags & O_ACCMODE
	if n.isDir() {
		if acc != O_RDONLY || flags&O_TRUNC != 0 {
			return nil, EISDIR
		}
		d := &dirFile{}
		n.fill(&d.st)
		names := make([]string, 0, len(n.children))
		for name := range n.children {
			names = append(names, name)
		}
		sortStrings(names)
		for _, name := range names {
			c := n.children[name]
			d.ents = append(d.ents, dirEntry{name: name, ino: c.ino, mode: c.mode})
		}
		return d, nil
	}
	if flags&O_DIRECTORY != 0 {
		return nil, ENOTDIR
	}
	if flags&O_TRUNC != 0 && acc != O_RDONLY {
		n.data = nil
		n.mtime = timeNow()
	}
	return &memFile{fs: fs, n: n, flags: flags}, nil
}

func (fs *memFS) mkdir(p string, perm uint32) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	dir, name, err := fs.parent(p)
	if err == EBUSY {
		return EEXIST // the mount point itself
	}
	if err != nil {
		return err
	}
	if _, ok := dir.children[name]; ok {
		return EEXIST
	}
	n := fs.newNode(S_IFDIR | perm&07777)
	dir.children[name] = n
	dir.mtime, dir.ctime = n.mtime, n.mtime
	return nil
}

func (fs *memFS) remove(p string, wantDir bool) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	dir, name, err := fs.parent(p)
	if err != nil {
		return err
	}
	n, ok := dir.children[name]
	switch {
	case !ok:
		return ENOENT
	case wantDir && !n.isDir():
		return ENOTDIR
	case !wantDir && n.isDir():
		return EISDIR
	case wantDir && len(n.children) > 0:
		return ENOTEMPTY
	}
	delete(dir.children, name)
	dir.mtime = timeNow()
	dir.ctime = dir.mtime
	return nil
}

func (fs *memFS) rename(from, to string) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fdir, fname, err := fs.parent(from)
	if err != nil {
		return err
	}
	n, ok := fdir.children[fname]
	if !ok {
		return ENOENT
	}
	tdir, tname, err := fs.parent(to)
	if err != nil {
		return err
	}
	if from == to {
		return nil
	}
	if n.isDir() && len(to) > len(from) && to[:len(from)] == from && to[len(from)] == '/' {
		return EINVAL // a directory cannot move into itself
	}
	if old, ok := tdir.children[tname]; ok {
		switch {
		case n.isDir() && !old.isDir():
			return ENOTDIR
		case !n.isDir() && old.isDir():
			return EISDIR
		case old.isDir() && len(old.children) > 0:
			return ENOTEMPTY
		}
	}
	delete(fdir.children, fname)
	tdir.children[tname] = n
	t := timeNow()
	fdir.mtime, fdir.ctime, tdir.mtime, tdir.ctime, n.ctime = t, t, t, t, t
	return nil
}

func (fs *memFS) chmod(p string, mode uint32) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.walk(p)
	if err != nil {
		return err
	}
	n.mode = n.mode&S_IFMT | mode&07777
	n.ctime = timeNow()
	return nil
}

func (fs *memFS) truncate(p string, size int64) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.walk(p)
	if err != nil {
		return err
	}
	return n.truncate(size)
}

// truncate sets the size of a regular file; fs.mu must be held.
func (n *memNode) truncate(size int64) error {
	if n.isDir() {
		return EISDIR
	}
	if size > int64(len(n.data)) {
		n.data = append(n.data, make([]byte, size-int64(len(n.data)))...)
	} else {
		n.data = n.data[:size]
	}
	n.mtime = timeNow()
	n.ctime = n.mtime
	return nil
}

// utimeOmit in a Timespec's Nsec leaves that time unchanged (Linux's UTIME_OMIT,
// which internal/syscall/unix.UTIME_OMIT names).
const utimeOmit = 0x3ffffffe

func (fs *memFS) utimes(p string, ts []Timespec) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.walk(p)
	if err != nil {
		return err
	}
	if ts[0].Nsec != utimeOmit {
		n.atime = ts[0]
	}
	if ts[1].Nsec != utimeOmit {
		n.mtime = ts[1]
	}
	n.ctime = timeNow()
	return nil
}

// memFile is a regular file of memFS opened with flags.
type memFile struct {
	baseFile
	fs    *memFS
	n     *memNode
	flags int
	off   int64
}

func (f *memFile) canRead() bool  { return f.flags&O_ACCMODE != O_WRONLY }
func (f *memFile) canWrite() bool { return f.flags&O_ACCMODE != O_RDONLY }

func (f *memFile) read(b []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	n, err := f.preadLocked(b, f.off)
	f.off += int64(n)
	return n, err
}

func (f *memFile) pread(b []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	return f.preadLocked(b, off)
}

func (f *memFile) preadLocked(b []byte, off int64) (int, error) {
	if !f.canRead() {
		return 0, EBADF
	}
	if off >= int64(len(f.n.data)) {
		return 0, nil
	}
	return copy(b, f.n.data[off:]), nil
}

func (f *memFile) write(b []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.flags&O_APPEND != 0 {
		f.off = int64(len(f.n.data))
	}
	n, err := f.pwriteLocked(b, f.off)
	f.off += int64(n)
	return n, err
}

func (f *memFile) pwrite(b []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	return f.pwriteLocked(b, off)
}

func (f *memFile) pwriteLocked(b []byte, off int64) (int, error) {
	if !f.canWrite() {
		return 0, EBADF
	}
	end := off + int64(len(b))
	if end > int64(len(f.n.data)) {
		if end > int64(cap(f.n.data)) {
			grown := make([]byte, end, max(end, 2*int64(cap(f.n.data))))
			copy(grown, f.n.data)
			f.n.data = grown
		} else {
			f.n.data = f.n.data[:end]
		}
	}
	copy(f.n.data[off:], b)
	f.n.mtime = timeNow()
	f.n.ctime = f.n.mtime
	return len(b), nil
}

func (f *memFile) seek(off int64, whence int) (int64, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	switch whence {
	case SEEK_CUR:
		off += f.off
	case SEEK_END:
		off += int64(len(f.n.data))
	}
	if off < 0 {
		return 0, EINVAL
	}
	f.off = off
	return off, nil
}

func (f *memFile) fstat(st *Stat_t) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	f.n.fill(st)
	return nil
}

func (f *memFile) chmod(mode uint32) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	f.n.mode = f.n.mode&S_IFMT | mode&07777
	f.n.ctime = timeNow()
	return nil
}

func (f *memFile) truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if !f.canWrite() {
		return EINVAL
	}
	return f.n.truncate(size)
}

// sortStrings sorts a directory's names (an insertion sort: directories in /tmp
// are small, and package syscall stays free of package sort).
func sortStrings(a []string) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}
