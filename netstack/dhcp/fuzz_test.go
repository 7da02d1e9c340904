package dhcp

import (
	"net/netip"
	"testing"
)

// FuzzMessage parses arbitrary bytes as a DHCP message: Valid must reject what the accessors
// cannot read, and nothing may panic.
func FuzzMessage(f *testing.F) {
	fl := Fields{Op: 2, XID: 7, YIAddr: netip.MustParseAddr("10.0.0.5"),
		Options: []Option{{Code: 53, Data: []byte{5}}, {Code: 1, Data: []byte{255, 255, 255, 0}}}}
	good := make(Message, fl.Size())
	good.Encode(&fl)
	f.Add([]byte(good))
	f.Add([]byte(good[:fixedSize]))
	f.Add(append([]byte(good[:fixedSize]), 53, 1, 5, 1, 4, 255, 255, 255, 0, 255))
	f.Add(append([]byte(good[:fixedSize]), 53, 200, 5))
	f.Fuzz(func(t *testing.T, b []byte) {
		m := Message(b)
		if !m.Valid() {
			return
		}
		_, _, _, _ = m.Op(), m.XID(), m.YIAddr(), m.CHAddr()
		_ = m.Options()
		_ = m.Type()
	})
}
