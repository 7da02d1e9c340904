// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Signals on xen. Notify, Stop, Ignore, Ignored and Reset work as on Unix (the receive
// loop of signal_unix.go parks its goroutine in the runtime), but only one signal is
// ever delivered:
//
//   - SIGTERM, when the toolstack asks the domain to shut down or reboot
//     (xl shutdown, xl reboot: "poweroff", "halt" or "reboot" in control/shutdown) and
//     the program called Notify for SIGTERM. The program then ends when it wants to:
//     os.Exit or returning from main powers the domain off, or reboots it if a reboot
//     was requested. Without Notify (or after Reset or Stop) the domain shuts down at
//     once, as with SIGTERM's default action; after Ignore(SIGTERM) the request is
//     ignored, and only xl destroy ends the domain. A second request while the first
//     is being handled is ignored too: the program is already shutting down.
//   - "suspend" requests are not supported (the console says so).
//
// There is no terminal, so SIGINT (os.Interrupt, Ctrl-C) is never delivered, nor is
// any other signal; Notify accepts them all the same, so portable programs need no
// changes.

package signal
