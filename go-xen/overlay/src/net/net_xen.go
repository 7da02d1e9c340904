// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// The network under package net on xen. At the first socket or interface call, the stack
// (goxen/netstack) starts with a loopback NIC "lo" (127.0.0.1/8, NIC ID 1, link/loopback:
// also carries whatever the guest sends to its own addresses) and every netfront vif of the
// domain as eth<N> (vif N, NIC ID N+2, as Linux numbers lo and eth0). Each vif is
// configured from the kernel command line (N omitted for vif 0: ip=, gw=; then ip1=, gw1=):
//
//	ipN=ADDR/PREFIX [gwN=ADDR]   a static address and default route
//	ipN=dhcp                     DHCPv4 (netstack/dhcp), then a goroutine renewing the lease
//	no ip=                       DHCP on eth0; ethN (N > 0) without ipN= stays unconfigured
//
// and for IPv6 (ip6=, gw6=; then ip6N=, gw6N=), on by default as on Linux:
//
//	ip6N=auto                    the link-local address and SLAAC from router
//	                             advertisements (RFC 4862): the default
//	ip6N=ADDR/PREFIX [gw6N=ADDR] a static address (besides the link-local one) and default
//	                             router, router advertisements ignored
//	ip6N=off                     no IPv6 on the vif
//
// lo has 127.0.0.1/8 and ::1.
// The outcome is printed on the console ("net: eth0 ... 10.0.0.2/24 gw 10.0.0.1", or
// "net: eth0 ...: no address: ..."). The first call waits for DHCP (dhcpWait at most);
// without an answer the client keeps trying in the background. With boottrace=1 on the
// command line, "goxen-boot: net NS" follows once eth0 has its address (NS: Xen system time).
//
// UDP and TCP over IPv4 and IPv6 work; a socket on the wildcard address of "tcp" or "udp"
// (":80") takes both families, as Go on Linux listens. Raw IP and Unix sockets fail as on
// a Linux kernel built without them. A domain without vifs (dom0 on the tier-2 bed) has
// only lo.

package net

import (
	"context"
	"goxen/netstack/buffer"
	"goxen/netstack/dhcp"
	"goxen/netstack/header"
	"goxen/netstack/link"
	"goxen/netstack/link/loopback"
	nsstack "goxen/netstack/stack"
	"goxen/netstack/transport/tcp"
	"goxen/netstack/transport/udp"
	"internal/xen"
	"internal/xen/control"
	"internal/xen/netfront"
	"net/netip"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"syscall"
	"time"
	_ "unsafe" // go:linkname
)

// dhcpWait bounds how long the first use of the network waits for a DHCP lease (dadWait:
// for a static IPv6 address to pass duplicate address detection);
// dhcpRetransmit is the DHCP client's first retransmission interval (then doubled): a
// vif's first frames can be lost while the backend joins its bridge.
const (
	dhcpWait       = 10 * time.Second
	dhcpRetransmit = 500 * time.Millisecond
	dadWait        = 3 * time.Second // a static IPv6 address's DAD: up to 1 s delay, 1 s probe
)

var xenNet struct {
	once sync.Once
	s    *nsstack.Stack
	udp  *udp.Protocol
	tcp  *tcp.Protocol
}

func netLog(msg string) {
	os.Stderr.WriteString("net: " + msg + "\n")
}

// netStack starts the stack on first use and returns its UDP protocol.
func netStack() *udp.Protocol {
	xenNet.once.Do(startNetstack)
	return xenNet.udp
}

// netTCP starts the stack on first use and returns its TCP protocol.
func netTCP() *tcp.Protocol {
	xenNet.once.Do(startNetstack)
	return xenNet.tcp
}

// loNIC is the loopback NIC's ID; vif N is NIC N+vifNICBase.
const (
	loNIC      = nsstack.NICID(1)
	vifNICBase = 2
)

// Limits against memory exhaustion (README.md, "Limits"): the stack's memory budget for
// data in flight (netstack/stack/budget.go) and the most TCP connections open at once.
// netbudget= and netconns= on the command line set them; by default they come from the
// memory: a quarter of the heap for buffers (the domain's memory less the image and the
// runtime's own: in a 10 MB domain a quarter of the domain was half the heap, and kvstore
// under load ran out of memory), and for connections half the heap at
// connCost each. What a connection costs beyond the stack's own structures is the program's
// (an idle kvstore connection about 13 KiB in all, net/http's about 17): that part is held
// in check by memory pressure (netpressure_xen.go), which refuses new connections when the
// heap is short whatever they cost, so connCost only bounds the stack's own state (an
// endpoint, its timers, net's netFD: a few KiB) with room to spare.
const (
	connCost     = 8 << 10
	minNetConns  = 64
	minNetBudget = 1 << 20
)

