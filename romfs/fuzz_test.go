package romfs

import (
	"errors"
	"testing"
)

// FuzzMount mounts arbitrary bytes, both as given and with the index checksum made right (so
// that mutations get past the checksum to the structural checks). A rejected image must be a
// *MountError with a reason; an accepted one is walked completely: every node is found again
// by its path, every read stays within the caller's buffer and the file. path is looked up too.
func FuzzMount(f *testing.F) {
	for _, name := range []string{"tree.img", "empty.img"} {
		f.Add(readImage(f, name), "static/css/site.css")
	}
	f.Add([]byte(Magic), "")
	f.Fuzz(func(t *testing.T, b []byte, path string) {
		exercise(t, b, path)
		if c := fixCRC(b); c != nil {
			exercise(t, c, path)
		}
	})
}

func exercise(t *testing.T, b []byte, path string) {
	im, err := Mount(b)
	if err != nil {
		var me *MountError
		if !errors.As(err, &me) || me.Reason == "" {
			t.Fatalf("Mount error %#v is not a MountError with a reason", err)
		}
		return
	}
	if n, err := im.Lookup(path); err == nil {
		_ = n.ReadAt(make([]byte, 8), 1)
	}
	buf := make([]byte, 16)
	for i := range im.Len() {
		n := im.Node(i)
		// the path of n, from its parents (which have smaller indexes: this terminates)
		p := n.Name()
		for a := n.Parent(); a.Index() != 0; a = a.Parent() {
			if a.Index() >= n.Index() {
				t.Fatalf("node %d has ancestor %d", n.Index(), a.Index())
			}
			p = a.Name() + "/" + p
		}
		got, err := im.Lookup(p)
		if err != nil || got.Index() != i {
			t.Fatalf("node %d (%q): lookup gives %d, %v", i, p, got.Index(), err)
		}
		if n.IsDir() {
			for k := range n.NumChildren() {
				c := n.Child(k)
				if c.Parent().Index() != i {
					t.Fatalf("child %d of %d has parent %d", c.Index(), i, c.Parent().Index())
				}
			}
			continue
		}
		size := n.Size()
		if int64(len(n.Data())) != size {
			t.Fatalf("node %d: %d data bytes, size %d", i, len(n.Data()), size)
		}
		for _, off := range []int64{-1, 0, size / 2, size - 1, size, size + 1, 1 << 62} {
			got := n.ReadAt(buf, off)
			want := min(int64(len(buf)), max(size-off, 0))
			if off < 0 {
				want = 0
			}
			if int64(got) != want {
				t.Fatalf("node %d: ReadAt(%d) = %d, want %d", i, off, got, want)
			}
		}
		_ = n.Verify()
	}
}
