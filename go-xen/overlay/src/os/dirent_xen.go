// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package os

import "syscall"

// Records of syscall.ReadDirent on xen: inode (8 bytes), record length (2),
// type (1: the S_IFMT bits of the mode, shifted right by 12), then the name.

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

func direntType(buf []byte) FileMode {
	if len(buf) < direntNameOff {
		return ^FileMode(0) // unknown
	}
	switch uint32(buf[10]) << 12 {
	case syscall.S_IFREG:
		return 0
	case syscall.S_IFDIR:
		return ModeDir
	case syscall.S_IFLNK:
		return ModeSymlink
	case syscall.S_IFCHR:
		return ModeDevice | ModeCharDevice
	case syscall.S_IFBLK:
		return ModeDevice
	case syscall.S_IFIFO:
		return ModeNamedPipe
	case syscall.S_IFSOCK:
		return ModeSocket
	}
	return ^FileMode(0) // unknown
}
