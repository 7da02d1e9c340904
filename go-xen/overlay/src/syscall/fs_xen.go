// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// The file layer on xen: a descriptor table over open files, and path calls that
// resolve in the root file system.
//
// A descriptor refers to an openFile (several descriptors after Dup). An openFile
// is anything that implements fileOps: the console (fds 0-2), /dev/null, a
// directory being listed, a pipe end (pipe_xen.go), and later the files of the
// romfs image, a file of /tmp. Path calls take absolute or cwd-relative paths,
// clean them (there are no symbolic links), and ask the file system mounted there:
// tmpFS, a writable tree in memory, at /tmp; rootFS everywhere else. rootFS is
// read-only: creating, writing, renaming or removing anything in it fails with
// EROFS; only devices accept writes.
//
// Only pipes ever wait, and they park the goroutine, not the vCPU. The console has
// no input yet (reads report end of file) and console output is written
// synchronously.

package syscall

import (
	"internal/xen/genfile"
	"sync"
)

// fileOps is an open file description.
type fileOps interface {
	read(b []byte) (int, error)
	write(b []byte) (int, error)
	pread(b []byte, off int64) (int, error)
	pwrite(b []byte, off int64) (int, error)
	seek(off int64, whence int) (int64, error)
	readDirent(buf []byte) (int, error)
	fstat(st *Stat_t) error
	close() error
}

// fileSystem is a tree that path calls resolve in. Paths handed to it are clean
// and absolute within the tree ("/", "/dev/null"). A read-only tree answers every
// change with EROFS (or ENOENT for a path that does not exist).
type fileSystem interface {
	stat(path string, st *Stat_t) error
	// open opens path; flags are the caller's O_ flags, perm the mode of a
	// file that O_CREAT creates (the umask already applied).
	open(path string, flags int, perm uint32) (fileOps, error)
	mkdir(path string, perm uint32) error
	remove(path string, dir bool) error // rmdir (dir) or unlink
	rename(from, to string) error       // both in this tree
	chmod(path string, mode uint32) error
	truncate(path string, size int64) error
	utimes(path string, ts []Timespec) error
}

// rootFS serves every path outside the mounts. It is the built-in device tree
// until a romfs image is mounted over it.
var rootFS fileSystem = devTree{}

// tmpFS is mounted at /tmp: a writable tree in memory (tmpfs_xen.go), so that
// os.CreateTemp, os.MkdirTemp and testing's TempDir work.
var tmpFS fileSystem = newMemFS()

const tmpMount = "/tmp"

// lookupFS returns the file system that serves the clean absolute path p, and
// p's path inside it.
func lookupFS(p string) (fileSystem, string) {
	if p == tmpMount {
		return tmpFS, "/"
	}
	if len(p) > len(tmpMount) && p[:len(tmpMount)] == tmpMount && p[len(tmpMount)] == '/' {
		return tmpFS, p[len(tmpMount):]
	}
	return rootFS, p
}

// resolve is absPath followed by lookupFS. A path that names a directory by its form (a
// trailing slash, or a last element "." or "..") must lead to one, as on Linux: resolve then
// checks that the entry, if it exists, is a directory (ENOTDIR otherwise).
func resolve(path string) (fileSystem, string, error) {
	p, err := absPath(path)
	if err != nil {
		return nil, "", err
	}
	fsys, rel := lookupFS(p)
	if namesDir(path) {
		var st Stat_t
		if err := fsys.stat(rel, &st); err == nil && st.Mode&S_IFMT != S_IFDIR {
			return nil, "", ENOTDIR
		}
	}
	return fsys, rel, nil
}

// namesDir reports whether path's form says it is a directory: it ends with a slash or its
// last element is "." or "..".
func namesDir(path string) bool {
	n := len(path)
	switch {
	case n > 0 && path[n-1] == '/':
		return true
	case path == "." || path == "..":
		return true
	case n >= 2 && path[n-2:] == "/.":
		return true
	case n >= 3 && path[n-3:] == "/..":
		return true
	}
	return false
}

