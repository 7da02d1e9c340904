// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// /proc/net/netstack: the network's counters for the program itself and for whoever
// watches it (kvstore's "stats netstack"), one "Group.Name value" line each, sorted:
//
//	Link, ARP, IP, ICMP, UDP   netstack's counters (netstack/stack/stats.go, after MIB-II)
//	TCP                        netstack's TCP counters, Connections and MaxConnections
//	Budget                     the memory budget: Limit, Used, Peak (bytes), Refused
//	eth<N>                     vif N's netfront counters (Broken: 1 once the backend broke
//	                           the ring protocol and the device stopped); Queues, the queues in
//	                           use, and each one's QueueI{Tx,Rx}Frames, QueueIEvents and
//	                           QueueIBadResponses
//
// The file is empty until the program first uses the network (the stack starts then).

package net

import (
	"internal/xen/genfile"
	"internal/xen/netfront"
	"slices"
	"strconv"
	"strings"
)

// netstatsPath is the generated file (syscall/fs_xen.go lists it).
const netstatsPath = "/proc/net/netstack"

type namedVif struct {
	name string
	d    *netfront.Device
}

// provideNetstats makes /proc/net/netstack show the started stack and its vifs.
func provideNetstats(vifs []namedVif) {
	genfile.Provide(netstatsPath, func() string { return netstats(vifs) })
}

func netstats(vifs []namedVif) string {
	m := xenNet.s.Snapshot()
	for k, v := range xenNet.tcp.Snapshot() {
		m[k] = v
	}
	for _, vif := range vifs {
		st := vif.d.Stats()
		broken := uint64(0)
		if st.Broken {
			broken = 1
		}
		for k, v := range map[string]uint64{
			"RxFrames": st.RxFrames, "RxBytes": st.RxBytes, "RxErrors": st.RxErrors,
			"RxDropped": st.RxDropped, "TxFrames": st.TxFrames, "TxBytes": st.TxBytes,
			"TxErrors": st.TxErrors, "TxWaits": st.TxWaits, "Events": st.Events,
			"BadResponses": st.BadResponses, "Broken": broken, "Restores": st.Restores,
			"RxGSO": st.RxGSO, "RxMultiSlot": st.RxMultiSlot, "TxGSO": st.TxGSO,
		} {
			m[vif.name+"."+k] = v
		}
		m[vif.name+".Queues"] = uint64(len(st.Queues))
		for i, q := range st.Queues {
			p := vif.name + ".Queue" + strconv.Itoa(i)
			m[p+"TxFrames"], m[p+"RxFrames"] = q.TxFrames, q.RxFrames
			m[p+"Events"], m[p+"BadResponses"] = q.Events, q.BadResponses
		}
		f := vif.d.Features()
		for k, v := range map[string]bool{"SG": f.SG, "TxCsumV4": f.TxCsumV4, "TxCsumV6": f.TxCsumV6,
			"TxGSOv4": f.TxGSOv4, "TxGSOv6": f.TxGSOv6, "RxCsum": f.RxCsum, "RxGSO": f.RxGSO} {
			m[vif.name+".Feature"+k] = boolCount(v)
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + " " + strconv.FormatUint(m[k], 10) + "\n")
	}
	return b.String()
}

func boolCount(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