func netLimits() (budget int64, conns int) {
	mem := xen.MemoryBytes()
	heap := mem
	// The runtime's default soft memory limit is 7/8 of the heap (runtime/mem_xen.go); with
	// GOMEMLIMIT set or off, the domain's memory stands in.
	if l := debug.SetMemoryLimit(-1); l > 0 && l < mem {
		heap = l / 7 * 8
	}
	budget, conns = max(heap/4, minNetBudget), max(int(heap/2/connCost), minNetConns)
	if v, ok := xen.Param("netbudget"); ok {
		if n, ok := parseSize(v); ok && n > 0 {
			budget = n
		} else {
			netLog("netbudget=" + v + ": not a size (bytes, or with K, M or G): using " + strconv.FormatInt(budget, 10))
		}
	}
	if v, ok := xen.Param("netconns"); ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			conns = n
		} else {
			netLog("netconns=" + v + ": not a positive number: using " + strconv.Itoa(conns))
		}
	}
	return budget, conns
}

// parseSize reads "65536", "64K", "16M" or "1G".
func parseSize(v string) (int64, bool) {
	mult := int64(1)
	if n := len(v); n > 0 {
		switch v[n-1] {
		case 'K', 'k':
			mult, v = 1<<10, v[:n-1]
		case 'M', 'm':
			mult, v = 1<<20, v[:n-1]
		case 'G', 'g':
			mult, v = 1<<30, v[:n-1]
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, false
	}
	return n * mult, true
}

func startNetstack() {
	budget, conns := netLimits()
	s := nsstack.New(nsstack.Options{MemoryBudget: budget, Logf: netLog})
	xenNet.s, xenNet.udp, xenNet.tcp = s, udp.New(s), tcp.NewWithOptions(s, tcp.Options{MaxConnections: conns,
		MemoryPressure: memoryPressure})
	if err := s.AddNIC(loNIC, "lo", loopback.New(0)); err != nil {
		netLog("lo: " + err.Error())
	} else if err := s.AddAddress(loNIC, netip.MustParsePrefix("127.0.0.1/8")); err != nil {
		netLog("lo: " + err.Error())
	} else if err := s.EnableIPv6(loNIC, nsstack.IPv6Config{}); err != nil {
		netLog("lo: " + err.Error())
	}
	var vifs []namedVif
	defer func() { provideNetstats(vifs) }()
	idx, err := netfront.Devices()
	if err != nil {
		// No xenstore (dom0 without a toolstack) or no device directory: no vifs.
		return
	}
	var wg sync.WaitGroup
	for _, i := range idx {
		d, err := netfront.Open(i)
		name := "eth" + strconv.Itoa(i)
		if err != nil {
			netLog(name + ": " + err.Error())
			continue
		}
		id := nsstack.NICID(i + vifNICBase)
		if err := s.AddNIC(id, name, &vifEndpoint{d: d}); err != nil {
			netLog(name + ": " + err.Error())
			continue
		}
		vifs = append(vifs, namedVif{name, d})
		wg.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			configure6(i, id, name)
		}()
		go func() {
			defer wg.Done()
			if configure(i, id, name, d) && i == 0 {
				bootTrace("net")
			}
		}()
	}
	wg.Wait()
	// After a restore or migration the vifs sit behind new bridge ports: tell the LAN.
	xen.OnSuspend(func() {}, func(newDomain bool) {
		if !newDomain {
			return
		}
		for _, v := range vifs {
			s.Announce(nsstack.NICID(v.d.Index() + vifNICBase))
		}
	})
}

