// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build xen

package netfront

import (
	"internal/xen"
	"strconv"
	"strings"
)

// Offloads (xen/include/public/io/netif.h, "feature-*" nodes). Each side writes what it
// takes: the backend (Linux netback) offers scatter-gather, GSO for TCP over IPv4 and IPv6
// and IPv6 checksum offload in its directory; the frontend says in its own what it accepts
// on receive. Checksum offload for IPv4 is on unless a side writes feature-no-csum-offload=1.
//
//	feature-sg                 frames of several slots (up to 64 KiB) both ways
//	feature-gso-tcpv4, -tcpv6  TCP segments larger than the MTU, cut by the receiving side's
//	                           device (netback only takes them with sg and checksums on)
//	feature-ipv6-csum-offload  partial checksums on IPv6 packets
//
// The guest's boot parameter netfront= turns offloads off, for a backend that mishandles
// them or to measure without them: a comma-separated list of nosg (no multi-slot frames,
// hence no GSO), nogso, nocsum (complete checksums both ways, hence no GSO). The same
// fallbacks run when the backend does not offer a feature. It also bounds the queues
// (netfront.go): noqueues (one queue, the flat xenstore layout) or queues=N.

// Features are the offloads in use on a connected device.
type Features struct {
	SG       bool // we may send multi-slot frames (both sides offer feature-sg)
	TxCsumV4 bool // we may send IPv4 TCP/UDP with a partial checksum (NETTXF_csum_blank)
	TxCsumV6 bool // and IPv6
	TxGSOv4  bool // we may send TCP/IPv4 segments up to 64 KiB for netback to cut
	TxGSOv6  bool
	RxCsum   bool // we take partial and validated checksums (NETRXF_csum_blank, data_validated)
	RxGSO    bool // we take TCP segments up to 64 KiB
}

// params is what the netfront= boot parameter asks for.
type params struct {
	sg, gso, csum bool // offloads the guest takes
	queues        int  // the most queues it uses
}

// localParams reads the netfront= boot parameter.
func localParams() params {
	p := params{sg: true, gso: true, csum: true, queues: maxQueues}
	v, ok := xen.Param("netfront")
	if !ok {
		return p
	}
	for _, w := range strings.Split(v, ",") {
		switch {
		case w == "nosg":
			p.sg = false
		case w == "nogso":
			p.gso = false
		case w == "nocsum":
			p.csum = false
		case w == "noqueues":
			p.queues = 1
		case strings.HasPrefix(w, "queues="):
			n, err := strconv.Atoi(w[len("queues="):])
			if err != nil || n < 1 {
				println("netfront: netfront=" + v + ": bad " + strconv.Quote(w) + " (want queues=N, N >= 1); ignored")
				continue
			}
			p.queues = n
		case w == "":
		default:
			println("netfront: netfront=" + v + ": unknown word " + strconv.Quote(w) + " (want nosg, nogso, nocsum, noqueues, queues=N); ignored")
		}
	}
	// Linux's netback (like any Linux device) takes GSO only with scatter-gather and
	// checksum offload: without either, no GSO.
	p.gso = p.gso && p.sg && p.csum
	return p
}

// negotiate settles the device's features from the backend's nodes and the local
// choice, before the handshake writes ours. Called with every queue's txMu and rxMu held, or
// before the device runs.
func (d *Device) negotiate(p params) {
	sg, gso, csum := p.sg, p.gso, p.csum
	back := d.bus.BackendFeature
	bsg := back("feature-sg")
	f := Features{
		SG:       sg && bsg,
		TxCsumV4: csum && !back("feature-no-csum-offload"),
		RxCsum:   csum,
		RxGSO:    gso,
	}
	f.TxCsumV6 = f.TxCsumV4 && back("feature-ipv6-csum-offload")
	f.TxGSOv4 = gso && f.SG && f.TxCsumV4 && back("feature-gso-tcpv4")
	f.TxGSOv6 = gso && f.SG && f.TxCsumV6 && back("feature-gso-tcpv6")
	d.feat = f
	d.featNow.Store(&f)
	d.rxSG = sg // what we told the backend we take (it may send multi-slot frames)
}

// featureKeys are the frontend's feature nodes for publish.
func (d *Device) featureKeys() [][2]string {
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	f := d.feat
	return [][2]string{
		{"feature-sg", b(d.rxSG)},
		{"feature-gso-tcpv4", b(f.RxGSO)},
		{"feature-gso-tcpv6", b(f.RxGSO)},
		{"feature-no-csum-offload", b(!f.RxCsum)},
		{"feature-ipv6-csum-offload", b(f.RxCsum)},
	}
}

// Features returns the offloads in use (they may change when a restored domain connects
// to a new backend).
// It takes no lock: the stack asks for every packet.
func (d *Device) Features() Features {
	if f := d.featNow.Load(); f != nil {
		return *f
	}
	return Features{}
}

// MaxFrame is the longest frame Send takes now: 64 KiB with scatter-gather, else the MTU's.
func (d *Device) MaxFrame() int {
	q := d.queues[0]
	q.txMu.Lock()
	defer q.txMu.Unlock()
	return d.maxTxFrame()
}

func (d *Device) maxTxFrame() int {
	if d.feat.SG {
		return xen.XEN_NETIF_MAX_TX_SIZE
	}
	return maxFrame
}
