package tcp

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"goxen/netstack/header"
)

// FuzzSegment sends arbitrary TCP segments (header, options and payload as given; ports set
// to an established connection's or a closed port, the checksum made right so that they get
// past it) to a stack with a live connection. Nothing may panic or hang, and the memory
// budget must balance (a release past the charges panics). Without -fuzz it runs the seeds.
func FuzzSegment(f *testing.F) {
	seed := func(fl header.TCPFields, data string) []byte {
		n := header.TCPMinSize + len(fl.Options)
		b := make([]byte, n+len(data))
		header.TCP(b).Encode(&fl)
		copy(b[n:], data)
		return b
	}
	f.Add(true, seed(header.TCPFields{Seq: 1, Ack: 1, Flags: header.TCPFlagACK | header.TCPFlagPSH, Window: 1000}, "hello"))
	f.Add(true, seed(header.TCPFields{Flags: header.TCPFlagRST}, ""))
	f.Add(true, seed(header.TCPFields{Flags: header.TCPFlagSYN, Window: 65535,
		Options: header.AppendTCPOptions(nil, &header.TCPOptions{MSS: 1, WindowScale: 14, SACKPermitted: true, TS: true})}, ""))
	f.Add(true, seed(header.TCPFields{Flags: header.TCPFlagACK, Window: 1,
		Options: header.AppendTCPOptions(nil, &header.TCPOptions{WindowScale: -1, SACK: []header.TCPSACKBlock{{Start: 5, End: 2}, {Start: 0, End: 1 << 31}}})}, ""))
	f.Add(false, seed(header.TCPFields{Flags: header.TCPFlagFIN | header.TCPFlagSYN | header.TCPFlagRST | header.TCPFlagURG}, "x"))
	f.Add(true, []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0xff, 0, 0, 0, 0, 0, 0, 1, 2, 3})

	c, _, ea := connected(f)
	budget := c.pr.s.Budget()
	f.Fuzz(func(t *testing.T, toConn bool, seg []byte) {
		if len(seg) < header.TCPMinSize {
			seg = append(seg, make([]byte, header.TCPMinSize-len(seg))...)
		}
		seg = seg[:min(len(seg), 1400)]
		c.pr.mu.Lock()
		local, remote := c.local, c.remote
		c.pr.mu.Unlock()
		dport := local.Port()
		if !toConn {
			dport = 9 // nothing listens: the reset path
		}
		b := make([]byte, header.EthernetMinSize+header.IPv4MinSize+len(seg))
		header.Ethernet(b).Encode(&header.EthernetFields{Dst: macA, Src: macB, Type: header.EtherTypeIPv4})
		header.IPv4(b[header.EthernetMinSize:]).Encode(&header.IPv4Fields{TotalLen: uint16(header.IPv4MinSize + len(seg)),
			TTL: 64, Protocol: header.TCPProtocolNumber, Src: remote.Addr(), Dst: local.Addr()})
		tcp := header.TCP(b[header.EthernetMinSize+header.IPv4MinSize:])
		copy(tcp, seg)
		binary.BigEndian.PutUint16(tcp[0:], remote.Port())
		binary.BigEndian.PutUint16(tcp[2:], dport)
		tcp.SetChecksum(remote.Addr(), local.Addr())
		w := time.AfterFunc(5*time.Second, func() {
			buf := make([]byte, 1<<20)
			os.Stderr.Write(buf[:runtime.Stack(buf, true)])
			panic(fmt.Sprintf("hang on %x", seg))
		})
		ea.Inject(b)
		w.Stop()
		if u := budget.Used(); u < 0 {
			t.Fatalf("budget used %d", u)
		}
	})
}
