// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package syscall on xen: there is no kernel below the program, so this package is
// the kernel's system-call layer, run in-process.
//
//   - Files: a small descriptor table (fs_xen.go). fd 0 is console input (reads
//     report end of file), fds 1 and 2 are console output (the runtime's console
//     writer). Paths resolve in a read-only tree that holds /, /dev and /dev/null
//     (the romfs image plugs in as the root file system; writes to it fail with
//     EROFS), except under /tmp, a writable tree in memory (tmpfs_xen.go). Pipes
//     are in memory too (pipe_xen.go).
//   - Processes: there is exactly one, pid 1, run by uid/gid 0. Starting or
//     signalling a process fails with ENOSYS; waiting for one with ECHILD.
//   - Sockets: none here (net_xen.go); the network stack lives above this package.
//   - Environment: from the kernel command line, through the runtime (env_unix.go).
//
// Nothing in this package panics for an unsupported call: it returns an Errno.

package syscall

import (
	errorspkg "errors"
	"internal/oserror"
	"internal/strconv"
	"sync"
)

// An Errno is an unsigned number describing an error condition.
// It implements the error interface. The zero Errno is by convention
// a non-error, so code to convert from Errno to error should use:
//
//	err = nil
//	if errno != 0 {
//		err = errno
//	}
//
// Errno values can be tested against error values using [errors.Is].
type Errno uintptr

func (e Errno) Error() string {
	if int(e) < len(errorstr) && errorstr[e] != "" {
		return errorstr[e]
	}
	return "errno " + strconv.Itoa(int(e))
}

func (e Errno) Is(target error) bool {
	switch target {
	case oserror.ErrPermission:
		return e == EACCES || e == EPERM || e == EROFS
	case oserror.ErrExist:
		return e == EEXIST || e == ENOTEMPTY
	case oserror.ErrNotExist:
		return e == ENOENT
	case errorspkg.ErrUnsupported:
		return e == ENOSYS || e == ENOTSUP
	}
	return false
}

func (e Errno) Temporary() bool {
	return e == EINTR || e == EMFILE || e == ENFILE || e.Timeout()
}

func (e Errno) Timeout() bool {
	return e == EAGAIN || e == ETIMEDOUT
}

// A Signal is a number describing a process signal.
// It implements the [os.Signal] interface. Xen has no signals of its own: the runtime
// turns a toolstack shutdown request (control/shutdown) into SIGTERM for os/signal.
type Signal int

// Signal numbers, as on Linux (signal(7), x86).
const (
	SIGHUP    Signal = 1
	SIGINT    Signal = 2
	SIGQUIT   Signal = 3
	SIGILL    Signal = 4
	SIGTRAP   Signal = 5
	SIGABRT   Signal = 6
	SIGIOT    Signal = 6
	SIGBUS    Signal = 7
	SIGFPE    Signal = 8
	SIGKILL   Signal = 9
	SIGUSR1   Signal = 10
	SIGSEGV   Signal = 11
	SIGUSR2   Signal = 12
	SIGPIPE   Signal = 13
	SIGALRM   Signal = 14
	SIGTERM   Signal = 15
	SIGSTKFLT Signal = 16
	SIGCHLD   Signal = 17
	SIGCONT   Signal = 18
	SIGSTOP   Signal = 19
	SIGTSTP   Signal = 20
	SIGTTIN   Signal = 21
	SIGTTOU   Signal = 22
	SIGURG    Signal = 23
	SIGXCPU   Signal = 24
	SIGXFSZ   Signal = 25
	SIGVTALRM Signal = 26
	SIGPROF   Signal = 27
	SIGWINCH  Signal = 28
	SIGIO     Signal = 29
	SIGPOLL   Signal = 29
	SIGPWR    Signal = 30
	SIGSYS    Signal = 31
)

var signalNames = [...]string{
	SIGHUP: "hangup", SIGINT: "interrupt", SIGQUIT: "quit", SIGILL: "illegal instruction",
	SIGTRAP: "trace/breakpoint trap", SIGABRT: "aborted", SIGBUS: "bus error",
	SIGFPE: "floating point exception", SIGKILL: "killed", SIGUSR1: "user defined signal 1",
	SIGSEGV: "segmentation fault", SIGUSR2: "user defined signal 2", SIGPIPE: "broken pipe",
	SIGALRM: "alarm clock", SIGTERM: "terminated", SIGSTKFLT: "stack fault",
	SIGCHLD: "child exited", SIGCONT: "continued", SIGSTOP: "stopped (signal)",
	SIGTSTP: "stopped", SIGTTIN: "stopped (tty input)", SIGTTOU: "stopped (tty output)",
	SIGURG: "urgent I/O condition", SIGXCPU: "CPU time limit exceeded",
	SIGXFSZ: "file size limit exceeded", SIGVTALRM: "virtual timer expired",
	SIGPROF: "profiling timer expired", SIGWINCH: "window changed", SIGIO: "I/O possible",
	SIGPWR: "power failure", SIGSYS: "bad system call",
}

