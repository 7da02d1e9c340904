package romfs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"goxen/romfs/internal/packtest"
)

func readImage(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixCRC rewrites the index checksum of a copy of b, so that a corruption reaches the checks
// behind it. It returns nil when b has no plausible data offset.
func fixCRC(b []byte) []byte {
	if len(b) < HeaderSize {
		return nil
	}
	dataOff := int(binary.LittleEndian.Uint32(b[hDataOff:]))
	if dataOff < HeaderSize || dataOff > len(b) {
		return nil
	}
	c := append([]byte{}, b...)
	binary.LittleEndian.PutUint32(c[hIndexCRC:], IndexCRC(c, dataOff))
	return c
}

func TestTestdata(t *testing.T) {
	im, err := Mount(readImage(t, "tree.img"))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"hello.txt":           "hello, romfs\n",
		"/etc/app.conf":       "name=demo\n",
		"static/css/site.css": "h1{color:red}\n",
		"static/ünïcode.txt":  "ünï\n",
		"static/empty.txt":    "",
		"//static/index.html": "<!doctype html>\n<h1>romfs</h1>\n",
	} {
		n, err := im.Lookup(path)
		if err != nil {
			t.Errorf("lookup %q: %v", path, err)
			continue
		}
		if string(n.Data()) != want || n.Verify() != nil || n.ModTime() != 1700000000e9 {
			t.Errorf("%q: %q (verify %v, mtime %d)", path, n.Data(), n.Verify(), n.ModTime())
		}
	}
	for path, want := range map[string]error{
		"nope": ErrNotExist, "hello.txt/x": ErrNotDir, "static/": ErrInvalid, "a/../b": ErrInvalid,
		"static//css": ErrInvalid, "static/./css": ErrInvalid, "static/css/zzz": ErrNotExist,
	} {
		if _, err := im.Lookup(path); err != want {
			t.Errorf("lookup %q: %v, want %v", path, err, want)
		}
	}
	for _, p := range []string{"", ".", "/", "///"} {
		if n, err := im.Lookup(p); err != nil || n.Index() != 0 || !n.IsDir() {
			t.Errorf("lookup %q: %v, %v", p, n, err)
		}
	}
	s, _ := im.Lookup("static")
	if s.Name() != "static" || s.Parent().Index() != 0 || s.Size() != 0 || s.Data() != nil {
		t.Errorf("static: %q parent %d size %d", s.Name(), s.Parent().Index(), s.Size())
	}
	var names []string
	for k := range s.NumChildren() {
		names = append(names, s.Child(k).Name())
	}
	if got := strings.Join(names, " "); got != "css empty.txt img index.html ünïcode.txt" {
		t.Errorf("static lists %s", got)
	}
}

// TestTestdataCurrent re-packs testdata/tree and compares with tree.img, so that a change of
// the writer's output is a deliberate one. Modes depend on the checkout's umask: they and the
// checksum over them are left out of the comparison.
func TestTestdataCurrent(t *testing.T) {
	want := readImage(t, "tree.img")
	got := packtest.Pack(t, filepath.Join("testdata", "tree"), "--mtime", "1700000000")
	mask := func(b []byte) []byte {
		b = append([]byte{}, b...)
		if len(b) < HeaderSize {
			return b
		}
		copy(b[hIndexCRC:], "\x00\x00\x00\x00")
		count := int(binary.LittleEndian.Uint32(b[hNodeCount:]))
		for i := 0; i < count && HeaderSize+NodeSize*(i+1) <= len(b); i++ {
			copy(b[HeaderSize+NodeSize*i+nMode:], "\x00\x00\x00\x00")
		}
		return b
	}
	if !bytes.Equal(mask(got), mask(want)) {
		t.Fatal("the writer packs testdata/tree differently from testdata/tree.img: " +
			"regenerate it (testdata/README.md) if the format changed on purpose")
	}
}