// consoleWrite is runtime.syscall_consoleWrite (runtime/syscall_xen.go).
func consoleWrite(b []byte)

type openFile struct {
	ops  fileOps
	path string // absolute path it was opened by ("" for the console)
	refs int    // descriptors referring to it
}

var (
	fdMu sync.Mutex
	fds  = []*openFile{
		{ops: consoleIn{}, refs: 1},
		{ops: consoleOut{}, refs: 1},
		{ops: consoleOut{}, refs: 1},
	}
	cwd = "/"
)

// kernelParam is the runtime's kernel command-line parameter lookup (runtime/cmdline_xen.go).
func kernelParam(key string) (string, bool)

// The initial working directory is cwd= from the kernel command line (go_xen_exec starts a
// test in its package's directory, as go test does), else /.
func init() {
	if dir, ok := kernelParam("cwd"); ok {
		if err := Chdir(dir); err != nil {
			consoleWrite([]byte("syscall: cwd=" + dir + ": " + err.Error() + "\n"))
		}
	}
}

// maxFDs bounds the descriptor table, as RLIMIT_NOFILE would.
const maxFDs = 1 << 16

func lookupFD(fd int) (*openFile, error) {
	fdMu.Lock()
	defer fdMu.Unlock()
	if fd < 0 || fd >= len(fds) || fds[fd] == nil {
		return nil, EBADF
	}
	return fds[fd], nil
}

// installFD puts f at the lowest free descriptor. fdMu must be held.
func installFD(f *openFile) (int, error) {
	for i, g := range fds {
		if g == nil {
			fds[i] = f
			return i, nil
		}
	}
	if len(fds) >= maxFDs {
		return -1, EMFILE
	}
	fds = append(fds, f)
	return len(fds) - 1, nil
}

// releaseFD drops descriptor fd's reference. fdMu must be held.
func releaseFD(fd int) (last *openFile) {
	f := fds[fd]
	fds[fd] = nil
	f.refs--
	if f.refs == 0 {
		return f
	}
	return nil
}

// absPath resolves path against the working directory and cleans it.
func absPath(path string) (string, error) {
	if path == "" {
		return "", ENOENT
	}
	if len(path) > PathMax {
		return "", ENAMETOOLONG
	}
	for i := 0; i < len(path); i++ {
		if path[i] == 0 {
			return "", EINVAL
		}
	}
	if path[0] != '/' {
		fdMu.Lock()
		path = cwd + "/" + path
		fdMu.Unlock()
	}
	// Split into elements, dropping empty and "." ones and resolving "..".
	var elems []string
	for len(path) > 0 {
		i := 0
		for i < len(path) && path[i] != '/' {
			i++
		}
		switch e := path[:i]; e {
		case "", ".":
		case "..":
			if len(elems) > 0 {
				elems = elems[:len(elems)-1]
			}
		default:
			elems = append(elems, e)
		}
		if i < len(path) {
			i++
		}
		path = path[i:]
	}
	if len(elems) == 0 {
		return "/", nil
	}
	n := 0
	for _, e := range elems {
		n += 1 + len(e)
	}
	b := make([]byte, 0, n)
	for _, e := range elems {
		b = append(b, '/')
		b = append(b, e...)
	}
	return string(b), nil
}

// Open opens path. Only reading is possible, except on devices.
func Open(path string, mode int, perm uint32) (int, error) {
	p, err := absPath(path)
	if err != nil {
		return -1, err
	}
	fsys, rel := lookupFS(p)
	if namesDir(path) {
		var st Stat_t
		switch err := fsys.stat(rel, &st); {
		case err == nil && st.Mode&S_IFMT != S_IFDIR:
			return -1, ENOTDIR
		case err != nil && mode&O_CREAT != 0:
			return -1, EISDIR // Linux: a file cannot be created by a directory's name
		}
	}
	ops, err := fsys.open(rel, mode, perm&^uint32(umask))
	if err != nil {
		return -1, err
	}
	fdMu.Lock()
	fd, err := installFD(&openFile{ops: ops, path: p, refs: 1})
	fdMu.Unlock()
	if err != nil {
		ops.close()
		return -1, err
	}
	return fd, nil
}

