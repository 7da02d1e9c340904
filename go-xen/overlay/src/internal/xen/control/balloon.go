// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build xen

package control

// The balloon's driver: the toolstack sets the domain's memory target in memory/target (KiB;
// xl mem-set, XAPI's squeezed) and the guest follows it (internal/xen.SetMemoryTarget: pages
// go back to Xen, or come back from it, within the memory the domain started with). Each
// change is reported on the console, with what the heap allowed.

import (
	"internal/xen"
	"internal/xen/xenstore"
	"strconv"
	"strings"
)

const targetNode = "memory/target"

func followTarget(c *xenstore.Client) {
	w, err := c.Watch(targetNode)
	if err != nil {
		println("xen: cannot watch", targetNode+":", err.Error())
		return
	}
	last := int64(-1)
	for {
		w.Next()
		v, err := c.Read(targetNode)
		if err != nil {
			continue
		}
		kib, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || kib <= 0 {
			println("xen: memory target", strconv.Quote(v), "is not a size in KiB: ignored")
			continue
		}
		if kib == last {
			continue
		}
		first := last < 0
		last = kib
		have := xen.SetMemoryTarget(kib)
		if first && have == kib {
			continue // the target the domain was created with
		}
		msg := "xen: memory target " + strconv.FormatInt(kib, 10) + " KiB: the domain has " +
			strconv.FormatInt(have, 10) + " KiB"
		if have > kib {
			msg += " (the rest is in use)"
		}
		println(msg)
	}
}