// configure sets vif i's address from the command line (ip=/gw= for vif 0, ipN=/gwN= for
// vif N) or DHCP, says what it did, and reports whether the NIC has an address.
func configure(i int, id nsstack.NICID, name string, d *netfront.Device) bool {
	mac := d.MAC()
	who := name + " " + HardwareAddr(mac[:]).String()
	suffix := ""
	if i > 0 {
		suffix = strconv.Itoa(i)
	}
	ip, ok := xen.Param("ip" + suffix)
	if !ok && i > 0 {
		netLog(who + ": no address: no ip" + suffix + "= on the command line")
		return false
	}
	if ok && ip != "dhcp" {
		pfx, err := netip.ParsePrefix(ip)
		if err != nil || !pfx.Addr().Is4() {
			netLog(who + ": no address: ip" + suffix + "=" + ip + " is not ADDR/PREFIX or dhcp")
			return false
		}
		if err := xenNet.s.AddAddress(id, pfx); err != nil {
			netLog(who + ": no address: " + err.Error())
			return false
		}
		msg := who + " " + pfx.String()
		if gw, ok := xen.Param("gw" + suffix); ok {
			a, err := netip.ParseAddr(gw)
			if err != nil || !a.Is4() {
				netLog(who + ": gw" + suffix + "=" + gw + " is not an IPv4 address; no default route")
			} else {
				xenNet.s.AddRoute(nsstack.Route{Dest: netip.PrefixFrom(netip.IPv4Unspecified(), 0), Gateway: a, NIC: id})
				msg += " gw " + a.String()
			}
		}
		netLog(msg)
		control.PublishAddr(i, pfx.Addr().String())
		return true
	}
	c, err := dhcp.NewClient(xenNet.udp, dhcp.Config{NIC: id, Retransmit: dhcpRetransmit})
	if err != nil {
		netLog(who + ": no address: dhcp: " + err.Error())
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), dhcpWait)
	l, err := c.Acquire(ctx)
	cancel()
	if err != nil {
		netLog(who + ": no address: no DHCP answer in " + dhcpWait.String() + " (still trying)")
	} else {
		msg := who + " " + l.Addr.String()
		if l.Router.IsValid() {
			msg += " gw " + l.Router.String()
		}
		netLog(msg + " (dhcp from " + l.Server.String() + ", lease " + l.Duration.String() + ")")
		control.PublishAddr(i, l.Addr.Addr().String())
		learnDNS(l.DNS, l.Domain, l.Search)
	}
	go c.Run(context.Background()) // renews, rebinds, starts over after expiry
	return err == nil
}

// configure6 turns IPv6 on for vif i as ip6= (ip6N=) says: auto (the default), a static
// address, or off.
func configure6(i int, id nsstack.NICID, name string) {
	suffix := ""
	if i > 0 {
		suffix = strconv.Itoa(i)
	}
	v, _ := xen.Param("ip6" + suffix)
	switch v {
	case "off":
		return
	case "", "auto":
		if err := xenNet.s.EnableIPv6(id, nsstack.IPv6Config{Autoconf: true}); err != nil {
			netLog(name + ": ipv6: " + err.Error())
		}
		return
	}
	pfx, err := netip.ParsePrefix(v)
	if err != nil || !pfx.Addr().Is6() || pfx.Addr().Is4In6() {
		netLog(name + ": ip6" + suffix + "=" + v + " is not an IPv6 ADDR/PREFIX, auto or off: SLAAC instead")
		xenNet.s.EnableIPv6(id, nsstack.IPv6Config{Autoconf: true})
		return
	}
	xenNet.s.EnableIPv6(id, nsstack.IPv6Config{})
	if err := xenNet.s.AddAddress(id, pfx); err != nil {
		netLog(name + ": " + pfx.String() + ": " + err.Error())
		return
	}
	// The network's first use waits for duplicate address detection, as it waits for DHCP:
	// until then the address is not used (netstack says so if another node has it).
	for deadline := time.Now().Add(dadWait); !hasAddr(id, pfx) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if !hasAddr(id, pfx) {
		netLog(name + ": " + pfx.String() + ": not usable: duplicate address detection did not pass")
		return
	}
	msg := name + " " + pfx.String()
	if gw, ok := xen.Param("gw6" + suffix); ok {
		a, err := netip.ParseAddr(gw)
		if err != nil || !a.Is6() || a.Is4In6() {
			netLog(name + ": gw6" + suffix + "=" + gw + " is not an IPv6 address; no default route")
		} else {
			xenNet.s.AddRoute(nsstack.Route{Dest: netip.PrefixFrom(netip.IPv6Unspecified(), 0), Gateway: a, NIC: id})
			msg += " gw " + a.String()
		}
	}
	netLog(msg)
}