func Close(fd int) error {
	fdMu.Lock()
	if fd < 0 || fd >= len(fds) || fds[fd] == nil {
		fdMu.Unlock()
		return EBADF
	}
	last := releaseFD(fd)
	fdMu.Unlock()
	if last != nil {
		return last.ops.close()
	}
	return nil
}

// CloseOnExec has nothing to do: nothing is ever executed.
func CloseOnExec(fd int) {}

func SetNonblock(fd int, nonblocking bool) error {
	if _, err := lookupFD(fd); err != nil {
		return err
	}
	if nonblocking {
		// Nothing here blocks, and there is no poller to wait with.
		return ENOSYS
	}
	return nil
}

func Dup(fd int) (int, error) {
	fdMu.Lock()
	defer fdMu.Unlock()
	if fd < 0 || fd >= len(fds) || fds[fd] == nil {
		return -1, EBADF
	}
	f := fds[fd]
	nfd, err := installFD(f)
	if err != nil {
		return -1, err
	}
	f.refs++
	return nfd, nil
}

func Dup2(fd, newfd int) error {
	fdMu.Lock()
	if fd < 0 || fd >= len(fds) || fds[fd] == nil || newfd < 0 || newfd >= maxFDs {
		fdMu.Unlock()
		return EBADF
	}
	if fd == newfd {
		fdMu.Unlock()
		return nil
	}
	for newfd >= len(fds) {
		fds = append(fds, nil)
	}
	var last *openFile
	if fds[newfd] != nil {
		last = releaseFD(newfd)
	}
	f := fds[fd]
	fds[newfd] = f
	f.refs++
	fdMu.Unlock()
	if last != nil {
		last.ops.close()
	}
	return nil
}

func Read(fd int, b []byte) (int, error) {
	f, err := lookupFD(fd)
	if err != nil {
		return 0, err
	}
	return f.ops.read(b)
}

func Write(fd int, b []byte) (int, error) {
	f, err := lookupFD(fd)
	if err != nil {
		return 0, err
	}
	if faketime && (fd == 1 || fd == 2) {
		n := faketimeWrite(fd, b)
		if n < 0 {
			return 0, Errno(-n)
		}
		return n, nil
	}
	return f.ops.write(b)
}

func Pread(fd int, b []byte, offset int64) (int, error) {
	f, err := lookupFD(fd)
	if err != nil {
		return 0, err
	}
	if offset < 0 {
		return 0, EINVAL
	}
	return f.ops.pread(b, offset)
}

func Pwrite(fd int, b []byte, offset int64) (int, error) {
	f, err := lookupFD(fd)
	if err != nil {
		return 0, err
	}
	if offset < 0 {
		return 0, EINVAL
	}
	return f.ops.pwrite(b, offset)
}

func Seek(fd int, offset int64, whence int) (int64, error) {
	f, err := lookupFD(fd)
	if err != nil {
		return 0, err
	}
	if whence < SEEK_SET || whence > SEEK_END {
		return 0, EINVAL
	}
	return f.ops.seek(offset, whence)
}

// ReadDirent fills buf with Dirent records of the directory open at fd.
func ReadDirent(fd int, buf []byte) (int, error) {
	f, err := lookupFD(fd)
	if err != nil {
		return 0, err
	}
	return f.ops.readDirent(buf)
}

func Fstat(fd int, st *Stat_t) error {
	f, err := lookupFD(fd)
	if err != nil {
		return err
	}
	*st = Stat_t{}
	return f.ops.fstat(st)
}

