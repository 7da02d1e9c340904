// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// The generated files of /etc (the device tree, fs_xen.go): what Go's std packages read
// there on Linux, describing the one process of a guest. os/user finds root in passwd and
// group (the program runs as uid and gid 0); net's resolver reads hosts. A romfs image with
// files of these names in its /etc replaces them: the image's /etc is merged over this one.

package syscall

// hostname is the guest's host name (os.Hostname, /etc/hosts).
func hostname() string { return "xen" }

// etcHosts is /etc/hosts (hosts(5)): localhost on the loopback addresses (RFC 6761 6.3),
// and the guest's own name on 127.0.1.1, as Debian writes it for a host without a fixed
// address.
func etcHosts() string {
	return "127.0.0.1\tlocalhost\n" +
		"127.0.1.1\t" + hostname() + "\n" +
		"::1\tlocalhost ip6-localhost ip6-loopback\n"
}

// etcPasswd is /etc/passwd (passwd(5)): root, whose home is the root directory (there is
// no /root) and who has no shell to log in with.
func etcPasswd() string { return "root:x:0:0:root:/:/sbin/nologin\n" }

// etcGroup is /etc/group (group(5)).
func etcGroup() string { return "root:x:0:\n" }
