//go:build linux

// Command tapstack runs netstack on a Linux TAP device, for the host real-peer tests
// (tests/host): it answers ping, echoes UDP on -echo, and takes line commands on stdin:
//
//	stats                   print "STATS <json counters>" (with Fault.* when -drop/-dup/-reorder/-delayrate)
//	arp                     print "ARP <json neighbour table>"
//	udpcall ADDR:PORT TEXT  send TEXT from a connected ephemeral port, print "REPLY <text>" or
//	                        "ERROR <err>" (e.g. "connection refused" after ICMP port unreachable)
//	renew                   renew the DHCP lease, print "RENEWED <addr>" or "ERROR <err>"
//	tcpsend ADDR:PORT N     connect, send N pseudo-random bytes, half-close, read the reply to
//	                        EOF; print "TCPSENT <sha256 hex of the bytes sent> <reply>" or "ERROR <err>"
//	tcpconnect ADDR:PORT    connect and close; print "CONNECTED" or "ERROR <err>"
//	addrs                   print "ADDRS <json list of the NIC's usable addresses>"
//	addaddr ADDR/PREFIX     add an address (IPv6: usable once DAD passed); print "ADDED" or "ERROR <err>"
//	ping ADDR SIZE          one echo request of SIZE bytes (ICMP or ICMPv6); print "PONG <rtt>"
//	                        or "ERROR <err>" after 3 s
//	routes                  print "ROUTES <json routing table>"
//	quit                    exit (so does end of input)
//
// TCP services: an echo on -tcpecho; a sink on -tcpsink that reads to EOF and answers with
// the sha256 hex of what it read; and a tiny HTTP responder (net/http through adapters/gonet)
// on -http: "/" says hello, "/bytes/N" returns N bytes (a pseudo-random block repeated) and "/bytes/N/sha256" their hash.
//
// -cc picks TCP's congestion control (cubic, the default, or reno); -nosack, -nots and
// -notlp turn SACK, timestamps and tail loss probes off.
//
// IPv6 is on with -ip6 (a static address, e.g. fd00:77::2/64) or -slaac (autoconfiguration
// from router advertisements); both give the link-local address too. The UDP echo and the
// TCP services listen on :: (both families).
//
// It prints "READY <addr/prefix>" once the IPv4 address is configured (static or DHCP), or
// "READY -" with -addr none.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"goxen/netstack/dhcp"
	"goxen/netstack/header"
	"goxen/netstack/link"
	"goxen/netstack/link/fault"
	"goxen/netstack/link/pcap"
	"goxen/netstack/link/tap"
	"goxen/netstack/stack"
	"goxen/netstack/transport/tcp"
	"goxen/netstack/transport/udp"
)