func (s Signal) Signal() {}

func (s Signal) String() string {
	if 0 <= s && int(s) < len(signalNames) && signalNames[s] != "" {
		return signalNames[s]
	}
	return "signal " + strconv.Itoa(int(s))
}

// Standard descriptors.
const (
	Stdin  = 0
	Stdout = 1
	Stderr = 2
)

// Open flags (Linux values).
const (
	O_RDONLY    = 0x0
	O_WRONLY    = 0x1
	O_RDWR      = 0x2
	O_ACCMODE   = 0x3
	O_CREAT     = 0x40
	O_CREATE    = O_CREAT
	O_EXCL      = 0x80
	O_NOCTTY    = 0x100
	O_TRUNC     = 0x200
	O_APPEND    = 0x400
	O_NONBLOCK  = 0x800
	O_SYNC      = 0x101000
	O_DIRECTORY = 0x10000
	O_NOFOLLOW  = 0x20000
	O_CLOEXEC   = 0x80000
)

// fcntl commands; Fcntl itself is not supported.
const (
	F_DUPFD = 0
	F_GETFD = 1
	F_SETFD = 2
	F_GETFL = 3
	F_SETFL = 4

	FD_CLOEXEC = 1
)

// Seek whence values.
const (
	SEEK_SET = 0
	SEEK_CUR = 1
	SEEK_END = 2
)

// File mode bits of Stat_t.Mode.
const (
	S_IFMT   = 0xf000
	S_IFSOCK = 0xc000
	S_IFLNK  = 0xa000
	S_IFREG  = 0x8000
	S_IFBLK  = 0x6000
	S_IFDIR  = 0x4000
	S_IFCHR  = 0x2000
	S_IFIFO  = 0x1000

	S_ISUID = 0x800
	S_ISGID = 0x400
	S_ISVTX = 0x200

	S_IRUSR = 0x100
	S_IWUSR = 0x80
	S_IXUSR = 0x40
	S_IRWXU = 0x1c0
	S_IRWXG = 0x38
	S_IRWXO = 0x7
)

// Stat_t describes a file. Times are seconds and nanoseconds since the Unix epoch.
type Stat_t struct {
	Dev       uint64
	Ino       uint64
	Mode      uint32
	Nlink     uint32
	Uid       uint32
	Gid       uint32
	Rdev      uint64
	Size      int64
	Blksize   int64
	Blocks    int64
	Atime     int64
	AtimeNsec int64
	Mtime     int64
	MtimeNsec int64
	Ctime     int64
	CtimeNsec int64
}

// Dirent is the record ReadDirent produces: a fixed header followed by the name,
// Reclen bytes in all (no padding, no terminating NUL).
type Dirent struct {
	Ino    uint64
	Reclen uint16
	Type   uint8 // the S_IFMT bits of the entry's mode, shifted right by 12
	Name   [255]byte
}

const direntNameOff = 8 + 2 + 1

func direntIno(buf []byte) (uint64, bool) {
	return readInt(buf, 0, 8)
}

func direntReclen(buf []byte) (uint64, bool) {
	return readInt(buf, 8, 2)
}

func direntNamlen(buf []byte) (uint64, bool) {
	reclen, ok := direntReclen(buf)
	if !ok || reclen < direntNameOff {
		return 0, false
	}
	return reclen - direntNameOff, true
}

// PathMax is the longest path the file layer accepts.
const PathMax = 4096

// Processes. There is one; nothing can be started, waited for or signalled.

var ForkLock sync.RWMutex

type WaitStatus uint32

func (w WaitStatus) Exited() bool       { return false }
func (w WaitStatus) ExitStatus() int    { return -1 }
func (w WaitStatus) Signaled() bool     { return false }
func (w WaitStatus) Signal() Signal     { return 0 }
func (w WaitStatus) CoreDump() bool     { return false }
func (w WaitStatus) Stopped() bool      { return false }
func (w WaitStatus) Continued() bool    { return false }
func (w WaitStatus) StopSignal() Signal { return 0 }
func (w WaitStatus) TrapCause() int     { return 0 }

