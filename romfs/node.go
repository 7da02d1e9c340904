package romfs

// Node is a directory or file of an Image. The zero Node is not valid.
type Node struct {
	im *Image
	i  uint32
}

func (n Node) field32(off int) uint32 { return le32(n.im.b, HeaderSize+NodeSize*int(n.i)+off) }
func (n Node) field64(off int) uint64 { return le64(n.im.b, HeaderSize+NodeSize*int(n.i)+off) }

// Index is the node's number in the image (0 for the root).
func (n Node) Index() int { return int(n.i) }

// NameBytes is the node's name (empty for the root), a view into the image: do not modify.
func (n Node) NameBytes() []byte { return n.im.rawName(n.i) }

// Name is the node's name ("" for the root).
func (n Node) Name() string { return string(n.NameBytes()) }

// Mode is the node's Unix st_mode: ModeDir or ModeReg plus permission bits.
func (n Node) Mode() uint32 { return n.field32(nMode) }

// IsDir reports whether the node is a directory.
func (n Node) IsDir() bool { return n.Mode()&ModeType == ModeDir }

// ModTime is the modification time in nanoseconds since 1970-01-01 UTC.
func (n Node) ModTime() int64 { return int64(n.field64(nMtime)) }

// Size is a file's length in bytes; for a directory, 0.
func (n Node) Size() int64 {
	if n.IsDir() {
		return 0
	}
	return int64(n.field64(nSize))
}

// CRC is a file's stored CRC-32/IEEE (0 for directories).
func (n Node) CRC() uint32 { return n.field32(nCRC) }

// Parent is the directory holding the node (the root for the root).
func (n Node) Parent() Node { return Node{n.im, n.field32(nParent)} }

// NumChildren is the number of entries in a directory (0 for a file).
func (n Node) NumChildren() int {
	if !n.IsDir() {
		return 0
	}
	return int(n.field64(nSize))
}

// Child is a directory's k-th entry in name order, 0 <= k < NumChildren().
func (n Node) Child(k int) Node {
	if k < 0 || k >= n.NumChildren() {
		panic("romfs: child index out of range")
	}
	return Node{n.im, uint32(n.field64(nOff)) + uint32(k)}
}

// LookupChild finds the entry name in a directory by binary search.
func (n Node) LookupChild(name string) (Node, bool) {
	count := n.NumChildren()
	if count == 0 {
		return Node{}, false
	}
	first := uint32(n.field64(nOff))
	lo, hi := 0, count
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if string(n.im.rawName(first+uint32(mid))) < name {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < count {
		if c := (Node{n.im, first + uint32(lo)}); string(c.NameBytes()) == name {
			return c, true
		}
	}
	return Node{}, false
}

// Data is a file's contents, a view into the image (its capacity ends with the file): do not
// modify. A directory has no data.
func (n Node) Data() []byte {
	if n.IsDir() {
		return nil
	}
	off := n.field64(nOff)
	end := off + n.field64(nSize)
	return n.im.b[off:end:end]
}

// ReadAt copies the file's bytes from offset off into p and returns how many it copied: fewer
// than len(p) only at the end of the file, 0 when off is negative or at or past the end.
func (n Node) ReadAt(p []byte, off int64) int {
	d := n.Data()
	if off < 0 || off >= int64(len(d)) {
		return 0
	}
	return copy(p, d[off:])
}

// Verify checks a file's contents against its stored CRC (ErrChecksum on a mismatch).
func (n Node) Verify() error {
	if !n.IsDir() && crcUpdate(0, n.Data()) != n.CRC() {
		return ErrChecksum
	}
	return nil
}
