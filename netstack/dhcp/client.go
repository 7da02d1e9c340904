// Package dhcp is a DHCPv4 client (RFC 2131): DISCOVER, OFFER, REQUEST, ACK; renewal at T1
// (unicast to the server), rebinding at T2 (broadcast), and loss of the address at lease
// expiry. A lease is applied to the stack as an address with its connected route and a
// default route via the router.
package dhcp

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand"
	"net/netip"
	"os"
	"strings"
	"time"

	"goxen/netstack/header"
	"goxen/netstack/stack"
	"goxen/netstack/transport/udp"
)

const (
	clientPort = 68
	serverPort = 67
)

// Config tunes a Client.
type Config struct {
	NIC        stack.NICID
	Hostname   string
	Retransmit time.Duration // first retransmission interval, doubled up to 16x; default 1 s
	Logf       func(format string, args ...any)
}

// Lease is an acquired configuration.
type Lease struct {
	Addr     netip.Prefix
	Router   netip.Addr
	DNS      []netip.Addr
	Domain   string   // option 15, when it is a valid domain name (the resolver's search domain)
	Search   []string // option 119, the valid names of the search list (at most maxSearch)
	Server   netip.Addr
	Duration time.Duration
	T1, T2   time.Duration
	Acquired time.Time
}

// ErrNak means the server refused the request.
var ErrNak = errors.New("dhcp: server sent NAK")

// Client acquires and keeps a lease for one NIC.
type Client struct {
	s     *stack.Stack
	pr    *udp.Protocol
	cfg   Config
	mac   header.LinkAddr
	rng   *rand.Rand
	lease Lease
}

// NewClient returns a client for cfg.NIC.
func NewClient(pr *udp.Protocol, cfg Config) (*Client, error) {
	if cfg.Retransmit == 0 {
		cfg.Retransmit = time.Second
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	s := pr.Stack()
	for _, n := range s.NICs() {
		if n.ID == cfg.NIC {
			return &Client{s: s, pr: pr, cfg: cfg, mac: n.LinkAddr, rng: rand.New(rand.NewSource(time.Now().UnixNano()))}, nil
		}
	}
	return nil, stack.ErrUnknownNIC
}

// Lease returns the current lease (zero if none).
func (c *Client) Lease() Lease { return c.lease }

// exchange sends msg to dst and waits for a reply of one of the wanted types with the same
// xid, retransmitting with exponential backoff until ctx ends.
func (c *Client) exchange(ctx context.Context, ep *udp.Endpoint, dst netip.Addr, f *Fields, want ...uint8) (Message, error) {
	m := make(Message, f.Size())
	m.Encode(f)
	buf := make([]byte, 1500)
	wait := c.cfg.Retransmit
	for {
		if _, err := ep.WriteTo(m, netip.AddrPortFrom(dst, serverPort)); err != nil {
			return nil, err
		}
		until := time.Now().Add(wait + time.Duration(c.rng.Int63n(int64(wait/4)+1)))
		if dl, ok := ctx.Deadline(); ok && dl.Before(until) {
			until = dl
		}
		ep.SetReadDeadline(until)
		for {
			n, _, err := ep.ReadFrom(buf)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			if err != nil {
				return nil, err
			}
			r := Message(buf[:n])
			if !r.Valid() || r.Op() != 2 || r.XID() != f.XID || r.CHAddr() != c.mac {
				continue
			}
			t := r.Type()
			if t == Nak {
				return nil, ErrNak
			}
			for _, w := range want {
				if t == w {
					return append(Message(nil), r...), nil
				}
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		wait = min(2*wait, 16*c.cfg.Retransmit)
	}
}

func (c *Client) baseOptions(t uint8) []Option {
	opts := []Option{{OptMsgType, []byte{t}}, {OptClientID, append([]byte{1}, c.mac[:]...)},
		{OptParamList, []byte{OptSubnetMask, OptRouter, OptDNS, OptDomainName, OptSearch, OptLeaseTime, OptT1, OptT2}}}
	if c.cfg.Hostname != "" {
		opts = append(opts, Option{OptHostname, []byte(c.cfg.Hostname)})
	}
	return opts
}

func (c *Client) bind() (*udp.Endpoint, error) {
	return c.pr.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), clientPort), c.cfg.NIC)
}