// hasAddr reports whether NIC id has the usable address pfx.
func hasAddr(id nsstack.NICID, pfx netip.Prefix) bool {
	for _, n := range xenNet.s.NICs() {
		if n.ID == id {
			for _, p := range n.Addrs {
				if p == pfx {
					return true
				}
			}
		}
	}
	return false
}

// bootTrace prints "goxen-boot: STAGE NS" when the command line has boottrace=1 (the
// boot-timeline convention of issue 9). NS is Xen system time: on xen, runtime.nanotime is
// the pvclock reading itself (runtime/time_xen.go, xenNanotime, with no offset), unlike
// time.Now's monotonic clock, which counts from process start.
func bootTrace(stage string) {
	if v, ok := xen.Param("boottrace"); !ok || v != "1" {
		return
	}
	os.Stderr.WriteString("goxen-boot: " + stage + " " + strconv.FormatInt(runtime_nanotime(), 10) + "\n")
}

//go:linkname runtime_nanotime runtime.nanotime
func runtime_nanotime() int64

// vifEndpoint is a netfront device as a netstack link endpoint.
type vifEndpoint struct {
	d *netfront.Device
}

func (e *vifEndpoint) MTU() int { return e.d.MTU() }

func (e *vifEndpoint) LinkAddr() header.LinkAddr { return header.LinkAddr(e.d.MAC()) }

// Offloads are the backend's (netfront.Features): partial checksums and, with
// scatter-gather, TCP segments of up to 64 KiB that netback cuts. They are asked for every
// packet: a restored domain's new backend may offer less.
func (e *vifEndpoint) Offloads() link.Offloads {
	f := e.d.Features()
	// Frags: WritePacket copies a packet's payload into the tx pages from where it lies.
	o := link.Offloads{TxCsum: f.TxCsumV4, GSOv4: f.TxGSOv4, GSOv6: f.TxGSOv6, Frags: true}
	if o.GSOv4 || o.GSOv6 {
		o.GSOMaxSize = xen.XEN_NETIF_MAX_TX_SIZE - header.EthernetMinSize
	}
	return o
}

// WritePacket copies the frame into granted tx pages (netfront.SendParts: its headers and
// then its payload from where it lies), with the packet's offloads in the first request. An IPv6 partial checksum for a backend without
// IPv6 checksum offload is completed here.
func (e *vifEndpoint) WritePacket(p *buffer.Packet) error {
	defer p.Release()
	var o netfront.TxOffload
	if p.Offload.CsumPartial {
		if head, _ := p.Parts(); isIPv6Frame(head) && !e.d.Features().TxCsumV6 {
			nsstack.CompleteChecksum(p)
		} else {
			o.CsumBlank = true
		}
	}
	switch p.Offload.GSOType {
	case buffer.GSOTCPv4:
		o.GSOType, o.GSOSize = xen.XEN_NETIF_GSO_TYPE_TCPV4, p.Offload.GSOSize
	case buffer.GSOTCPv6:
		o.GSOType, o.GSOSize = xen.XEN_NETIF_GSO_TYPE_TCPV6, p.Offload.GSOSize
	}
	head, frag := p.Parts()
	return e.d.SendParts(head, frag, o)
}

func isIPv6Frame(f []byte) bool {
	return len(f) >= header.EthernetMinSize && header.Ethernet(f).Type() == header.EtherTypeIPv6
}

// Attach delivers each received frame in a pooled packet: the one copy out of the rx pages.
// The frames of one drain of the rx ring go to the stack together, up to link.MaxBatch at a
// time, so that it can coalesce a flow's TCP segments (netstack/stack/gro.go) when netback
// does not send large ones itself; nothing waits past the drain.
func (e *vifEndpoint) Attach(disp link.Dispatcher) {
	if disp == nil {
		e.d.SetReceiver(nil)
		return
	}
	var batch [link.MaxBatch]*buffer.Packet
	n := 0
	flush := func() {
		if n > 0 {
			link.Deliver(disp, batch[:n])
			clear(batch[:n])
			n = 0
		}
	}
	e.d.SetBatchReceiver(func(f *netfront.Frame) {
		p := buffer.New(buffer.Headroom, f.Len)
		for _, part := range f.Parts {
			p.Append(part)
		}
		p.Offload.CsumValid = f.CsumValid
		batch[n] = p
		if n++; n == len(batch) {
			flush()
		}
	}, flush)
}