func TestEmpty(t *testing.T) {
	im, err := Mount(packtest.Pack(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if im.Len() != 1 || im.Root().NumChildren() != 0 {
		t.Errorf("empty image: %d nodes", im.Len())
	}
	if _, err := im.Lookup("x"); err != ErrNotExist {
		t.Errorf("lookup x: %v", err)
	}
}

func TestEveryPrefixRejected(t *testing.T) {
	b := readImage(t, "tree.img")
	for n := range len(b) {
		if _, err := Mount(b[:n]); err == nil {
			t.Fatalf("a %d-byte prefix of a %d-byte image mounted", n, len(b))
		}
	}
	// Longer buffers are fine: the header says where the image ends.
	if _, err := Mount(append(append([]byte{}, b...), 1, 2, 3)); err != nil {
		t.Fatal(err)
	}
}

func TestEveryIndexBitFlipRejected(t *testing.T) {
	b := readImage(t, "tree.img")
	dataOff := int(binary.LittleEndian.Uint32(b[hDataOff:]))
	for i := range dataOff * 8 {
		c := append([]byte{}, b...)
		c[i/8] ^= 1 << (i % 8)
		if _, err := Mount(c); err == nil {
			t.Fatalf("image with bit %d of the index flipped mounted", i)
		}
	}
	// A flipped data bit mounts (data is not checked at mount) but fails Verify.
	im, _ := Mount(b)
	n, _ := im.Lookup("static/img/noise.bin")
	c := append([]byte{}, b...)
	c[len(b)-len(n.Data())-(int(im.Size())-int(len(b)))] ^= 0x80 // first byte of some file data
	im2, err := Mount(c)
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for i := range im2.Len() {
		if im2.Node(i).Verify() == ErrChecksum {
			bad++
		}
	}
	if bad != 1 {
		t.Errorf("%d files fail Verify after one data byte flipped, want 1", bad)
	}
}

func TestCorruptionReasons(t *testing.T) {
	b := readImage(t, "tree.img")
	node := func(i, field int) int { return HeaderSize + NodeSize*i + field }
	put32 := func(off int, v uint32) func([]byte) {
		return func(c []byte) { binary.LittleEndian.PutUint32(c[off:], v) }
	}
	put64 := func(off int, v uint64) func([]byte) {
		return func(c []byte) { binary.LittleEndian.PutUint64(c[off:], v) }
	}
	put16 := func(off int, v uint16) func([]byte) {
		return func(c []byte) { binary.LittleEndian.PutUint16(c[off:], v) }
	}
	im, _ := Mount(b)
	hello, _ := im.Lookup("hello.txt")
	static, _ := im.Lookup("static")
	h := hello.Index()
	last := 0 // the last directory with children
	for i := range im.Len() {
		if im.Node(i).NumChildren() > 0 {
			last = i
		}
	}
	for _, tc := range []struct {
		name   string
		patch  func([]byte)
		reason string
	}{
		{"magic", func(c []byte) { c[0] = 'X' }, "magic"},
		{"version", put16(hVersion, 2), "format version 2"},
		{"flags", put16(hFlags, 1), "flags"},
		{"image size", put64(hImageSize, uint64(len(b))+1), "truncated"},
		{"no nodes", put32(hNodeCount, 0), "node count"},
		{"huge node count", put32(hNodeCount, 1<<31-1), "name table offset"},
		{"alignment", put32(hDataAlign, 24), "alignment"},
		{"data size", put64(hDataSize, 1), "data size"},
		{"reserved", put32(node(h, nReserved2), 1), "reserved"},
		{"mode symlink", put32(node(h, nMode), 0o120777), "neither"},
		{"mode setuid", put32(node(h, nMode), 0o104755), "neither"},
		{"root a file", put32(node(0, nMode), 0o100644), "root"},
		{"misaligned data", put64(node(h, nOff), hello.field64(nOff)+1), "misaligned"},
		{"data past the end", put64(node(h, nSize), uint64(len(b))), "outside"},
		{"data overflow", put64(node(h, nSize), 1<<63), "outside"},
		{"name past table", put32(node(h, nNameOff), 1<<20), "name outside"},
		{"long name", put16(node(h, nNameLen), 300), "name"},
		{"empty name", put16(node(h, nNameLen), 0), "name length"},
		{"wrong parent", put32(node(h, nParent), uint32(static.Index())), "parent"},
		{"child range past table", put64(node(static.Index(), nSize), 1000), "child range"},
		{"child range back", put64(node(static.Index(), nOff), 0), "child range"},
		{"fewer children", put64(node(0, nSize), uint64(im.Root().NumChildren()-1)), "child range"},
		{"last dir short", put64(node(last, nSize), uint64(im.Node(last).NumChildren()-1)), "claim"},
		{"unsorted", func(c []byte) {
			// swap the names of the root's first two children
			a, z := node(1, nNameOff), node(2, nNameOff)
			var t [6]byte
			copy(t[:], c[a:a+6])
			copy(c[a:a+6], c[z:z+6])
			copy(c[z:z+6], t[:])
		}, "sorted"},
		{"slash in name", func(c []byte) {
			namesOff := int(binary.LittleEndian.Uint32(c[hNamesOff:]))
			c[namesOff+int(binary.LittleEndian.Uint32(c[node(h, nNameOff):]))] = '/'
		}, "invalid name"},
	} {
		c := append([]byte{}, b...)
		tc.patch(c)
		c = fixCRC(c)
		_, err := Mount(c)
		var me *MountError
		if !errors.As(err, &me) || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("%s: %v, want a MountError about %q", tc.name, err, tc.reason)
		}
	}
}

func TestCRCMatchesHashCRC32(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 300 {
		p := make([]byte, n*7)
		for i := range p {
			p[i] = byte(r.Uint32())
		}
		if got, want := crcUpdate(0, p), crc32.ChecksumIEEE(p); got != want {
			t.Fatalf("crc of %d bytes: %08x, want %08x", len(p), got, want)
		}
		if got, want := crcUpdate(crcUpdate(0, p[:n]), p[n:]), crc32.ChecksumIEEE(p); got != want {
			t.Fatalf("split crc of %d bytes: %08x, want %08x", len(p), got, want)
		}
	}
}

func TestNoAllocations(t *testing.T) {
	im, err := Mount(readImage(t, "tree.img"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	allocs := testing.AllocsPerRun(100, func() {
		n, err := im.Lookup("/static/css/site.css")
		if err != nil || n.ReadAt(buf, 3) != 11 || n.NumChildren() != 0 {
			panic("lookup")
		}
		if _, ok := im.Root().LookupChild("etc"); !ok {
			panic("etc")
		}
	})
	if allocs != 0 {
		t.Errorf("Lookup + ReadAt allocate %v times", allocs)
	}
}

func BenchmarkLookup(b *testing.B) {
	im, _ := Mount(readImage(b, "tree.img"))
	for b.Loop() {
		im.Lookup("static/img/noise.bin")
	}
}
