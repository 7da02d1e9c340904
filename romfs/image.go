package romfs

// Image is a mounted romfs image. It is immutable and safe for concurrent use.
type Image struct {
	b        []byte // exactly image_size bytes
	count    uint32 // nodes
	namesOff uint32
	dataOff  uint32
}

// Mount checks b as a romfs image and returns it. b must stay unchanged while the Image is in
// use; it may be longer than the image. Mount allocates only the Image (and an error).
func Mount(b []byte) (*Image, error) {
	if len(b) < HeaderSize {
		return nil, corrupt("image is ", itoa(uint64(len(b))), " bytes, shorter than the ", itoa(HeaderSize), "-byte header")
	}
	if string(b[hMagic:hMagic+8]) != Magic {
		return nil, corrupt("no romfs magic (want ", Magic, ")")
	}
	if v := le16(b, hVersion); v != Version {
		return nil, corrupt("format version ", itoa(uint64(v)), ", this reader knows version ", itoa(Version))
	}
	if le16(b, hHeaderSz) != HeaderSize || le16(b, hNodeSz) != NodeSize {
		return nil, corrupt("header or node size is not ", itoa(HeaderSize), "/", itoa(NodeSize))
	}
	if le16(b, hFlags) != 0 || le32(b, hReserved1) != 0 || le32(b, hReserved2) != 0 {
		return nil, corrupt("unknown flags or non-zero reserved header fields")
	}
	size := le64(b, hImageSize)
	if size > uint64(len(b)) {
		return nil, corrupt("truncated: header says ", itoa(size), " bytes, have ", itoa(uint64(len(b))))
	}
	if size < HeaderSize {
		return nil, corrupt("image size ", itoa(size), " is smaller than the header")
	}
	b = b[:size]
	count := le32(b, hNodeCount)
	if count == 0 || count > maxNodes {
		return nil, corrupt("node count ", itoa(uint64(count)), " out of range")
	}
	namesOff, namesSize := le32(b, hNamesOff), le32(b, hNamesSize)
	dataOff, align := le32(b, hDataOff), le32(b, hDataAlign)
	if uint64(namesOff) != HeaderSize+NodeSize*uint64(count) {
		return nil, corrupt("name table offset ", itoa(uint64(namesOff)), " does not follow the ", itoa(uint64(count)), " nodes")
	}
	if align < minAlign || align > maxAlign || align&(align-1) != 0 {
		return nil, corrupt("data alignment ", itoa(uint64(align)), " is not a power of two from 8 to 65536")
	}
	if uint64(namesOff)+uint64(namesSize) > uint64(dataOff) || dataOff%align != 0 || uint64(dataOff) > size {
		return nil, corrupt("name table or data region out of place")
	}
	if le64(b, hDataSize) != size-uint64(dataOff) {
		return nil, corrupt("data size does not match image size")
	}
	if crc := IndexCRC(b, int(dataOff)); crc != le32(b, hIndexCRC) {
		return nil, corrupt("index checksum mismatch (corrupted header, nodes or names)")
	}
	im := &Image{b: b, count: count, namesOff: namesOff, dataOff: dataOff}
	if err := im.check(namesSize, align); err != nil {
		return nil, err
	}
	return im, nil
}

// check validates every node (FORMAT.md "Node", "Directories", "Files").
func (im *Image) check(namesSize, align uint32) error {
	b := im.b
	next := uint64(1) // the first node not yet claimed by a directory
	for i := uint32(0); i < im.count; i++ {
		n := HeaderSize + NodeSize*int(i)
		where := "node " + itoa(uint64(i)) + ": "
		if le16(b, n+nReserved) != 0 || le32(b, n+nReserved2) != 0 {
			return corrupt(where, "non-zero reserved fields")
		}
		if i == 0 && (le16(b, n+nNameLen) != 0 || le32(b, n+nParent) != 0) {
			return corrupt("the root has a name or a parent")
		}
		mode := le32(b, n+nMode)
		off, size := le64(b, n+nOff), le64(b, n+nSize)
		switch mode &^ ModePerm {
		case ModeDir:
			if size == 0 {
				break
			}
			if off != next || off <= uint64(i) || size > uint64(im.count)-off {
				return corrupt(where, "directory's child range is out of order or past the node table")
			}
			next += size
			var prev []byte
			for c := uint32(off); uint64(c) < off+size; c++ {
				if le32(b, HeaderSize+NodeSize*int(c)+nParent) != i {
					return corrupt("node ", itoa(uint64(c)), ": parent is not directory ", itoa(uint64(i)))
				}
				name, err := im.checkName(c, namesSize)
				if err != nil {
					return err
				}
				if c > uint32(off) && string(prev) >= string(name) {
					return corrupt(where, "children are not sorted by name (or repeat one)")
				}
				prev = name
			}
		case ModeReg:
			if i == 0 {
				return corrupt("the root is not a directory")
			}
			if off%uint64(align) != 0 || off < uint64(im.dataOff) || off > uint64(len(b)) || size > uint64(len(b))-off {
				return corrupt(where, "file data outside the data region or misaligned")
			}
		default:
			return corrupt(where, "mode ", itoa(uint64(mode)), " is neither a directory nor a regular file")
		}
	}
	if next != uint64(im.count) {
		return corrupt("directories claim ", itoa(next-1), " of ", itoa(uint64(im.count)-1), " nodes")
	}
	return nil
}