func (e *vifEndpoint) Close() error { return e.d.Close() }

// toAddrPort converts a UDP or TCP sockaddr to a netstack address: IPv4-mapped addresses
// as IPv4, a zone as the NIC it names; the wildcard is :: for an AF_INET6 socket (both
// families, as Linux's IPV6_V6ONLY=0) and 0.0.0.0 otherwise.
func toAddrPort(sa sockaddr, family int) (netip.AddrPort, error) {
	var ip IP
	var port int
	var zone string
	switch a := sa.(type) {
	case *UDPAddr:
		if a != nil {
			ip, port, zone = a.IP, a.Port, a.Zone
		}
	case *TCPAddr:
		if a != nil {
			ip, port, zone = a.IP, a.Port, a.Zone
		}
	default:
		return netip.AddrPort{}, syscall.EAFNOSUPPORT
	}
	a, _ := netip.AddrFromSlice(ip)
	a = a.Unmap()
	if !a.IsValid() || a.IsUnspecified() {
		a = netip.IPv4Unspecified()
		if family == syscall.AF_INET6 {
			a = netip.IPv6Unspecified()
		}
	}
	if zone != "" && a.Is6() {
		a = a.WithZone(zone)
	}
	if port < 0 || port > 0xFFFF {
		return netip.AddrPort{}, syscall.EINVAL // as Linux's sockaddr conversion
	}
	return netip.AddrPortFrom(a, uint16(port)), nil
}

// ctrlNetwork is the network a Control hook is told: tcp4 or udp4 for tcp and udp (IPv4).
func ctrlNetwork(net string, family int) string {
	switch net[len(net)-1] {
	case '4', '6':
		return net
	}
	if family == syscall.AF_INET6 {
		return net + "6"
	}
	return net + "4"
}

// sockaddrString is sa's String, "" for none.
func sockaddrString(sa sockaddr) string {
	switch a := sa.(type) {
	case *TCPAddr:
		if a != nil {
			return a.String()
		}
	case *UDPAddr:
		if a != nil {
			return a.String()
		}
	}
	return ""
}

func socket(ctx context.Context, net string, family, sotype, proto int, ipv6only bool, laddr, raddr sockaddr, ctrlCtxFn func(context.Context, string, string, syscall.RawConn) error) (*netFD, error) {
	isTCP := sotype == syscall.SOCK_STREAM && (net == "tcp" || net == "tcp4" || net == "tcp6")
	isUDP := sotype == syscall.SOCK_DGRAM && (net == "udp" || net == "udp4" || net == "udp6")
	if !isTCP && !isUDP {
		// What a Linux kernel built without them answers: no AF_UNIX (unix, unixgram,
		// unixpacket), no raw IP sockets.
		errno := syscall.EAFNOSUPPORT
		if sotype == syscall.SOCK_RAW {
			errno = syscall.EPROTONOSUPPORT
		}
		return nil, os.NewSyscallError("socket", errno)
	}
	op := "bind"
	if raddr != nil {
		op = "connect"
	}
	local := netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
	if family == syscall.AF_INET6 {
		local = netip.AddrPortFrom(netip.IPv6Unspecified(), 0)
	}
	if laddr != nil {
		var err error
		if local, err = toAddrPort(laddr, family); err != nil {
			return nil, wrapSyscallError("bind", err)
		}
	}
	var remote netip.AddrPort
	if raddr != nil {
		var err error
		if remote, err = toAddrPort(raddr, family); err != nil {
			return nil, wrapSyscallError(op, err)
		}
	}
	if ctrlCtxFn != nil {
		// The hook runs where Linux runs it, before bind or connect, with the address it
		// would get. Its RawConn has no descriptor to act on (netstack's sockets are not
		// descriptors): Control calls f with ^uintptr(0), so setsockopt-style calls fail
		// with EBADF.
		addr := sockaddrString(laddr)
		if raddr != nil {
			addr = sockaddrString(raddr)
		}
		pending := newFD(family, sotype, net, unboundSocket{})
		if err := ctrlCtxFn(ctx, ctrlNetwork(net, family), addr, newRawConn(pending)); err != nil {
			return nil, err
		}
	}
	if isTCP {
		return tcpSocket(ctx, net, family, local, remote, raddr != nil, ipv6only)
	}
	bind := netStack().Bind
	if ipv6only {
		bind = netStack().BindV6Only
	}
	ep, err := bind(local, 0)
	if err != nil {
		if err == udp.ErrPortInUse {
			err = syscall.EADDRINUSE
		}
		return nil, os.NewSyscallError("bind", err)
	}
	u := &udpSocket{Endpoint: ep}
	fd := newFD(family, sotype, net, u)
	if raddr != nil {
		if err := ep.Connect(remote); err != nil {
			ep.Close()
			return nil, os.NewSyscallError("connect", err)
		}
		fd.isConnected, u.connected = true, true
	}
	fd.setAddr(fd.udpAddr(ep.LocalAddr()), nil)
	if raddr != nil {
		fd.raddr = fd.udpAddr(ep.RemoteAddr())
	}
	return fd, nil
}

