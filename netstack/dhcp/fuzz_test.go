package dhcp

import (
	"net/netip"
	"testing"
)

// FuzzMessage parses arbitrary bytes as a DHCP message: Valid must reject what the accessors
// cannot read, nothing may panic, and a lease read from it carries only DNS names.
func FuzzMessage(f *testing.F) {
	fl := Fields{Op: 2, XID: 7, YIAddr: netip.MustParseAddr("10.0.0.5"),
		Options: []Option{{Code: 53, Data: []byte{5}}, {Code: 1, Data: []byte{255, 255, 255, 0}}}}
	good := make(Message, fl.Size())
	good.Encode(&fl)
	f.Add([]byte(good))
	f.Add([]byte(good[:fixedSize]))
	f.Add(append([]byte(good[:fixedSize]), 53, 1, 5, 1, 4, 255, 255, 255, 0, 255))
	f.Add(append([]byte(good[:fixedSize]), 53, 200, 5))
	f.Add(append([]byte(good[:fixedSize]), 53, 1, 5, 119, 9, 3, 'l', 'a', 'b', 0, 1, 'x', 0xc0, 0, 255))
	f.Fuzz(func(t *testing.T, b []byte) {
		m := Message(b)
		if !m.Valid() {
			return
		}
		_, _, _, _ = m.Op(), m.XID(), m.YIAddr(), m.CHAddr()
		_ = m.Options()
		_ = m.Type()
		if l, err := leaseFrom(m); err == nil {
			for _, d := range append(l.Search, l.Domain) {
				if d != "" && !validDomain(d) {
					t.Fatalf("lease domain %q is not a DNS name", d)
				}
			}
			if len(l.Search) > maxSearch {
				t.Fatalf("%d search domains", len(l.Search))
			}
		}
	})
}