func Stat(path string, st *Stat_t) error {
	fsys, rel, err := resolve(path)
	if err != nil {
		return err
	}
	*st = Stat_t{}
	return fsys.stat(rel, st)
}

// Lstat is Stat: there are no symbolic links.
func Lstat(path string, st *Stat_t) error {
	return Stat(path, st)
}

func Fsync(fd int) error {
	_, err := lookupFD(fd)
	return err
}

// fileSetter is implemented by open files whose attributes can change.
type fileSetter interface {
	chmod(mode uint32) error
	truncate(size int64) error
}

func Mkdir(path string, perm uint32) error {
	fsys, rel, err := resolve(path)
	if err != nil {
		return err
	}
	return fsys.mkdir(rel, perm&^uint32(umask))
}

// lastDot reports whether path's last element is "." (1) or ".." (2), else 0: rmdir(2) and
// rename(2) refuse those names on Linux whatever they resolve to.
func lastDot(path string) int {
	for len(path) > 1 && path[len(path)-1] == '/' {
		path = path[:len(path)-1]
	}
	switch {
	case path == "." || len(path) >= 2 && path[len(path)-2:] == "/.":
		return 1
	case path == ".." || len(path) >= 3 && path[len(path)-3:] == "/..":
		return 2
	}
	return 0
}

func Rmdir(path string) error {
	switch lastDot(path) {
	case 1:
		return EINVAL
	case 2:
		return ENOTEMPTY
	}
	fsys, rel, err := resolve(path)
	if err != nil {
		return err
	}
	return fsys.remove(rel, true)
}

func Unlink(path string) error {
	fsys, rel, err := resolve(path)
	if err != nil {
		return err
	}
	return fsys.remove(rel, false)
}

func Rename(from, to string) error {
	if lastDot(from) != 0 || lastDot(to) != 0 {
		return EBUSY
	}
	ffs, frel, err := resolve(from)
	if err != nil {
		return err
	}
	tfs, trel, err := resolve(to)
	if err != nil {
		return err
	}
	if ffs != tfs {
		return EXDEV
	}
	return ffs.rename(frel, trel)
}

func Chmod(path string, mode uint32) error {
	fsys, rel, err := resolve(path)
	if err != nil {
		return err
	}
	return fsys.chmod(rel, mode)
}

func Truncate(path string, length int64) error {
	fsys, rel, err := resolve(path)
	if err != nil {
		return err
	}
	if length < 0 {
		return EINVAL
	}
	return fsys.truncate(rel, length)
}

func UtimesNano(path string, ts []Timespec) error {
	fsys, rel, err := resolve(path)
	if err != nil {
		return err
	}
	if len(ts) != 2 {
		return EINVAL
	}
	return fsys.utimes(rel, ts)
}

// Everything belongs to root, the only user: "changing" ownership to root
// succeeds where files can change (/tmp), any other owner is EPERM.
func Chown(path string, uid, gid int) error  { return chown(path, uid, gid) }
func Lchown(path string, uid, gid int) error { return chown(path, uid, gid) }

func chown(path string, uid, gid int) error {
	fsys, rel, err := resolve(path)
	if err != nil {
		return err
	}
	var st Stat_t
	if err := fsys.stat(rel, &st); err != nil {
		return err
	}
	return chownCheck(fsys == tmpFS, uid, gid)
}

func chownCheck(writable bool, uid, gid int) error {
	switch {
	case !writable:
		return EROFS
	case (uid != -1 && uid != 0) || (gid != -1 && gid != 0):
		return EPERM
	}
	return nil
}

// There are no symbolic or hard links, nor device nodes to make.
func Link(path, link string) error                  { return linkErr(path) }
func Symlink(path, link string) error               { return ENOSYS }
func Mknod(path string, mode uint32, dev int) error { return EPERM }

func linkErr(path string) error {
	var st Stat_t
	if err := Stat(path, &st); err != nil {
		return err
	}
	return ENOSYS
}

