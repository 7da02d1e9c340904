// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Signals on xen: nothing ever sends one, so Notify, Ignore and Reset keep their
// bookkeeping (Ignored answers as elsewhere) but no goroutine waits for signals
// to arrive. Waiting would park the only M in the runtime's signal note forever.

package signal

import (
	"os"
	"syscall"
)

// Defined by the runtime package (sigqueue.go).
func signal_disable(uint32)
func signal_enable(uint32)
func signal_ignore(uint32)
func signal_ignored(uint32) bool

const numSig = 65 // as on the Unix ports: signal numbers 0-64

func signum(sig os.Signal) int {
	s, ok := sig.(syscall.Signal)
	if !ok || s < 0 || int(s) >= numSig {
		return -1
	}
	return int(s)
}

func enableSignal(sig int)       { signal_enable(uint32(sig)) }
func disableSignal(sig int)      { signal_disable(uint32(sig)) }
func ignoreSignal(sig int)       { signal_ignore(uint32(sig)) }
func signalIgnored(sig int) bool { return signal_ignored(uint32(sig)) }
