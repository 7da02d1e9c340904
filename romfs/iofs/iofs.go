// Package iofs serves a romfs image through io/fs: FS implements fs.FS, fs.ReadDirFS,
// fs.ReadFileFS, fs.StatFS and fs.SubFS, and its files implement io.ReaderAt and io.Seeker
// (and io.WriterTo, so io.Copy needs no buffer).
//
// Reads copy straight from the image; an open file is a node and an offset. Names follow
// fs.ValidPath; errors are *fs.PathError wrapping fs.ErrNotExist, fs.ErrInvalid and so on.
package iofs

import (
	"errors"
	"io"
	"io/fs"
	"time"

	"goxen/romfs"
)

// FS is a mounted image as an fs.FS.
type FS struct {
	img *romfs.Image
}

var (
	_ fs.ReadDirFS  = (*FS)(nil)
	_ fs.ReadFileFS = (*FS)(nil)
	_ fs.StatFS     = (*FS)(nil)
	_ fs.SubFS      = (*FS)(nil)
)

// New serves img.
func New(img *romfs.Image) *FS { return &FS{img} }

// Mount checks b as a romfs image (romfs.Mount) and serves it.
func Mount(b []byte) (*FS, error) {
	img, err := romfs.Mount(b)
	if err != nil {
		return nil, err
	}
	return New(img), nil
}

// Image is the image served.
func (f *FS) Image() *romfs.Image { return f.img }

// errNotDir is what a lookup through a file reports (syscall.ENOTDIR's text, without syscall).
var errNotDir = errors.New("not a directory")

func (f *FS) lookup(op, name string) (romfs.Node, error) {
	if !fs.ValidPath(name) {
		return romfs.Node{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	n, err := f.img.Lookup(name)
	switch err {
	case nil:
		return n, nil
	case romfs.ErrNotDir:
		err = errNotDir
	case romfs.ErrInvalid:
		err = fs.ErrInvalid
	default:
		err = fs.ErrNotExist
	}
	return romfs.Node{}, &fs.PathError{Op: op, Path: name, Err: err}
}

// Open opens the named file or directory.
func (f *FS) Open(name string) (fs.File, error) {
	n, err := f.lookup("open", name)
	if err != nil {
		return nil, err
	}
	if n.IsDir() {
		return &dir{node: n, name: name}, nil
	}
	return &file{node: n, name: name}, nil
}

// Stat describes the named file.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	n, err := f.lookup("stat", name)
	if err != nil {
		return nil, err
	}
	return info{n}, nil
}

// ReadFile returns a copy of the named file's contents.
func (f *FS) ReadFile(name string) ([]byte, error) {
	n, err := f.lookup("readfile", name)
	if err != nil {
		return nil, err
	}
	if n.IsDir() {
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: errIsDir}
	}
	return append([]byte{}, n.Data()...), nil
}

// ReadDir lists the named directory, sorted by name.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	n, err := f.lookup("readdir", name)
	if err != nil {
		return nil, err
	}
	if !n.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errNotDir}
	}
	out := make([]fs.DirEntry, n.NumChildren())
	for k := range out {
		out[k] = info{n.Child(k)}
	}
	return out, nil
}

// Sub serves the subtree at dir: a directory's node becomes the root of a view.
func (f *FS) Sub(dir string) (fs.FS, error) {
	n, err := f.lookup("sub", dir)
	if err != nil {
		return nil, err
	}
	if !n.IsDir() {
		return nil, &fs.PathError{Op: "sub", Path: dir, Err: errNotDir}
	}
	if dir == "." {
		return f, nil
	}
	return &subFS{f, dir}, nil
}

type subFS struct {
	*FS
	dir string
}

func (s *subFS) full(op, name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return s.dir, nil
	}
	return s.dir + "/" + name, nil
}

func (s *subFS) fix(err error, name string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		pe.Path = name
	}
	return err
}

func (s *subFS) Open(name string) (fs.File, error) {
	full, err := s.full("open", name)
	if err != nil {
		return nil, err
	}
	f, err := s.FS.Open(full)
	return f, s.fix(err, name)
}

func (s *subFS) Stat(name string) (fs.FileInfo, error) {
	full, err := s.full("stat", name)
	if err != nil {
		return nil, err
	}
	fi, err := s.FS.Stat(full)
	return fi, s.fix(err, name)
}

func (s *subFS) ReadFile(name string) ([]byte, error) {
	full, err := s.full("readfile", name)
	if err != nil {
		return nil, err
	}
	b, err := s.FS.ReadFile(full)
	return b, s.fix(err, name)
}

