// Package romfs reads romfs images (romfs/FORMAT.md, version 1): a read-only tree of
// directories and regular files in one contiguous byte string, read in place.
//
// Mount checks the whole index once (header, every node, every directory's child range and
// order, the index checksum) and keeps no other state, so every later call is bounds-safe
// without further checks and allocates nothing: Lookup is one binary search per path element,
// ReadAt copies from the image into the caller's buffer, Data hands out the file's bytes.
// File contents are checked against their CRC only on request (Node.Verify).
//
// The package imports nothing, so that the GOOS=xen standard library can carry a copy of it
// (as internal/romfs) underneath syscall, below io, io/fs and time. Adapters add those:
// goxen/romfs/iofs implements io/fs on top of it.
package romfs

// Format constants (FORMAT.md, "Header" and "Node").
const (
	Magic      = "GOXROMFS"
	Version    = 1
	HeaderSize = 64
	NodeSize   = 48

	ModeDir  = 0o040000 // st_mode type bits of a directory
	ModeReg  = 0o100000 // st_mode type bits of a regular file
	ModeType = 0o170000 // mask of the type bits
	ModePerm = 0o777    // permission bits

	MaxName = 255 // longest name in bytes

	minAlign = 8
	maxAlign = 65536
	maxNodes = 1<<31 - 1
)

// Header field offsets.
const (
	hMagic     = 0
	hVersion   = 8
	hHeaderSz  = 10
	hNodeSz    = 12
	hFlags     = 14
	hImageSize = 16
	hNodeCount = 24
	hNamesOff  = 28
	hNamesSize = 32
	hDataOff   = 36
	hDataAlign = 40
	hReserved1 = 44
	hDataSize  = 48
	hReserved2 = 56
	hIndexCRC  = 60
)

// Node field offsets.
const (
	nNameOff   = 0
	nNameLen   = 4
	nReserved  = 6
	nMode      = 8
	nParent    = 12
	nMtime     = 16
	nOff       = 24
	nSize      = 32
	nCRC       = 40
	nReserved2 = 44
)

func le16(b []byte, off int) uint16 { return uint16(b[off]) | uint16(b[off+1])<<8 }

func le32(b []byte, off int) uint32 {
	_ = b[off+3]
	return uint32(b[off]) | uint32(b[off+1])<<8 | uint32(b[off+2])<<16 | uint32(b[off+3])<<24
}

func le64(b []byte, off int) uint64 { return uint64(le32(b, off)) | uint64(le32(b, off+4))<<32 }
