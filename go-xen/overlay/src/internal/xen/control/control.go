// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build xen

// Package control answers the toolstack's shutdown requests. A domU's toolstack
// (xl shutdown/reboot) writes "poweroff", "halt", "reboot" or "suspend" to the
// guest's control/shutdown node (docs/misc/xenstore-paths.pandoc); the guest clears
// the node to acknowledge and then acts. Imported for its side effect by package os,
// so every program on xen honours it.
//
// It also publishes what toolstacks show about a guest (guestinfo.go).
//
// A suspend request (xl save, xl migrate) suspends the domain (internal/xen.Suspend): the
// program goes on where it was once the domain is restored.
//
// A poweroff, halt or reboot request becomes SIGTERM for a program that called
// signal.Notify for it; the program then exits by itself, and its clean exit ends
// the domain with the requested reason (runtime/sigqueue_xen.go). Otherwise the
// domain shuts down at once, or, after signal.Ignore(SIGTERM), the request is
// ignored. While a SIGTERM is being handled, further requests are ignored: the
// program is already on its way out, and xl destroy is the way to force it.
package control

import (
	"internal/xen"
	"internal/xen/xenstore"
	"strings"
)

const node = "control/shutdown"

const sigterm = 15 // syscall.SIGTERM

// Implemented in the runtime (runtime/sigqueue_xen.go).
func deliverSignal(sig uint32) int32 // 0: not handled, 1: delivered, 2: ignored
func setExitReason(reason uint32)

const (
	sigDefault   = 0
	sigDelivered = 1
	sigIgnored   = 2
)

func init() {
	c, err := xenstore.Default()
	if err != nil {
		return // dom0 without a toolstack: nobody can ask us to shut down
	}
	go watch(c)
}

// advertise writes the feature flags toolstacks read (XAPI offers suspend and migration
// only to guests with feature-suspend); libxl recreates control/ empty in a restored domain.
func advertise(c *xenstore.Client) {
	for _, f := range []string{"poweroff", "reboot", "suspend"} {
		c.Write("control/feature-"+f, "1")
	}
}

func watch(c *xenstore.Client) {
	advertise(c)
	publishInfo(c)
	go refreshMeminfo(c)
	go followTarget(c)
	w, err := c.Watch(node)
	if err != nil {
		println("xen: cannot watch", node+":", err.Error())
		return
	}
	terminating := false // SIGTERM was delivered for an earlier request
	for {
		w.Next()
		req, err := c.Read(node)
		if err != nil || req == "" {
			continue // the initial event, or our own acknowledgement
		}
		req = strings.TrimSpace(req)
		var reason uint32
		switch req {
		case "poweroff", "halt":
			reason = xen.ShutdownPoweroff
		case "reboot":
			reason = xen.ShutdownReboot
		case "suspend":
			c.Write(node, "") // the acknowledgement libxl waits for (60 s at most)
			suspend(c)
			continue
		default:
			c.Write(node, "")
			println("xen: unsupported shutdown request:", req)
			continue
		}
		c.Write(node, "")
		if terminating {
			println("xen:", req, "requested by the toolstack again: ignored, the program is handling SIGTERM")
			continue
		}
		switch deliverSignal(sigterm) {
		case sigDelivered:
			terminating = true
			setExitReason(reason)
			println("xen:", req, "requested by the toolstack: SIGTERM delivered to the program")
		case sigIgnored:
			println("xen:", req, "requested by the toolstack: ignored, the program ignores SIGTERM")
		default:
			if reason == xen.ShutdownReboot {
				println("xen: reboot requested by the toolstack")
			} else {
				println("xen: shutdown requested by the toolstack:", req)
			}
			xen.Shutdown(reason)
		}
	}
}

// suspend lets the domain be saved (xl save, migration) and says how it came back.
func suspend(c *xenstore.Client) {
	println("xen: suspend requested by the toolstack")
	switch err := xen.Suspend(); err {
	case nil:
		advertise(c)
		publishInfo(c)
		println("xen: resumed in a new domain")
	case xen.ErrSuspendCancelled:
		println("xen: suspend cancelled, running on")
	default:
		println("xen: suspend failed:", err.Error())
	}
}