func Fchmod(fd int, mode uint32) error {
	f, err := lookupFD(fd)
	if err != nil {
		return err
	}
	if s, ok := f.ops.(fileSetter); ok {
		return s.chmod(mode)
	}
	return EROFS
}

func Fchown(fd int, uid, gid int) error {
	f, err := lookupFD(fd)
	if err != nil {
		return err
	}
	_, writable := f.ops.(fileSetter)
	return chownCheck(writable, uid, gid)
}

func Ftruncate(fd int, length int64) error {
	f, err := lookupFD(fd)
	if err != nil {
		return err
	}
	if length < 0 {
		return EINVAL
	}
	if s, ok := f.ops.(fileSetter); ok {
		return s.truncate(length)
	}
	return EINVAL
}

func Readlink(path string, buf []byte) (n int, err error) {
	var st Stat_t
	if err := Stat(path, &st); err != nil {
		return 0, err
	}
	return 0, EINVAL // not a symbolic link: there are none
}

// ImplementsGetwd reports that Getwd is implemented.
const ImplementsGetwd = true

func Getwd() (string, error) {
	fdMu.Lock()
	defer fdMu.Unlock()
	return cwd, nil
}

func Getcwd(buf []byte) (n int, err error) {
	wd, _ := Getwd()
	if len(wd)+1 > len(buf) {
		return 0, ERANGE
	}
	n = copy(buf, wd)
	buf[n] = 0
	return n, nil
}

func Chdir(path string) error {
	p, err := absPath(path)
	if err != nil {
		return err
	}
	return chdir(p)
}

func Fchdir(fd int) error {
	f, err := lookupFD(fd)
	if err != nil {
		return err
	}
	if f.path == "" {
		return ENOTDIR
	}
	return chdir(f.path)
}

func chdir(p string) error {
	var st Stat_t
	fsys, rel := lookupFS(p)
	if err := fsys.stat(rel, &st); err != nil {
		return err
	}
	if st.Mode&S_IFMT != S_IFDIR {
		return ENOTDIR
	}
	fdMu.Lock()
	cwd = p
	fdMu.Unlock()
	return nil
}

// baseFile is the behaviour of a file that supports nothing; the file types
// embed it and override what they support.
type baseFile struct{}

func (baseFile) read(b []byte) (int, error)              { return 0, EBADF }
func (baseFile) write(b []byte) (int, error)             { return 0, EBADF }
func (baseFile) pread(b []byte, off int64) (int, error)  { return 0, ESPIPE }
func (baseFile) pwrite(b []byte, off int64) (int, error) { return 0, ESPIPE }
func (baseFile) seek(off int64, whence int) (int64, error) {
	return 0, ESPIPE
}
func (baseFile) readDirent(buf []byte) (int, error) { return 0, ENOTDIR }
func (baseFile) close() error                       { return nil }

// The console: input (fd 0) has no data yet and reports end of file; output
// goes to the runtime's console writer.

type consoleIn struct{ baseFile }

func (consoleIn) read(b []byte) (int, error) { return 0, nil }
func (consoleIn) fstat(st *Stat_t) error     { devStat(st, 0x501, 0444); return nil }

type consoleOut struct{ baseFile }

func (consoleOut) write(b []byte) (int, error) {
	consoleWrite(b)
	return len(b), nil
}
func (consoleOut) fstat(st *Stat_t) error { devStat(st, 0x501, 0222); return nil }

// devStat fills st for a character device with device number rdev.
func devStat(st *Stat_t, rdev uint64, perm uint32) {
	st.Mode = S_IFCHR | perm
	st.Rdev = rdev
	st.Nlink = 1
	st.Blksize = 4096
}

// devTree is the built-in file system: the root directory, /dev with /dev/null, /tmp (where
// tmpFS is mounted), /etc, whose files are generated (etc_xen.go), and /proc/net, whose
// files packages above syscall generate (internal/xen/genfile).
type devTree struct{}