// checkName checks the name of node c (not the root) and returns it.
func (im *Image) checkName(c, namesSize uint32) ([]byte, error) {
	n := HeaderSize + NodeSize*int(c)
	nameOff, nameLen := le32(im.b, n+nNameOff), uint32(le16(im.b, n+nNameLen))
	if uint64(nameOff)+uint64(nameLen) > uint64(namesSize) {
		return nil, corrupt("node ", itoa(uint64(c)), ": name outside the name table")
	}
	if nameLen == 0 || nameLen > MaxName {
		return nil, corrupt("node ", itoa(uint64(c)), ": bad name length ", itoa(uint64(nameLen)))
	}
	name := im.b[im.namesOff+nameOff : im.namesOff+nameOff+nameLen]
	if !validName(name) {
		return nil, corrupt("node ", itoa(uint64(c)), ": invalid name")
	}
	return name, nil
}

// rawName is node i's name, clamped to the image so that it is safe before i is checked.
func (im *Image) rawName(i uint32) []byte {
	n := HeaderSize + NodeSize*int(i)
	start := uint64(im.namesOff) + uint64(le32(im.b, n+nNameOff))
	end := start + uint64(le16(im.b, n+nNameLen))
	if end > uint64(im.dataOff) {
		return nil
	}
	return im.b[start:end:end]
}

func validName(name []byte) bool {
	if len(name) == 0 || string(name) == "." || string(name) == ".." {
		return false
	}
	for _, c := range name {
		if c == '/' || c == 0 {
			return false
		}
	}
	return true
}

// Size is the image's size in bytes.
func (im *Image) Size() int64 { return int64(len(im.b)) }

// Len is the number of nodes (directories and files, the root included).
func (im *Image) Len() int { return int(im.count) }

// Root is the root directory.
func (im *Image) Root() Node { return Node{im, 0} }

// Node returns node i (0 <= i < Len()), for iterating over the whole image.
func (im *Image) Node(i int) Node {
	if i < 0 || i >= int(im.count) {
		panic("romfs: node index out of range")
	}
	return Node{im, uint32(i)}
}

// Lookup finds the node named by a slash-separated path relative to the root. Leading
// slashes are ignored; "", "." and "/" name the root. Empty, "." and ".." elements elsewhere
// are ErrInvalid (clean the path first); a missing element is ErrNotExist, and a file used as
// a directory ErrNotDir.
func (im *Image) Lookup(path string) (Node, error) {
	for len(path) > 0 && path[0] == '/' {
		path = path[1:]
	}
	n := im.Root()
	if path == "" || path == "." {
		return n, nil
	}
	if !cleanPath(path) {
		return Node{}, ErrInvalid
	}
	for {
		elem := path
		rest := ""
		for j := 0; j < len(path); j++ {
			if path[j] == '/' {
				elem, rest = path[:j], path[j+1:]
				break
			}
		}
		if !n.IsDir() {
			return Node{}, ErrNotDir
		}
		c, ok := n.LookupChild(elem)
		if !ok {
			return Node{}, ErrNotExist
		}
		if len(elem) == len(path) {
			return c, nil
		}
		n, path = c, rest
	}
}

// cleanPath reports whether path (without leading slashes) has no empty, "." or ".." element.
func cleanPath(path string) bool {
	start := 0
	for j := 0; j <= len(path); j++ {
		if j == len(path) || path[j] == '/' {
			if e := path[start:j]; e == "" || e == "." || e == ".." {
				return false
			}
			start = j + 1
		}
	}
	return true
}