// tcpSocket listens on local (dial false; IPv6 only with ipv6only, as "tcp6" asks) or
// connects from local to remote until ctx ends. Connecting to the unspecified address
// reaches this host, as on Linux.
func tcpSocket(ctx context.Context, net string, family int, local, remote netip.AddrPort, dial, ipv6only bool) (*netFD, error) {
	pr := netTCP()
	if a := local.Addr(); a.IsValid() && !a.IsUnspecified() && !a.IsLoopback() && !xenNet.s.IsLocal(a) {
		// Binding to an address the guest does not have (Linux: EADDRNOTAVAIL).
		return nil, os.NewSyscallError("bind", syscall.EADDRNOTAVAIL)
	}
	if !dial {
		listen := pr.Listen
		if ipv6only {
			listen = pr.ListenV6Only
		}
		l, err := listen(local, 0, listenerBacklog())
		if err != nil {
			return nil, tcpErr("bind", err)
		}
		return newTCPListenerFD(family, net, l), nil
	}
	if remote.Addr().IsUnspecified() {
		lo := netip.AddrFrom4([4]byte{127, 0, 0, 1})
		if remote.Addr().Is6() {
			lo = netip.IPv6Loopback()
		}
		remote = netip.AddrPortFrom(lo, remote.Port())
	}
	if local.Addr().IsUnspecified() {
		local = netip.AddrPortFrom(netip.Addr{}, local.Port())
	}
	c, err := pr.Connect(ctx, local, remote, 0)
	if err != nil {
		if ctx.Err() != nil {
			return nil, mapErr(ctx.Err())
		}
		return nil, tcpErr("connect", err)
	}
	return newTCPFD(family, net, c), nil
}

func (fd *netFD) udpAddr(ap netip.AddrPort) *UDPAddr {
	return UDPAddrFromAddrPort(ap)
}

// interfaceTable lists the stack's NICs (all of them for ifindex 0).
func interfaceTable(ifindex int) ([]Interface, error) {
	netStack()
	var out []Interface
	for _, n := range xenNet.s.NICs() {
		if ifindex != 0 && int(n.ID) != ifindex {
			continue
		}
		ifi := Interface{Index: int(n.ID), MTU: n.MTU, Name: n.Name, Flags: FlagUp | FlagRunning}
		if n.Loopback {
			ifi.Flags |= FlagLoopback
		} else {
			mac := n.LinkAddr
			ifi.HardwareAddr = HardwareAddr(mac[:])
			ifi.Flags |= FlagBroadcast
		}
		out = append(out, ifi)
	}
	return out, nil
}

// interfaceAddrTable lists the addresses of ifi, or of every NIC for nil.
func interfaceAddrTable(ifi *Interface) ([]Addr, error) {
	netStack()
	var out []Addr
	for _, n := range xenNet.s.NICs() {
		if ifi != nil && int(n.ID) != ifi.Index {
			continue
		}
		for _, p := range n.Addrs {
			if p.Addr().Is4() {
				a := p.Addr().As4()
				out = append(out, &IPNet{IP: IPv4(a[0], a[1], a[2], a[3]), Mask: CIDRMask(p.Bits(), 32)})
			} else {
				a := p.Addr().As16()
				out = append(out, &IPNet{IP: IP(a[:]), Mask: CIDRMask(p.Bits(), 128)})
			}
		}
	}
	return out, nil
}

func interfaceMulticastAddrTable(ifi *Interface) ([]Addr, error) {
	return nil, nil
}