func main() {
	tapName := flag.String("tap", "", "TAP device name (required)")
	macFlag := flag.String("mac", "02:00:00:6e:73:01", "the stack's MAC address")
	mtu := flag.Int("mtu", 1500, "MTU")
	addrFlag := flag.String("addr", "", "static address, e.g. 10.77.0.2/24")
	gwFlag := flag.String("gw", "", "default gateway")
	useDHCP := flag.Bool("dhcp", false, "configure the address with DHCP")
	ip6Flag := flag.String("ip6", "", "static IPv6 address, e.g. fd00:77::2/64 (turns IPv6 on)")
	slaac := flag.Bool("slaac", false, "turn IPv6 on with autoconfiguration from router advertisements")
	echoPort := flag.Int("echo", 7, "UDP echo port (0: none)")
	tcpEcho := flag.Int("tcpecho", 7, "TCP echo port (0: none)")
	tcpSink := flag.Int("tcpsink", 9, "TCP sink port answering with the sha256 of what it read (0: none)")
	httpPort := flag.Int("http", 80, "HTTP port (0: none)")
	pcapFile := flag.String("pcap", "", "record frames to this pcap file")
	drop := flag.Float64("drop", 0, "drop this fraction of frames in each direction (link/fault)")
	dup := flag.Float64("dup", 0, "duplicate this fraction of frames in each direction")
	reorder := flag.Float64("reorder", 0, "reorder this fraction of frames in each direction")
	delay := flag.Duration("delay", 0, "delay this long the frames chosen by -delayrate")
	delayRate := flag.Float64("delayrate", 0, "delay this fraction of frames in each direction by -delay")
	seed := flag.Int64("seed", 1, "fault injection seed")
	ccFlag := flag.String("cc", tcp.CCCubic, "TCP congestion control: cubic or reno")
	noSACK := flag.Bool("nosack", false, "turn TCP SACK off (RFC 2018; loss recovery falls back to NewReno)")
	noTS := flag.Bool("nots", false, "turn TCP timestamps off (RFC 7323)")
	noTLP := flag.Bool("notlp", false, "turn TCP tail loss probes off (RFC 8985 7)")
	noRACK := flag.Bool("norack", false, "turn RACK loss detection off (RFC 8985 6; RFC 6675's DupThresh instead)")
	offload := flag.Bool("offload", true, "checksum and segmentation offload with Linux (IFF_VNET_HDR); off when faults are injected, which act on wire-sized frames")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to this file until quit")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		check(err)
		check(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile()
	}
	if *ccFlag != tcp.CCCubic && *ccFlag != tcp.CCReno {
		fmt.Fprintf(os.Stderr, "tapstack: -cc %q: want cubic or reno\n", *ccFlag)
		os.Exit(2)
	}
	if *tapName == "" || (*addrFlag == "") == !*useDHCP {
		fmt.Fprintln(os.Stderr, "usage: tapstack -tap NAME (-addr A/N [-gw G] | -dhcp)")
		os.Exit(2)
	}
	mac, err := header.ParseLinkAddr(*macFlag)
	check(err)
	faulty := *drop > 0 || *dup > 0 || *reorder > 0 || *delayRate > 0
	open := tap.Open
	if !*offload || faulty {
		open = tap.OpenPlain
	}
	tp, err := open(*tapName, *mtu, mac)
	check(err)
	var ep link.Endpoint = tp
	if *pcapFile != "" {
		f, err := os.Create(*pcapFile)
		check(err)
		defer f.Close()
		ep, err = pcap.New(tp, f, 65535)
		check(err)
	}
	var faults *fault.Endpoint
	if faulty {
		faults = fault.New(ep, fault.Config{Drop: *drop, Duplicate: *dup, Reorder: *reorder,
			Delay: *delay, DelayRate: *delayRate, Seed: *seed})
		ep = faults
	}
	s := stack.New(stack.Options{Logf: func(msg string) { fmt.Fprintln(os.Stderr, "netstack:", msg) }})
	check(s.AddNIC(1, *tapName, ep))
	if *ip6Flag != "" || *slaac {
		check(s.EnableIPv6(1, stack.IPv6Config{Autoconf: *slaac}))
	}
	if *ip6Flag != "" {
		pfx, err := netip.ParsePrefix(*ip6Flag)
		check(err)
		check(s.AddAddress(1, pfx))
	}
	u := udp.New(s)
	tcpp := tcp.NewWithOptions(s, tcp.Options{CongestionControl: *ccFlag, NoSACK: *noSACK, NoTimestamps: *noTS,
		NoTLP: *noTLP, NoRACK: *noRACK})

	var client *dhcp.Client
	if *useDHCP {
		client, err = dhcp.NewClient(u, dhcp.Config{NIC: 1, Hostname: "tapstack", Retransmit: 500 * time.Millisecond,
			Logf: func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }})
		check(err)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		l, err := client.Acquire(ctx)
		cancel()
		check(err)
		fmt.Println("READY", l.Addr)
	} else if *addrFlag == "none" {
		fmt.Println("READY -")
	} else {
		pfx, err := netip.ParsePrefix(*addrFlag)
		check(err)
		check(s.AddAddress(1, pfx))
		if *gwFlag != "" {
			gw, err := netip.ParseAddr(*gwFlag)
			check(err)
			s.AddRoute(stack.Route{Dest: netip.MustParsePrefix("0.0.0.0/0"), Gateway: gw, NIC: 1})
		}
		fmt.Println("READY", pfx)
	}
	if *echoPort != 0 {
		e, err := u.Bind(netip.AddrPortFrom(netip.IPv6Unspecified(), uint16(*echoPort)), 0)
		check(err)
		go func() {
			buf := make([]byte, 65536)
			for {
				n, from, err := e.ReadFrom(buf)
				if err != nil {
					return
				}
				e.WriteTo(buf[:n], from)
			}
		}()
	}

	startTCP(tcpp, *tcpEcho, *tcpSink, *httpPort)

	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "stats":
			m := s.Snapshot()
			if faults != nil {
				fs := faults.Stats()
				m["Fault.Dropped"], m["Fault.Duplicated"], m["Fault.Reordered"] = fs.Dropped, fs.Duplicated, fs.Reordered
				m["Fault.Delayed"] = fs.Delayed
			}
			maps.Copy(m, tcpp.Snapshot())
			b, _ := json.Marshal(m)
			fmt.Println("STATS", string(b))
		case "arp":
			var t []map[string]string
			for _, e := range s.ARPTable() {
				t = append(t, map[string]string{"addr": e.Addr.String(), "mac": e.LinkAddr.String(), "resolved": fmt.Sprint(e.Resolved)})
			}
			b, _ := json.Marshal(t)
			fmt.Println("ARP", string(b))
		case "udpcall":
			if len(f) < 3 {
				fmt.Println("ERROR usage: udpcall ADDR:PORT TEXT")
				continue
			}
			fmt.Println(udpcall(u, f[1], strings.Join(f[2:], " ")))
		case "renew":
			if client == nil {
				fmt.Println("ERROR not using DHCP")
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			l, err := client.Renew(ctx)
			cancel()
			if err != nil {
				fmt.Println("ERROR", err)
			} else {
				fmt.Println("RENEWED", l.Addr)
			}
		case "tcpsend":
			if len(f) != 3 {
				fmt.Println("ERROR usage: tcpsend ADDR:PORT N")
				continue
			}
			fmt.Println(tcpsend(tcpp, f[1], f[2]))
		case "tcpconnect":
			if len(f) != 2 {
				fmt.Println("ERROR usage: tcpconnect ADDR:PORT")
				continue
			}
			fmt.Println(tcpconnect(tcpp, f[1]))
		case "ping":
			if len(f) != 3 {
				fmt.Println("ERROR usage: ping ADDR SIZE")
				continue
			}
			fmt.Println(ping(s, f[1], f[2]))
		case "addaddr":
			pfx, err := netip.ParsePrefix(strings.Join(f[1:], ""))
			if err == nil {
				err = s.AddAddress(1, pfx)
			}
			if err != nil {
				fmt.Println("ERROR", err)
			} else {
				fmt.Println("ADDED")
			}
		case "addrs":
			out := []string{}
			for _, n := range s.NICs() {
				for _, a := range n.Addrs {
					out = append(out, a.String())
				}
			}
			b, _ := json.Marshal(out)
			fmt.Println("ADDRS", string(b))
		case "routes":
			out := []map[string]string{}
			for _, r := range s.Routes() {
				gw := ""
				if r.Gateway.IsValid() {
					gw = r.Gateway.String()
				}
				out = append(out, map[string]string{"dest": r.Dest.String(), "gateway": gw})
			}
			b, _ := json.Marshal(out)
			fmt.Println("ROUTES", string(b))
		case "quit":
			s.Close()
			return
		default:
			fmt.Println("ERROR unknown command", f[0])
		}
	}
	s.Close()
}

