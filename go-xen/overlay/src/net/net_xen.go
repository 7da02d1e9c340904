// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// The network under package net on xen. At the first socket or interface call, every
// netfront vif of the domain is opened and attached to one goxen/netstack stack as
// eth<N> (vif N, NIC ID N+1). eth0 is configured from the kernel command line:
//
//	ip=ADDR/PREFIX [gw=ADDR]   a static address and default route
//	ip=dhcp, or no ip=         DHCPv4 (netstack/dhcp), then a goroutine renewing the lease
//
// The outcome is printed on the console ("net: eth0 ... 10.0.0.2/24 gw 10.0.0.1", or
// "net: eth0 ...: no address: ..."). The first call waits for DHCP (dhcpWait at most);
// without an answer the client keeps trying in the background.
//
// UDP over IPv4 works (listen, dial, ReadFrom/WriteTo, deadlines); TCP, IPv6, raw IP
// and Unix sockets fail with errNotSupported until netstack has them. A domain
// without vifs (dom0 on the tier-2 bed) has an empty stack: sockets bind, but sends fail
// with netstack's "no route to host" and Interfaces() is empty. There is no loopback.

package net

import (
	"context"
	"goxen/netstack/buffer"
	"goxen/netstack/dhcp"
	"goxen/netstack/header"
	"goxen/netstack/link"
	nsstack "goxen/netstack/stack"
	"goxen/netstack/transport/udp"
	"internal/xen"
	"internal/xen/netfront"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// dhcpWait bounds how long the first use of the network waits for a DHCP lease;
// dhcpRetransmit is the DHCP client's first retransmission interval (then doubled): a
// vif's first frames can be lost while the backend joins its bridge.
const (
	dhcpWait       = 10 * time.Second
	dhcpRetransmit = 500 * time.Millisecond
)

// notSupportedError is returned for socket kinds netstack does not implement yet.
type notSupportedError struct{ what string }

func (e *notSupportedError) Error() string {
	return e.what + " is not supported on GOOS=xen yet (netstack has UDP over IPv4 only)"
}
func (e *notSupportedError) Is(target error) bool { return target == syscall.EPROTONOSUPPORT }

var errNoIPv6 = &notSupportedError{"IPv6"}

var xenNet struct {
	once sync.Once
	s    *nsstack.Stack
	udp  *udp.Protocol
}

func netLog(msg string) {
	os.Stderr.WriteString("net: " + msg + "\n")
}

// netStack starts the stack on first use and returns its UDP protocol.
func netStack() *udp.Protocol {
	xenNet.once.Do(startNetstack)
	return xenNet.udp
}

func startNetstack() {
	s := nsstack.New(nsstack.Options{})
	xenNet.s, xenNet.udp = s, udp.New(s)
	idx, err := netfront.Devices()
	if err != nil {
		// No xenstore (dom0 without a toolstack) or no device directory: no vifs.
		return
	}
	first := true
	for _, i := range idx {
		d, err := netfront.Open(i)
		name := "eth" + strconv.Itoa(i)
		if err != nil {
			netLog(name + ": " + err.Error())
			continue
		}
		id := nsstack.NICID(i + 1)
		if err := s.AddNIC(id, name, &vifEndpoint{d: d}); err != nil {
			netLog(name + ": " + err.Error())
			continue
		}
		if first {
			first = false
			configure(id, name, d)
		}
	}
}

// configure sets eth0's address from the command line (or DHCP) and says what it did.
func configure(id nsstack.NICID, name string, d *netfront.Device) {
	mac := d.MAC()
	who := name + " " + HardwareAddr(mac[:]).String()
	ip, ok := xen.Param("ip")
	if ok && ip != "dhcp" {
		pfx, err := netip.ParsePrefix(ip)
		if err != nil || !pfx.Addr().Is4() {
			netLog(who + ": no address: ip=" + ip + " is not ADDR/PREFIX or dhcp")
			return
		}
		if err := xenNet.s.AddAddress(id, pfx); err != nil {
			netLog(who + ": no address: " + err.Error())
			return
		}
		msg := who + " " + pfx.String()
		if gw, ok := xen.Param("gw"); ok {
			a, err := netip.ParseAddr(gw)
			if err != nil || !a.Is4() {
				netLog(who + ": gw=" + gw + " is not an IPv4 address; no default route")
			} else {
				xenNet.s.AddRoute(nsstack.Route{Dest: netip.PrefixFrom(netip.IPv4Unspecified(), 0), Gateway: a, NIC: id})
				msg += " gw " + a.String()
			}
		}
		netLog(msg)
		return
	}
	c, err := dhcp.NewClient(xenNet.udp, dhcp.Config{NIC: id, Retransmit: dhcpRetransmit})
	if err != nil {
		netLog(who + ": no address: dhcp: " + err.Error())
		return
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
	}
	go c.Run(context.Background()) // renews, rebinds, starts over after expiry
}

// vifEndpoint is a netfront device as a netstack link endpoint.
type vifEndpoint struct {
	d *netfront.Device
}

func (e *vifEndpoint) MTU() int { return e.d.MTU() }

func (e *vifEndpoint) LinkAddr() header.LinkAddr { return header.LinkAddr(e.d.MAC()) }

func (e *vifEndpoint) WritePacket(p *buffer.Packet) error {
	err := e.d.Send(p.Bytes()) // copies into a granted tx page
	p.Release()
	return err
}

func (e *vifEndpoint) Attach(disp link.Dispatcher) {
	if disp == nil {
		e.d.SetReceiver(nil)
		return
	}
	e.d.SetReceiver(func(frame []byte) { disp.DeliverFrame(buffer.FromBytes(frame)) })
}

func (e *vifEndpoint) Close() error { return e.d.Close() }

// toAddrPort converts a UDP sockaddr to an IPv4 netstack address (wildcards: 0.0.0.0).
func toAddrPort(sa sockaddr) (netip.AddrPort, error) {
	ua, ok := sa.(*UDPAddr)
	if !ok {
		return netip.AddrPort{}, syscall.EAFNOSUPPORT
	}
	a, _ := netip.AddrFromSlice(ua.IP)
	a = a.Unmap()
	if !a.IsValid() || a.IsUnspecified() {
		a = netip.IPv4Unspecified()
	}
	if !a.Is4() {
		return netip.AddrPort{}, errNoIPv6
	}
	return netip.AddrPortFrom(a, uint16(ua.Port)), nil
}

func socket(ctx context.Context, net string, family, sotype, proto int, ipv6only bool, laddr, raddr sockaddr, ctrlCtxFn func(context.Context, string, string, syscall.RawConn) error) (*netFD, error) {
	if sotype != syscall.SOCK_DGRAM || (net != "udp" && net != "udp4" && net != "udp6") {
		what := net
		switch sotype {
		case syscall.SOCK_STREAM:
			what = "TCP"
		case syscall.SOCK_RAW:
			what = "raw IP"
		}
		return nil, &notSupportedError{what}
	}
	if ctrlCtxFn != nil {
		return nil, os.NewSyscallError("socket", syscall.ENOTSUP)
	}
	local := netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
	if laddr != nil {
		var err error
		if local, err = toAddrPort(laddr); err != nil {
			return nil, err
		}
	}
	var remote netip.AddrPort
	if raddr != nil {
		var err error
		if remote, err = toAddrPort(raddr); err != nil {
			return nil, err
		}
	}
	ep, err := netStack().Bind(local, 0)
	if err != nil {
		if err == udp.ErrPortInUse {
			err = syscall.EADDRINUSE
		}
		return nil, os.NewSyscallError("bind", err)
	}
	fd := &netFD{family: family, sotype: sotype, net: net, ep: ep}
	fd.pfd.Sysfd = -1
	if raddr != nil {
		if err := ep.Connect(remote); err != nil {
			ep.Close()
			return nil, os.NewSyscallError("connect", err)
		}
		fd.isConnected = true
	}
	fd.setAddr(fd.udpAddr(ep.LocalAddr()), nil)
	if raddr != nil {
		fd.raddr = fd.udpAddr(ep.RemoteAddr())
	}
	return fd, nil
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
		mac := n.LinkAddr
		out = append(out, Interface{
			Index:        int(n.ID),
			MTU:          n.MTU,
			Name:         n.Name,
			HardwareAddr: HardwareAddr(mac[:]),
			Flags:        FlagUp | FlagBroadcast | FlagRunning,
		})
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
			a := p.Addr().As4()
			out = append(out, &IPNet{IP: IPv4(a[0], a[1], a[2], a[3]), Mask: CIDRMask(p.Bits(), 32)})
		}
	}
	return out, nil
}

func interfaceMulticastAddrTable(ifi *Interface) ([]Addr, error) {
	return nil, nil
}