// Acquire runs DISCOVER/OFFER/REQUEST/ACK and applies the lease to the stack.
func (c *Client) Acquire(ctx context.Context) (Lease, error) {
	ep, err := c.bind()
	if err != nil {
		return Lease{}, err
	}
	defer ep.Close()
	bcast := netip.AddrFrom4([4]byte{255, 255, 255, 255})
	xid := c.rng.Uint32()
	offer, err := c.exchange(ctx, ep, bcast, &Fields{Op: 1, XID: xid, Broadcast: true, CHAddr: c.mac,
		Options: c.baseOptions(Discover)}, Offer)
	if err != nil {
		return Lease{}, err
	}
	if !usableAddr(offer.YIAddr()) {
		return Lease{}, errors.New("dhcp: server offered an unusable address " + offer.YIAddr().String())
	}
	oo := offer.Options()
	c.cfg.Logf("dhcp: offer %v from %v", offer.YIAddr(), netip.AddrFrom4([4]byte(append(oo[OptServerID], 0, 0, 0, 0)[:4])))
	opts := append(c.baseOptions(Request), addrOpt(OptRequestedIP, offer.YIAddr()))
	if sid := oo[OptServerID]; len(sid) == 4 {
		opts = append(opts, Option{OptServerID, sid})
	}
	ack, err := c.exchange(ctx, ep, bcast, &Fields{Op: 1, XID: xid, Broadcast: true, CHAddr: c.mac, Options: opts}, Ack)
	if err != nil {
		return Lease{}, err
	}
	return c.apply(ack)
}

// Renew asks the lease's server to extend it (unicast, RFC 2131 4.3.2 RENEWING); if the
// server does not answer before ctx ends, the caller may Rebind.
func (c *Client) Renew(ctx context.Context) (Lease, error) {
	return c.renew(ctx, c.lease.Server)
}

// Rebind asks any server to extend the lease (broadcast, REBINDING).
func (c *Client) Rebind(ctx context.Context) (Lease, error) {
	return c.renew(ctx, netip.AddrFrom4([4]byte{255, 255, 255, 255}))
}

func (c *Client) renew(ctx context.Context, dst netip.Addr) (Lease, error) {
	if !c.lease.Addr.IsValid() {
		return Lease{}, errors.New("dhcp: no lease to renew")
	}
	ep, err := c.bind()
	if err != nil {
		return Lease{}, err
	}
	defer ep.Close()
	ack, err := c.exchange(ctx, ep, dst, &Fields{Op: 1, XID: c.rng.Uint32(), CIAddr: c.lease.Addr.Addr(), CHAddr: c.mac,
		Options: c.baseOptions(Request)}, Ack)
	if err != nil {
		return Lease{}, err
	}
	return c.apply(ack)
}

// Limits on what a server may set (RFC 2131 4.4.5 gives the defaults): a lease shorter than
// minLease is taken as minLease, and T1/T2 that are missing, below minRenew, out of order or
// past the lease fall back to 1/2 and 7/8 of it, so no server can make the client renew in
// a loop.
const (
	minLease = 2 * time.Second
	minRenew = time.Second
)

// usableAddr reports whether a may be a host's own unicast address: not unspecified,
// loopback, multicast, limited broadcast or reserved (240/4).
func usableAddr(a netip.Addr) bool {
	return a.Is4() && !a.IsUnspecified() && !a.IsLoopback() && !a.IsMulticast() && a.As4()[0] < 240
}

// leaseFrom reads an OFFER's or ACK's lease, distrusting the server: an unusable address is
// an error; a mask that is not contiguous is ignored (/24); a router that is not a usable
// address in the lease's subnet, other than the lease's own, is ignored; times are bounded as
// above.
func leaseFrom(ack Message) (Lease, error) {
	if !usableAddr(ack.YIAddr()) {
		return Lease{}, errors.New("dhcp: server offered an unusable address " + ack.YIAddr().String())
	}
	o := ack.Options()
	bits := 24
	if m := o[OptSubnetMask]; len(m) == 4 {
		v := binary.BigEndian.Uint32(m)
		n := 0
		for ; v&0x80000000 != 0; v <<= 1 {
			n++
		}
		if v == 0 && n > 0 { // contiguous
			bits = n
		}
	}
	l := Lease{Addr: netip.PrefixFrom(ack.YIAddr(), bits), Acquired: time.Now()}
	if r := o[OptRouter]; len(r) >= 4 {
		if gw := netip.AddrFrom4([4]byte(r[:4])); usableAddr(gw) && gw != l.Addr.Addr() && l.Addr.Masked().Contains(gw) {
			l.Router = gw
		}
	}
	for d := o[OptDNS]; len(d) >= 4; d = d[4:] {
		if a := netip.AddrFrom4([4]byte(d[:4])); usableAddr(a) {
			l.DNS = append(l.DNS, a)
		}
	}
	if d := strings.TrimSuffix(string(o[OptDomainName]), "\x00"); validDomain(d) {
		l.Domain = d
	}
	l.Search = searchList(o[OptSearch])
	if s := o[OptServerID]; len(s) == 4 {
		l.Server = netip.AddrFrom4([4]byte(s))
	}
	l.Duration, _ = durOpt(o[OptLeaseTime])
	if l.Duration == 0 {
		l.Duration = time.Hour
	}
	l.Duration = max(l.Duration, minLease)
	var ok bool
	if l.T1, ok = durOpt(o[OptT1]); !ok || l.T1 < minRenew || l.T1 >= l.Duration {
		l.T1 = l.Duration / 2
	}
	if l.T2, ok = durOpt(o[OptT2]); !ok || l.T2 <= l.T1 || l.T2 >= l.Duration {
		l.T2 = max(l.Duration*7/8, l.T1)
	}
	return l, nil
}