func udpcall(u *udp.Protocol, dst, text string) string {
	ap, err := netip.ParseAddrPort(dst)
	if err != nil {
		return "ERROR " + err.Error()
	}
	e, err := u.Bind(netip.AddrPortFrom(netip.IPv6Unspecified(), 0), 0)
	if err != nil {
		return "ERROR " + err.Error()
	}
	defer e.Close()
	if err := e.Connect(ap); err != nil { // so an ICMP port unreachable fails the read at once
		return "ERROR " + err.Error()
	}
	buf := make([]byte, 65536)
	for try := 0; try < 3; try++ {
		if _, err := e.Write([]byte(text)); err != nil {
			return "ERROR " + err.Error()
		}
		e.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := e.Read(buf)
		if err == nil {
			return "REPLY " + string(buf[:n])
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return "ERROR " + err.Error()
		}
	}
	return "ERROR no reply"
}

func ping(s *stack.Stack, dst, size string) string {
	a, err := netip.ParseAddr(dst)
	if err != nil {
		return "ERROR " + err.Error()
	}
	n, err := strconv.Atoi(size)
	if err != nil || n < 0 || n > 65000 {
		return "ERROR bad size " + size
	}
	payload := make([]byte, n)
	for i := range payload {
		payload[i] = byte(i * 13)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	rtt, err := s.Ping(ctx, a, payload)
	if err != nil {
		return "ERROR " + err.Error()
	}
	return "PONG " + rtt.String()
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "tapstack:", err)
		os.Exit(1)
	}
}
