"""Build-tag widenings that admit GOOS=xen to upstream std files (format: go-xen/apply.py).

xen stands where js/wasm stands in the std library: a non-Unix GOOS whose syscall
package is an in-process stand-in for a kernel. Files that js/wasm (or wasip1) shares
with Unix get `|| xen`; files that exclude js get `&& !xen`. Files named *_js.go or
*_wasm.go cannot be widened (the name restricts them whatever the tag says); xen has
its own files for those in go-xen/overlay.
"""

# (path under src/, the //go:build expression as upstream has it, the new expression).
# A new expression of None means: append " || xen".
_TAGS = [
    # syscall
    ("syscall/dirent.go", "unix || (js && wasm) || wasip1", None),
    ("syscall/env_unix.go", "unix || (js && wasm) || plan9 || wasip1", None),
    ("syscall/net_fake.go", "js || wasip1", None),
    ("syscall/timestruct.go", "unix || (js && wasm) || wasip1", None),
    # internal/poll: blocking FDs over the syscall file table (fd_poll_xen.go)
    ("internal/poll/fd_fsync_posix.go",
     "aix || dragonfly || freebsd || (js && wasm) || linux || netbsd || openbsd || solaris || wasip1", None),
    ("internal/poll/fd_posix.go", "unix || (js && wasm) || wasip1 || windows", None),
    ("internal/poll/fd_unix.go", "unix || (js && wasm) || wasip1", None),
    ("internal/poll/fd_unixjs.go", "unix || (js && wasm)", None),
    ("internal/poll/hook_unix.go", "unix || (js && wasm) || wasip1", None),
    ("internal/poll/sys_cloexec.go", "aix || darwin || (js && wasm) || wasip1", None),
    # time: zoneinfo files are read through syscall (zoneinfo_xen.go has initLocal)
    ("time/sys_unix.go", "unix || (js && wasm) || wasip1", None),
    # time: every guest carries the tz database (time/tzdata, about 450 KB), as a Linux system
    # carries /usr/share/zoneinfo: LoadLocation("Europe/Amsterdam") works without the
    # program importing time/tzdata, as on Linux
    ("time/embed.go", "timetzdata", None),
    # mime: the built-in table plus /etc/mime.types-style files if the image has them
    ("mime/type_unix.go", "unix || (js && wasm) || wasip1", None),
    # paths are Unix paths
    ("internal/filepathlite/path_unix.go", "unix || (js && wasm) || wasip1", None),
    ("path/filepath/path_unix.go", "unix || (js && wasm) || wasip1", None),
    # os: the Unix implementation over syscall, as on js/wasm
    ("os/dir_unix.go",
     "aix || dragonfly || freebsd || (js && wasm) || wasip1 || linux || netbsd || openbsd || solaris", None),
    ("os/exec_posix.go", "unix || (js && wasm) || wasip1 || windows", None),
    ("os/exec_unix.go", "unix || (js && wasm) || wasip1", None),
    ("os/file_open_unix.go", "unix || (js && wasm)", None),
    ("os/file_posix.go", "unix || (js && wasm) || wasip1 || windows", None),
    ("os/file_unix.go", "unix || (js && wasm) || wasip1", None),
    ("os/path_unix.go", "unix || (js && wasm) || wasip1", None),
    ("os/pidfd_other.go", "(unix && !linux) || (js && wasm) || wasip1 || windows", None),
    ("os/removeall_noat.go", "(js && wasm) || plan9", None),
    ("os/root_noopenat.go", "(js && wasm) || plan9", None),
    ("os/stat_unix.go", "unix || (js && wasm) || wasip1", None),
    ("os/statat_other.go", "(js && wasm) || plan9", None),
    ("os/sticky_bsd.go",
     "aix || darwin || dragonfly || freebsd || (js && wasm) || netbsd || openbsd || solaris || wasip1", None),
    ("os/sticky_notbsd.go",
     "!aix && !darwin && !dragonfly && !freebsd && !js && !netbsd && !openbsd && !solaris && !wasip1",
     "!aix && !darwin && !dragonfly && !freebsd && !js && !netbsd && !openbsd && !solaris && !wasip1 && !xen"),
    ("os/sys_bsd.go", "darwin || dragonfly || freebsd || (js && wasm) || netbsd || openbsd || wasip1", None),
    ("os/wait_unimp.go", "aix || darwin || (js && wasm) || openbsd || solaris || wasip1", None),
    ("os/zero_copy_posix.go", "unix || js || wasip1 || windows", None),
    # os/user: the pure-Go /etc/passwd and /etc/group readers (no such files yet:
    # lookups fail with UnknownUserError; user.Current works from $USER and $HOME)
    ("os/user/lookup_unix.go",
     "((unix && !android) || (js && wasm) || wasip1) && ((!cgo && !darwin) || osusergo)", None),
    ("os/user/listgroups_unix.go",
     "(((unix && !android) || (js && wasm) || wasip1) && ((!cgo && !darwin) || osusergo)) || aix", None),
    # net: the shared non-Unix socket files; the sockets themselves are netstack's (net/net_xen.go)
    ("net/cgo_stub.go", "(netgo && unix) || (unix && !cgo && !darwin) || js || wasip1", None),
    ("net/error_posix.go", "unix || js || wasip1 || windows", None),
    ("net/error_unix.go", "unix || js || wasip1", None),
    ("net/file_stub.go", "js", None),
    ("net/hook_unix.go", "unix || js || wasip1", None),
    ("net/iprawsock_posix.go", "unix || js || wasip1 || windows", None),
    ("net/ipsock_posix.go", "unix || js || wasip1 || windows", None),
    ("net/lookup_unix.go", "unix || js || wasip1", None),
    ("net/port_unix.go", "unix || js || wasip1", None),
    # (net/sock_stub.go stays aix/js/solaris/wasip1: sock_xen.go gives Linux's somaxconn)
    ("net/sockaddr_posix.go", "unix || js || wasip1 || windows", None),
    ("net/sockoptip_stub.go", "js || wasip1", None),
    ("net/tcpsock_posix.go", "unix || js || wasip1 || windows", None),
    # (net/tcpsockopt_stub.go stays js/wasip1 only: sockopt_xen.go sets netstack TCP options)
    ("net/udpsock_posix.go", "unix || js || wasip1 || windows", None),
    ("net/unixsock_posix.go", "unix || js || wasip1 || windows", None),
    ("net/unixsock_readmsg_other.go", "js || wasip1 || windows", None),
    ("net/internal/socktest/switch_unix.go", "unix || (js && wasm) || wasip1", None),
    ("net/internal/socktest/sys_unix.go", "unix || (js && wasm) || wasip1", None),
    # crypto/x509: roots from files (crypto/x509/root_xen.go names them)
    ("crypto/x509/root_unix.go",
     "aix || dragonfly || freebsd || (js && wasm) || linux || netbsd || openbsd || solaris || wasip1", None),
    # internal/testenv: the non-Unix answers (no SIGQUIT, no exec)
    ("internal/testenv/testenv_notunix.go", "windows || plan9 || (js && wasm) || wasip1", None),
    # test files: os tests take the Unix descriptor helpers, skip the pipe/rawconn tests
    ("os/os_unix_test.go", "unix || (js && wasm) || wasip1", None),
    ("os/pipe_test.go", "!plan9 && !js && !wasip1", "!plan9 && !js && !wasip1 && !xen"),
    ("os/rawconn_test.go", "!plan9 && !js && !wasip1", "!plan9 && !js && !wasip1 && !xen"),
    ("os/export_unix_test.go", "unix || (js && wasm) || wasip1", None),
    ("os/timeout_unix_test.go", "!js && !plan9 && !wasip1 && !windows", "!js && !plan9 && !wasip1 && !windows && !xen"),
    ("os/timeout_test.go", "!js && !plan9 && !wasip1", "!js && !plan9 && !wasip1 && !xen"),
    # net's tests: the platform table and the raw-connection stubs of js/wasip1 (the test
    # hooks are net/main_xen_test.go's, main_wasm_test.go being wasm by its name)
    ("net/platform_unix_test.go", "unix || js || wasip1", None),
    ("net/rawconn_stub_test.go", "js || plan9 || wasip1", None),
]


def _edit(path, old, new):
    if new is None:
        new = old + " || xen"
    return ("src/" + path, "//go:build " + old + "\n", "//go:build " + new + "\n")


EDITS = [_edit(*t) for t in _TAGS]