// Rusage reports resource usage; there are no child processes to report on.
type Rusage struct {
	Utime Timeval
	Stime Timeval
}

// ProcAttr holds the attributes of a process StartProcess would start.
type ProcAttr struct {
	Dir   string
	Env   []string
	Files []uintptr
	Sys   *SysProcAttr
}

type SysProcAttr struct{}

// Syscall and friends exist for source compatibility; there are no system calls.
func Syscall(trap, a1, a2, a3 uintptr) (r1, r2 uintptr, err Errno) {
	return 0, 0, ENOSYS
}

func Syscall6(trap, a1, a2, a3, a4, a5, a6 uintptr) (r1, r2 uintptr, err Errno) {
	return 0, 0, ENOSYS
}

func RawSyscall(trap, a1, a2, a3 uintptr) (r1, r2 uintptr, err Errno) {
	return 0, 0, ENOSYS
}

func RawSyscall6(trap, a1, a2, a3, a4, a5, a6 uintptr) (r1, r2 uintptr, err Errno) {
	return 0, 0, ENOSYS
}

// Sysctl answers kern.hostname (for os.Hostname); other keys are not supported.
func Sysctl(key string) (string, error) {
	if key == "kern.hostname" {
		return hostname(), nil
	}
	return "", ENOSYS
}

// The process identity is fixed: pid 1 (the only process), root.
func Getpid() int               { return 1 }
func Getppid() int              { return 0 }
func Getuid() int               { return 0 }
func Geteuid() int              { return 0 }
func Getgid() int               { return 0 }
func Getegid() int              { return 0 }
func Getgroups() ([]int, error) { return []int{}, nil }

var umask = 022

func Umask(mask int) (oldmask int) {
	oldmask, umask = umask, mask&0777
	return oldmask
}

func Gettimeofday(tv *Timeval) error {
	sec, nsec := now()
	*tv = Timeval{Sec: sec, Usec: int64(nsec) / 1e3}
	return nil
}

func StartProcess(argv0 string, argv []string, attr *ProcAttr) (pid int, handle uintptr, err error) {
	return 0, 0, ENOSYS
}

func Wait4(pid int, wstatus *WaitStatus, options int, rusage *Rusage) (wpid int, err error) {
	return 0, ECHILD
}

func Sendfile(outfd int, infd int, offset *int64, count int) (written int, err error) {
	return 0, ENOSYS
}

// now is runtime.syscall_now (os_xen.go): the wall clock.
func now() (sec int64, nsec int32)

type Iovec struct{}

type Timespec struct {
	Sec  int64
	Nsec int64
}

type Timeval struct {
	Sec  int64
	Usec int64
}

func setTimespec(sec, nsec int64) Timespec {
	return Timespec{Sec: sec, Nsec: nsec}
}

func setTimeval(sec, usec int64) Timeval {
	return Timeval{Sec: sec, Usec: usec}
}

// raise queues sig for os/signal's channels if the program asked for it (runtime/hooks_xen.go):
// 0 not handled, 1 delivered, 2 ignored (signal.Ignore).
func raise(sig uint32) int32

// Kill sends a signal to the program itself, the only process (pid 1; 0 and -1 name it too,
// as its own process group and "every process"), as kill(2) does on Linux: a signal the
// program handles (signal.Notify) or ignores is delivered or dropped; otherwise the default
// action of Go on Linux applies: SIGHUP, SIGINT, SIGTERM, SIGKILL and the fault signals end
// the program (exit status 128+sig, as a shell reports a death by signal), the rest are
// ignored. Another pid does not exist (ESRCH).
func Kill(pid int, signum Signal) error {
	if signum < 0 || signum > 64 {
		return EINVAL
	}
	if pid != Getpid() && pid != 0 && pid != -1 {
		return ESRCH
	}
	if signum == 0 {
		return nil
	}
	if signum != SIGKILL && signum != SIGSTOP && raise(uint32(signum)) != 0 {
		return nil
	}
	switch signum {
	case SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGKILL, SIGSEGV,
		SIGTERM, SIGSTKFLT, SIGXCPU, SIGXFSZ, SIGSYS:
		consoleWrite([]byte("signal: " + signum.String() + "\n"))
		Exit(128 + int(signum))
	}
	return nil
}
