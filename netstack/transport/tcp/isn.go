package tcp

import (
	"encoding/binary"
	"hash/maphash"
	"net/netip"
	"time"
)

// isnGen generates initial sequence numbers per RFC 6528: ISN = M + F(4-tuple, secret),
// where M is a clock ticking every 4 microseconds and F a keyed hash the outside cannot
// compute. F is hash/maphash under a per-protocol random seed plus a random 128-bit key.
type isnGen struct {
	seed  maphash.Seed
	key   [16]byte
	start time.Time
}

func (g *isnGen) init() {
	g.seed = maphash.MakeSeed()
	binary.LittleEndian.PutUint64(g.key[:], maphash.Comparable(maphash.MakeSeed(), 0))
	binary.LittleEndian.PutUint64(g.key[8:], maphash.Comparable(maphash.MakeSeed(), 1))
	g.start = time.Now()
}

func (g *isnGen) isn(local, remote netip.AddrPort) uint32 {
	var b [36 + 16]byte
	l, r := local.Addr().As16(), remote.Addr().As16()
	copy(b[0:], l[:])
	copy(b[16:], r[:])
	binary.BigEndian.PutUint16(b[32:], local.Port())
	binary.BigEndian.PutUint16(b[34:], remote.Port())
	copy(b[36:], g.key[:])
	f := uint32(maphash.Bytes(g.seed, b[:]))
	m := uint32(time.Since(g.start).Microseconds() / 4)
	return m + f
}

// random returns a random number (for the first ephemeral port).
func (g *isnGen) random() uint64 { return maphash.Comparable(g.seed, time.Now().UnixNano()) }
