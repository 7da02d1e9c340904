// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package net

import (
	"internal/xen"
	"strconv"
	"time"
)

// exitDrainLimit bounds how long a clean exit waits for TCP data to be delivered.
const exitDrainLimit = 10 * time.Second

// On Unix the kernel outlives the process and still delivers what it wrote to its
// sockets, closed ones included; on xen the domain ends with the program. So a clean
// exit (main returns, os.Exit) first waits, at most exitDrainLimit, until every TCP
// connection's data and FIN are acknowledged.
func init() {
	xen.AtExit(drainTCPAtExit)
}

func drainTCPAtExit() {
	p := xenNet.tcp
	if p == nil {
		return // the stack never started
	}
	deadline := time.Now().Add(exitDrainLimit)
	for {
		n := p.Undelivered()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			netLog("exit: " + strconv.Itoa(n) + " bytes of TCP data not delivered after " +
				exitDrainLimit.String())
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
