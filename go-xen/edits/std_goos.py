"""runtime.GOOS switches in std that must treat xen like js and wasip1 (format: go-xen/apply.py).

These are behaviour, not build tags: a xen kernel is one process on one vCPU that
cannot exec, profile or reach an external network from a test; its package net is
netstack over netfront (net/net_xen.go), IPv4 and IPv6.
"""

EDITS = [
    # net: netstack (net/net_xen.go) has IPv4, IPv6 and dual-stack :: sockets; nothing to probe.
    ("src/net/ipsock_posix.go",
     '\tcase "js", "wasip1":\n\t\t// Both ipv4 and ipv6 are faked; see net_fake.go.\n',
     '\tcase "xen":\n\t\tp.ipv4Enabled = true\n\t\tp.ipv6Enabled = true\n\t\tp.ipv4MappedIPv6Enabled = true\n\t\treturn\n'
     '\tcase "js", "wasip1":\n\t\t// Both ipv4 and ipv6 are faked; see net_fake.go.\n'),
    ("src/net/ipsock_posix.go",
     'case "aix", "freebsd", "windows", "openbsd", "js", "wasip1":\n',
     'case "aix", "freebsd", "windows", "openbsd", "js", "wasip1", "xen":\n'),
    # net: no resolv.conf/nsswitch.conf heuristics; the pure-Go resolver.
    ("src/net/conf.go",
     'case "plan9", "windows", "js", "wasip1":\n\t\treturn\n',
     'case "plan9", "windows", "js", "wasip1", "xen":\n\t\treturn\n'),
    # internal/testenv: what std tests may assume.
    ("src/internal/testenv/exec.go",
     'case "wasip1", "js", "ios":\n',
     'case "wasip1", "js", "ios", "xen":\n'),
    ("src/internal/testenv/testenv.go",
     'switch runtime.GOOS {\n\tcase "js", "wasip1":\n\t\treturn false\n\t}\n\treturn true\n',
     'switch runtime.GOOS {\n\tcase "js", "wasip1", "xen":\n\t\treturn false\n\t}\n\treturn true\n'),
    ("src/internal/testenv/testenv.go",
     'return !testing.Short() && runtime.GOOS != "js" && runtime.GOOS != "wasip1"\n',
     'return !testing.Short() && runtime.GOOS != "js" && runtime.GOOS != "wasip1" && runtime.GOOS != "xen"\n'),
    ("src/internal/testenv/testenv.go",
     'if runtime.GOOS == "js" || runtime.GOOS == "wasip1" {\n\t\tt.Helper()\n\t\tt.Skipf("skipping test: no external network on %s", runtime.GOOS)\n',
     'if runtime.GOOS == "js" || runtime.GOOS == "wasip1" || runtime.GOOS == "xen" {\n\t\tt.Helper()\n\t\tt.Skipf("skipping test: no external network on %s", runtime.GOOS)\n'),
    # The file trees on xen have no symbolic or hard links.
    ("src/internal/testenv/testenv_notwin.go",
     'switch runtime.GOOS {\n\tcase "plan9":\n\t\treturn false, ""\n',
     'switch runtime.GOOS {\n\tcase "xen":\n\t\treturn false, "no symbolic links on xen"\n\tcase "plan9":\n\t\treturn false, ""\n'),
    ("src/internal/testenv/testenv.go",
     'return runtime.GOOS != "plan9" && runtime.GOOS != "android"\n',
     'return runtime.GOOS != "plan9" && runtime.GOOS != "android" && runtime.GOOS != "xen"\n'),
    # os's tests: a guest has no /usr/bin (the build's tree is not there), no symbolic
    # links (testenv above), and roots without openat (os/root_xen.go, as on js and plan9).
    ("src/os/os_test.go",
     '\tcase "ios", "wasip1":\n\t\twd, err := Getwd()\n',
     '\tcase "ios", "wasip1", "xen":\n\t\twd, err := Getwd()\n'),
    ("src/os/os_test.go",
     '\tcase "ios", "windows", "wasip1":\n\t\tdirs = nil\n',
     '\tcase "ios", "windows", "wasip1", "xen":\n\t\tdirs = nil\n'),
    ("src/os/root_test.go",
     '\t\t// Symlink. We create a symlink target named "s_"+base.\n\t\tif runtime.GOOS == "plan9" {\n',
     '\t\t// Symlink. We create a symlink target named "s_"+base.\n'
     '\t\tif runtime.GOOS == "plan9" || runtime.GOOS == "xen" {\n'),
    ("src/os/root_test.go",
     '\t\tt.Skip("renaming open files not supported on " + runtime.GOOS)\n\tcase "js", "plan9":\n',
     '\t\tt.Skip("renaming open files not supported on " + runtime.GOOS)\n\tcase "js", "plan9", "xen":\n'),
    # net's tests: netstack has no raw IP and no AF_UNIX sockets (socket() fails with
    # EPROTONOSUPPORT and EAFNOSUPPORT), and its sockets are not descriptors: File and
    # RawConn's Read/Write/Control have nothing to act on (net/net_xen.go).
    ("src/net/platform_test.go",
     '\t\tswitch runtime.GOOS {\n\t\tcase "plan9":\n\t\t\treturn false\n\t\tdefault:\n\t\t\tif os.Getuid() != 0 {\n',
     '\t\tswitch runtime.GOOS {\n\t\tcase "plan9", "xen":\n\t\t\treturn false\n\t\tdefault:\n\t\t\tif os.Getuid() != 0 {\n'),
    ("src/net/platform_test.go",
     '\tcase "unixpacket":\n\t\tswitch runtime.GOOS {\n\t\tcase "aix", "android", "darwin", "ios", "plan9", "windows":\n',
     '\tcase "unixpacket":\n\t\tswitch runtime.GOOS {\n\t\tcase "aix", "android", "darwin", "ios", "plan9", "windows", "xen":\n'),
    ("src/net/platform_unix_test.go",
     '\tswitch runtime.GOOS {\n\tcase "android", "ios":\n\t\treturn false\n',
     '\tswitch runtime.GOOS {\n\tcase "android", "ios", "xen":\n\t\treturn false\n'),
    ("src/net/platform_test.go",
     '\tcase "windows", "js", "wasip1":\n\t\tif network == "file+net" {\n',
     '\tcase "windows", "js", "wasip1", "xen":\n\t\tif network == "file+net" {\n'),
    ("src/net/file_test.go",
     '\tcase "plan9", "js", "wasip1":\n\t\tt.Skipf("not supported on %s", runtime.GOOS)\n',
     '\tcase "plan9", "js", "wasip1", "xen":\n\t\tt.Skipf("not supported on %s", runtime.GOOS)\n', 4),
    ("src/net/rawconn_test.go",
     '\tcase "plan9", "js", "wasip1":\n\t\tt.Skipf("not supported on %s", runtime.GOOS)\n',
     '\tcase "plan9", "js", "wasip1", "xen":\n\t\tt.Skipf("not supported on %s", runtime.GOOS)\n', 2),
    ("src/net/sendfile_test.go",
     '\tcase "plan9", "windows", "js", "wasip1":\n\t\t// These systems don\'t support deadlines on pipes.\n',
     '\tcase "plan9", "windows", "js", "wasip1", "xen":\n\t\t// These systems don\'t support deadlines on pipes.\n'),
]
