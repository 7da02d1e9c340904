// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build xen

package netfront

import (
	"encoding/binary"
	"flag"
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// Run as a domU with a vif (tests/xen3/test_netfront.py): the kernel command line
// carries -test.v and these flags.
var (
	localIP  = flag.String("nf.ip", "10.0.0.2", "IPv4 address the ARP request claims")
	targetIP = flag.String("nf.target", "10.0.0.1", "IPv4 address to ARP for")
	burst    = flag.Int("nf.burst", 1000, "frames of ethertype 0x88b5 to send (more than the ring holds)")
	expect   = flag.Int("nf.expect", 0, "frames of ethertype 0x88b6 to wait for from the peer")
	show     = flag.Int("nf.show", 8, "received frames to print")
	hold     = flag.Bool("nf.hold", false, "keep the first vif open and block (for xl shutdown)")
)

const (
	etherARP   = 0x0806
	etherBurst = 0x88b5 // IEEE local experimental ethertypes
	etherPeer  = 0x88b6
	etherEcho  = 0x88b7 // the peer frames, echoed from the receiver callback
)

var broadcast = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

func macString(m [6]byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

func ethernet(dst, src [6]byte, typ uint16, payload []byte) []byte {
	f := make([]byte, 14, 14+len(payload))
	copy(f[0:6], dst[:])
	copy(f[6:12], src[:])
	binary.BigEndian.PutUint16(f[12:], typ)
	return append(f, payload...)
}

func arpRequest(mac [6]byte, from, to netip.Addr) []byte {
	p := make([]byte, 28)
	binary.BigEndian.PutUint16(p[0:], 1)      // hardware: Ethernet
	binary.BigEndian.PutUint16(p[2:], 0x0800) // protocol: IPv4
	p[4], p[5] = 6, 4
	binary.BigEndian.PutUint16(p[6:], 1) // request
	copy(p[8:14], mac[:])
	f4, t4 := from.As4(), to.As4()
	copy(p[14:18], f4[:])
	copy(p[24:28], t4[:])
	return ethernet(broadcast, mac, etherARP, p)
}

func TestVif(t *testing.T) {
	ids, err := Devices()
	if err != nil {
		t.Skipf("no xenstore: %v", err)
	}
	if len(ids) == 0 {
		t.Skip("no vif in device/vif")
	}
	from := netip.MustParseAddr(*localIP)
	to := netip.MustParseAddr(*targetIP)
	for _, id := range ids {
		d, err := Open(id)
		if err != nil {
			t.Fatalf("Open(%d): %v", id, err)
		}
		mac := d.MAC()
		fmt.Printf("netfront: vif %d mac %s mtu %d queues %d\n", id, macString(mac), d.MTU(), d.Queues())

		// The callback echoes peer frames itself: Send from the rx goroutine must not
		// deadlock when the tx ring is full.
		frames := make(chan []byte, 4096)
		d.SetReceiver(func(fr *Frame) {
			f := fr.Bytes()
			if len(f) >= 18 && binary.BigEndian.Uint16(f[12:]) == etherPeer {
				if err := d.Send(ethernet([6]byte(f[6:12]), mac, etherEcho, f[14:])); err != nil {
					fmt.Printf("netfront: echo: %v\n", err)
				}
			}
			frames <- f
		})

		// ARP for the peer until it answers: proves tx and rx.
		var reply []byte
		shown := 0
		resend := time.NewTicker(time.Second)
		deadline := time.After(20 * time.Second)
	arp:
		for {
			if err := d.Send(arpRequest(mac, from, to)); err != nil {
				t.Fatalf("Send(ARP): %v", err)
			}
			for {
				select {
				case f := <-frames:
					shown = showFrame(f, shown)
					if len(f) >= 42 && binary.BigEndian.Uint16(f[12:]) == etherARP &&
						binary.BigEndian.Uint16(f[20:]) == 2 && netip.AddrFrom4([4]byte(f[28:32])) == to {
						reply = f
						break arp
					}
				case <-resend.C:
					continue arp
				case <-deadline:
					t.Fatalf("no ARP reply from %v within 20 s; stats %+v", to, d.Stats())
				}
			}
		}
		resend.Stop()
		fmt.Printf("netfront: vif %d: ARP reply: %v is at %s\n", id, to, macString([6]byte(reply[22:28])))

		// A burst longer than the tx ring: Send must block, never fail or drop.
		t0 := time.Now()
		payload := make([]byte, 1000)
		for i := 0; i < *burst; i++ {
			binary.BigEndian.PutUint32(payload, uint32(i))
			if err := d.Send(ethernet(broadcast, mac, etherBurst, payload)); err != nil {
				t.Fatalf("Send(burst %d): %v", i, err)
			}
		}
		st := d.Stats()
		fmt.Printf("netfront: vif %d: sent %d frames of %d bytes in %v, tx waits %d, tx errors %d\n",
			id, *burst, 14+len(payload), time.Since(t0).Round(time.Millisecond), st.TxWaits, st.TxErrors)
		if st.TxErrors != 0 {
			t.Errorf("tx errors: %d", st.TxErrors)
		}

		if *expect > 0 {
			fmt.Printf("netfront: vif %d: waiting for %d frames of ethertype %#x\n", id, *expect, etherPeer)
			got := 0
			next := uint32(0)
			outOfOrder := 0
			timeout := time.After(60 * time.Second)
			for got < *expect {
				select {
				case f := <-frames:
					shown = showFrame(f, shown)
					if len(f) >= 18 && binary.BigEndian.Uint16(f[12:]) == etherPeer {
						if binary.BigEndian.Uint32(f[14:]) != next {
							outOfOrder++
						}
						next = binary.BigEndian.Uint32(f[14:]) + 1
						got++
					}
				case <-timeout:
					t.Fatalf("received %d of %d peer frames; stats %+v", got, *expect, d.Stats())
				}
			}
			fmt.Printf("netfront: vif %d: received %d peer frames, %d out of sequence\n", id, got, outOfOrder)
		}

		if *hold {
			fmt.Printf("netfront: vif %d: holding the device open\n", id)
			select {} // xl shutdown: control calls xen.Shutdown, which runs d.Close
		}

		st = d.Stats()
		fmt.Printf("netfront: vif %d stats: rx %d frames %d bytes, rx errors %d, rx dropped %d, "+
			"tx %d frames %d bytes, events %d\n", id, st.RxFrames, st.RxBytes, st.RxErrors,
			st.RxDropped, st.TxFrames, st.TxBytes, st.Events)
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		fmt.Printf("netfront: vif %d closed\n", id)
	}
}

func showFrame(f []byte, shown int) int {
	if shown >= *show {
		return shown
	}
	typ := uint16(0)
	if len(f) >= 14 {
		typ = binary.BigEndian.Uint16(f[12:])
	}
	fmt.Printf("netfront: rx frame %d: %d bytes, ethertype %#04x\n", shown, len(f), typ)
	return shown + 1
}
