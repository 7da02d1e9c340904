// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package net

// maxListenerBacklog is the backlog every Listen passes to netstack, which bounds the
// listener's accept queue with it: Linux's default net.core.somaxconn, 4096 since Linux
// 5.4. (sock_stub.go, shared with js and wasip1, gives syscall.SOMAXCONN, 128: a burst of
// connects overran it.) Half-open connections have their own bound
// (tcp.Options.SynBacklog, SYN cookies beyond), and netconns= and memory pressure
// (netpressure_xen.go) bound all of the guest's connections, so a deep accept queue
// cannot take the memory the program needs.
func maxListenerBacklog() int { return 4096 }