func (s *subFS) ReadDir(name string) ([]fs.DirEntry, error) {
	full, err := s.full("readdir", name)
	if err != nil {
		return nil, err
	}
	d, err := s.FS.ReadDir(full)
	return d, s.fix(err, name)
}

func (s *subFS) Sub(dir string) (fs.FS, error) {
	full, err := s.full("sub", dir)
	if err != nil {
		return nil, err
	}
	sub, err := s.FS.Sub(full)
	return sub, s.fix(err, dir)
}

var errIsDir = errors.New("is a directory")

// info is a node as fs.FileInfo and fs.DirEntry. Sys returns the romfs.Node.
type info struct{ n romfs.Node }

func (i info) Name() string {
	if i.n.Index() == 0 {
		return "."
	}
	return i.n.Name()
}
func (i info) Size() int64                { return i.n.Size() }
func (i info) IsDir() bool                { return i.n.IsDir() }
func (i info) ModTime() time.Time         { return time.Unix(0, i.n.ModTime()) }
func (i info) Sys() any                   { return i.n }
func (i info) Type() fs.FileMode          { return i.Mode().Type() }
func (i info) Info() (fs.FileInfo, error) { return i, nil }
func (i info) String() string             { return fs.FormatDirEntry(i) }

func (i info) Mode() fs.FileMode {
	m := fs.FileMode(i.n.Mode() & romfs.ModePerm)
	if i.n.IsDir() {
		m |= fs.ModeDir
	}
	return m
}

// file is an open regular file.
type file struct {
	node   romfs.Node
	name   string
	off    int64
	closed bool
}

var (
	_ io.ReaderAt = (*file)(nil)
	_ io.Seeker   = (*file)(nil)
	_ io.WriterTo = (*file)(nil)
)

func (f *file) err(op string, err error) error { return &fs.PathError{Op: op, Path: f.name, Err: err} }

func (f *file) Stat() (fs.FileInfo, error) {
	if f.closed {
		return nil, f.err("stat", fs.ErrClosed)
	}
	return info{f.node}, nil
}

func (f *file) Read(p []byte) (int, error) {
	if f.closed {
		return 0, f.err("read", fs.ErrClosed)
	}
	if f.off >= f.node.Size() {
		return 0, io.EOF
	}
	n := f.node.ReadAt(p, f.off)
	f.off += int64(n)
	return n, nil
}

func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if f.closed {
		return 0, f.err("read", fs.ErrClosed)
	}
	if off < 0 {
		return 0, f.err("read", fs.ErrInvalid)
	}
	n := f.node.ReadAt(p, off)
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *file) Seek(offset int64, whence int) (int64, error) {
	if f.closed {
		return 0, f.err("seek", fs.ErrClosed)
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.off
	case io.SeekEnd:
		offset += f.node.Size()
	default:
		return 0, f.err("seek", fs.ErrInvalid)
	}
	if offset < 0 {
		return 0, f.err("seek", fs.ErrInvalid)
	}
	f.off = offset
	return offset, nil
}

// WriteTo writes the rest of the file to w in one call, from the image.
func (f *file) WriteTo(w io.Writer) (int64, error) {
	if f.closed {
		return 0, f.err("read", fs.ErrClosed)
	}
	d := f.node.Data()
	if f.off >= int64(len(d)) {
		return 0, nil
	}
	n, err := w.Write(d[f.off:])
	f.off += int64(n)
	return int64(n), err
}

func (f *file) Close() error {
	if f.closed {
		return f.err("close", fs.ErrClosed)
	}
	f.closed = true
	return nil
}

// dir is an open directory.
type dir struct {
	node   romfs.Node
	name   string
	next   int
	closed bool
}

var _ fs.ReadDirFile = (*dir)(nil)

func (d *dir) Stat() (fs.FileInfo, error) {
	if d.closed {
		return nil, &fs.PathError{Op: "stat", Path: d.name, Err: fs.ErrClosed}
	}
	return info{d.node}, nil
}

func (d *dir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errIsDir}
}

func (d *dir) ReadDir(count int) ([]fs.DirEntry, error) {
	if d.closed {
		return nil, &fs.PathError{Op: "readdir", Path: d.name, Err: fs.ErrClosed}
	}
	left := d.node.NumChildren() - d.next
	if count > 0 && left == 0 {
		return nil, io.EOF
	}
	if count <= 0 || count > left {
		count = left
	}
	out := make([]fs.DirEntry, count)
	for k := range out {
		out[k] = info{d.node.Child(d.next + k)}
	}
	d.next += count
	return out, nil
}

func (d *dir) Close() error {
	if d.closed {
		return &fs.PathError{Op: "close", Path: d.name, Err: fs.ErrClosed}
	}
	d.closed = true
	return nil
}