type devNode struct {
	ino     uint64
	mode    uint32
	rdev    uint64
	entries []string      // of a directory, sorted
	gen     func() string // of a generated file: its content, made when it is opened
}

var devNodes = map[string]*devNode{
	"/":           {ino: 1, mode: S_IFDIR | 0555, entries: []string{"dev", "etc", "proc", "tmp"}},
	"/dev":        {ino: 2, mode: S_IFDIR | 0555, entries: []string{"null"}},
	"/dev/null":   {ino: 3, mode: S_IFCHR | 0666, rdev: 0x103},
	"/tmp":        {ino: 4, mode: S_IFDIR | 01777}, // the mount point of tmpFS
	"/etc":        {ino: 5, mode: S_IFDIR | 0555, entries: []string{"group", "hosts", "passwd", "resolv.conf"}},
	"/etc/group":  {ino: 6, mode: S_IFREG | 0444, gen: etcGroup},
	"/etc/hosts":  {ino: 7, mode: S_IFREG | 0444, gen: etcHosts},
	"/etc/passwd": {ino: 8, mode: S_IFREG | 0444, gen: etcPasswd},
	"/proc":       {ino: 9, mode: S_IFDIR | 0555, entries: []string{"net"}},
	"/proc/net":   {ino: 10, mode: S_IFDIR | 0555, entries: []string{"netstack"}},
	// The resolver's configuration: name servers and search domains (net/dns_xen.go).
	"/etc/resolv.conf": {ino: 12, mode: S_IFREG | 0444, gen: provided("/etc/resolv.conf")},
	// The network stack's counters, one "Group.Name value" line each (net_xen.go).
	"/proc/net/netstack": {ino: 11, mode: S_IFREG | 0444, gen: provided("/proc/net/netstack")},
}

// provided is the generator of a file whose content a package above syscall provides
// (internal/xen/genfile).
func provided(path string) func() string {
	return func() string { return genfile.Content(path) }
}

// devMounts are the device tree's top-level directories that stay its own when a romfs image
// is the root: the image's entries of these names are hidden. Its other entries (/etc) only
// fill in what the image lacks.
var devMounts = []string{"dev", "proc", "tmp"}

func (n *devNode) fill(st *Stat_t) {
	st.Dev = 1
	st.Ino = n.ino
	st.Mode = n.mode
	st.Rdev = n.rdev
	st.Nlink = 1
	if n.mode&S_IFMT == S_IFDIR {
		st.Nlink = 2
	}
	st.Blksize = 4096
	if n.gen != nil {
		st.Size = int64(len(n.gen()))
	}
}

func (devTree) stat(path string, st *Stat_t) error {
	n, ok := devNodes[path]
	if !ok {
		return ENOENT
	}
	n.fill(st)
	return nil
}

// devTree changes nothing: it answers ENOENT for what does not exist, else EROFS.
func (t devTree) readOnly(path string, notExistOK bool) error {
	if _, ok := devNodes[path]; !ok && !notExistOK {
		return ENOENT
	}
	return EROFS
}

func (t devTree) mkdir(path string, perm uint32) error    { return t.readOnly(path, true) }
func (t devTree) remove(path string, dir bool) error      { return t.readOnly(path, false) }
func (t devTree) rename(from, to string) error            { return t.readOnly(from, false) }
func (t devTree) chmod(path string, mode uint32) error    { return t.readOnly(path, false) }
func (t devTree) truncate(path string, size int64) error  { return t.readOnly(path, false) }
func (t devTree) utimes(path string, ts []Timespec) error { return t.readOnly(path, false) }

