// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build xen

// Package control answers the toolstack's shutdown requests. A domU's toolstack
// (xl shutdown/reboot) writes "poweroff", "halt", "reboot" or "suspend" to the
// guest's control/shutdown node (docs/misc/xenstore-paths.pandoc); the guest clears
// the node to acknowledge and then acts. Imported for its side effect by package os,
// so every program on xen honours it.
package control

import (
	"internal/xen"
	"internal/xen/xenstore"
	"strings"
)

const node = "control/shutdown"

func init() {
	c, err := xenstore.Default()
	if err != nil {
		return // dom0 without a toolstack: nobody can ask us to shut down
	}
	go watch(c)
}

func watch(c *xenstore.Client) {
	// Advertise what we understand (feature flags read by libxl).
	c.Write("control/feature-poweroff", "1")
	c.Write("control/feature-reboot", "1")
	w, err := c.Watch(node)
	if err != nil {
		println("xen: cannot watch", node+":", err.Error())
		return
	}
	for {
		w.Next()
		req, err := c.Read(node)
		if err != nil || req == "" {
			continue // the initial event, or our own acknowledgement
		}
		switch strings.TrimSpace(req) {
		case "poweroff", "halt":
			c.Write(node, "")
			println("xen: shutdown requested by the toolstack:", req)
			xen.Shutdown(xen.ShutdownPoweroff)
		case "reboot":
			c.Write(node, "")
			println("xen: reboot requested by the toolstack")
			xen.Shutdown(xen.ShutdownReboot)
		default:
			println("xen: unsupported shutdown request:", req)
			c.Write(node, "")
		}
	}
}