// apply installs the ACK's configuration, replacing the previous lease's.
func (c *Client) apply(ack Message) (Lease, error) {
	l, err := leaseFrom(ack)
	if err != nil {
		return Lease{}, err
	}
	c.unapply()
	if err := c.s.AddAddress(c.cfg.NIC, l.Addr); err != nil {
		return Lease{}, err
	}
	if l.Router.IsValid() {
		c.s.AddRoute(stack.Route{Dest: netip.PrefixFrom(netip.IPv4Unspecified(), 0), Gateway: l.Router, NIC: c.cfg.NIC})
	}
	c.lease = l
	c.cfg.Logf("dhcp: bound %v router %v lease %v", l.Addr, l.Router, l.Duration)
	return l, nil
}

// unapply removes the current lease's address and default route.
func (c *Client) unapply() {
	if !c.lease.Addr.IsValid() {
		return
	}
	c.s.RemoveAddress(c.cfg.NIC, c.lease.Addr)
	if c.lease.Router.IsValid() {
		c.s.RemoveRoutes(func(r stack.Route) bool {
			return r.NIC == c.cfg.NIC && r.Gateway == c.lease.Router && r.Dest.Bits() == 0
		})
	}
	c.lease = Lease{}
}

// Run acquires a lease and keeps it until ctx ends: renew at T1, rebind at T2, start over
// when the lease expires. It returns ctx's error.
func (c *Client) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		if !c.lease.Addr.IsValid() {
			if _, err := c.Acquire(ctx); err != nil {
				c.cfg.Logf("dhcp: %v", err)
				sleep(ctx, minRenew) // a server answering nonsense at once gets no flood back
				continue
			}
		}
		l := c.lease
		if !sleep(ctx, time.Until(l.Acquired.Add(l.T1))) {
			break
		}
		rctx, cancel := context.WithDeadline(ctx, l.Acquired.Add(l.T2))
		_, err := c.Renew(rctx)
		cancel()
		if err == nil {
			continue
		}
		rctx, cancel = context.WithDeadline(ctx, l.Acquired.Add(l.Duration))
		_, err = c.Rebind(rctx)
		cancel()
		if err != nil {
			c.cfg.Logf("dhcp: lease expired: %v", err)
			c.unapply()
		}
	}
	return ctx.Err()
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// validDomain reports whether d is a DNS name (RFC 1123 2.1 labels: letters, digits and
// inner hyphens, at most 63 bytes each, 253 in all), so that a server cannot put spaces,
// newlines or other resolv.conf syntax into the guest's configuration.
func validDomain(d string) bool {
	d = strings.TrimSuffix(d, ".")
	if d == "" || len(d) > 253 {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// maxSearch bounds the search list taken from option 119 (glibc keeps 6 domains).
const maxSearch = 6

// searchList decodes option 119 (RFC 3397 2): DNS names in wire format (RFC 1035 3.1), with
// compression pointers (RFC 1035 4.1.4) into the option's own data. A pointer must point
// backwards, so no list can loop; names that are not valid domains, and the rest of the list
// after a malformed one, are left out.
func searchList(b []byte) []string {
	var out []string
	for off := 0; off < len(b) && len(out) < maxSearch; {
		name, next, ok := readName(b, off)
		if !ok {
			break
		}
		if validDomain(name) {
			out = append(out, name)
		}
		off = next
	}
	return out
}

// readName reads the name at off and returns it (without the final dot) and the offset
// after it in the list.
func readName(b []byte, off int) (string, int, bool) {
	var labels []string
	next, limit := -1, off // pointers may only go before where the current name started
	for n := 0; ; n++ {
		if off >= len(b) || n > 127 {
			return "", 0, false
		}
		c := int(b[off])
		switch {
		case c == 0:
			if next < 0 {
				next = off + 1
			}
			return strings.Join(labels, "."), next, true
		case c&0xC0 == 0xC0:
			if off+1 >= len(b) {
				return "", 0, false
			}
			ptr := (c&0x3F)<<8 | int(b[off+1])
			if ptr >= limit {
				return "", 0, false
			}
			if next < 0 {
				next = off + 2
			}
			off, limit = ptr, ptr
		case c&0xC0 != 0 || off+1+c > len(b):
			return "", 0, false
		default:
			labels = append(labels, string(b[off+1:off+1+c]))
			off += 1 + c
		}
	}
}