func (devTree) open(path string, flags int, perm uint32) (fileOps, error) {
	n, ok := devNodes[path]
	if !ok {
		if flags&O_CREAT != 0 {
			return nil, EROFS
		}
		return nil, ENOENT
	}
	if flags&O_CREAT != 0 && flags&O_EXCL != 0 {
		return nil, EEXIST
	}
	writing := flags&O_ACCMODE != O_RDONLY || flags&O_TRUNC != 0
	switch n.mode & S_IFMT {
	case S_IFDIR:
		if writing {
			return nil, EISDIR
		}
		d := &dirFile{}
		n.fill(&d.st)
		for _, name := range n.entries {
			d.ents = append(d.ents, devEntry(path, name))
		}
		return d, nil
	}
	if flags&O_DIRECTORY != 0 {
		return nil, ENOTDIR
	}
	if n.gen != nil {
		if writing {
			return nil, EROFS
		}
		f := &genFile{node: n, data: n.gen()}
		return f, nil
	}
	return &nullFile{node: n}, nil
}

// devEntry is the listing entry of the device tree's node name in directory dir.
func devEntry(dir, name string) dirEntry {
	p := "/" + name
	if dir != "/" {
		p = dir + p
	}
	n := devNodes[p]
	return dirEntry{name: name, ino: n.ino, mode: n.mode}
}

// genFile is an open generated file: its content as it was at open.
type genFile struct {
	baseFile
	node *devNode
	data string
	mu   sync.Mutex
	off  int64
}

func (f *genFile) read(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, _ := f.pread(b, f.off)
	f.off += int64(n)
	return n, nil
}

func (f *genFile) pread(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, EINVAL
	}
	if off >= int64(len(f.data)) {
		return 0, nil
	}
	return copy(b, f.data[off:]), nil
}

func (f *genFile) seek(off int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch whence {
	case SEEK_CUR:
		off += f.off
	case SEEK_END:
		off += int64(len(f.data))
	}
	if off < 0 {
		return 0, EINVAL
	}
	f.off = off
	return off, nil
}

func (f *genFile) fstat(st *Stat_t) error {
	f.node.fill(st)
	st.Size = int64(len(f.data))
	return nil
}

type nullFile struct {
	baseFile
	node *devNode
}

func (f *nullFile) read(b []byte) (int, error)                { return 0, nil }
func (f *nullFile) write(b []byte) (int, error)               { return len(b), nil }
func (f *nullFile) pread(b []byte, off int64) (int, error)    { return 0, nil }
func (f *nullFile) pwrite(b []byte, off int64) (int, error)   { return len(b), nil }
func (f *nullFile) seek(off int64, whence int) (int64, error) { return 0, nil }
func (f *nullFile) fstat(st *Stat_t) error                    { f.node.fill(st); return nil }

// dirFile is an open directory: ReadDirent lists ents from pos on.
type dirFile struct {
	baseFile
	st   Stat_t
	ents []dirEntry
	pos  int
}

type dirEntry struct {
	name string
	ino  uint64
	mode uint32
}

func (d *dirFile) read(b []byte) (int, error)             { return 0, EISDIR }
func (d *dirFile) pread(b []byte, off int64) (int, error) { return 0, EISDIR }
func (d *dirFile) fstat(st *Stat_t) error                 { *st = d.st; return nil }

// seek rewinds the listing; offsets other than 0 are not meaningful.
func (d *dirFile) seek(off int64, whence int) (int64, error) {
	if off != 0 || whence == SEEK_END {
		return 0, EINVAL
	}
	if whence == SEEK_SET {
		d.pos = 0
	}
	return 0, nil
}

func (d *dirFile) readDirent(buf []byte) (int, error) {
	n := 0
	for d.pos < len(d.ents) {
		e := d.ents[d.pos]
		reclen := direntNameOff + len(e.name)
		if n+reclen > len(buf) {
			if n == 0 {
				return 0, EINVAL // buf cannot hold even one record
			}
			break
		}
		r := buf[n : n+reclen]
		for i := 0; i < 8; i++ {
			r[i] = byte(e.ino >> (8 * i))
		}
		r[8] = byte(reclen)
		r[9] = byte(reclen >> 8)
		r[10] = byte(e.mode >> 12)
		copy(r[direntNameOff:], e.name)
		n += reclen
		d.pos++
	}
	return n, nil
}
