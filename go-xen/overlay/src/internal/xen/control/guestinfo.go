// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build xen

package control

// What the guest tells toolstacks about itself, in the xenstore nodes a Linux guest's agent
// (XenServer's xe-guest-utilities, xen-guest-agent) writes and XAPI / Xen Orchestra show:
//
//	data/os_name, data/os_distro, data/os_uname,  what runs here (go-xen and the Go version)
//	data/os_majorver, data/os_minorver
//	data/meminfo_total, data/meminfo_free         KiB: the domain's memory, and what the Go
//	                                              runtime has not taken (every minute)
//	attr/vif/<n>/ipv4/0                           vif n's address (PublishAddr, from net)
//	attr/PVAddons/Installed                       1: the guest speaks the PV protocols
//	control/feature-balloon                       1: memory/target is followed (balloon.go)
//	data/updated                                  when the nodes above were last written
//
// They are written again after a restore (the new domain starts without them).

import (
	"internal/xen"
	"internal/xen/xenstore"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// meminfoEvery is how often data/meminfo_free is refreshed (xe-guest-utilities: 60 s).
const meminfoEvery = time.Minute

var (
	addrMu sync.Mutex
	addrs  = map[int]string{} // vif -> IPv4 address, for republishing after a restore
)

// PublishAddr records vif's IPv4 address as attr/vif/<vif>/ipv4/0.
func PublishAddr(vif int, addr string) {
	addrMu.Lock()
	addrs[vif] = addr
	addrMu.Unlock()
	if c, err := xenstore.Default(); err == nil {
		writeAddr(c, vif, addr)
	}
}

func writeAddr(c *xenstore.Client, vif int, addr string) {
	c.Write("attr/vif/"+strconv.Itoa(vif)+"/ipv4/0", addr)
}

// publishInfo writes every node above once.
func publishInfo(c *xenstore.Client) {
	v := runtime.Version() // "go1.27.3"
	major, minor := "0", "0"
	if f := strings.Split(strings.TrimPrefix(v, "go"), "."); len(f) >= 2 {
		major, minor = f[0], f[1]
	}
	for _, kv := range [][2]string{
		{"data/os_name", "go-xen unikernel (" + v + ")"},
		{"data/os_distro", "go-xen"},
		{"data/os_uname", v},
		{"data/os_majorver", major},
		{"data/os_minorver", minor},
		{"data/meminfo_total", strconv.FormatInt(xen.MemoryBytes()>>10, 10)},
		{"attr/PVAddons/Installed", "1"},
		{"control/feature-balloon", "1"},
	} {
		c.Write(kv[0], kv[1])
	}
	addrMu.Lock()
	for vif, a := range addrs {
		writeAddr(c, vif, a)
	}
	addrMu.Unlock()
	publishMeminfo(c)
}

// publishMeminfo writes data/meminfo_free: the domain's memory less what the Go runtime
// obtained (MemStats.Sys; the image is part of neither).
func publishMeminfo(c *xenstore.Client) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	free := xen.MemoryBytes() - int64(m.Sys)
	if free < 0 {
		free = 0
	}
	c.Write("data/meminfo_free", strconv.FormatInt(free>>10, 10))
	c.Write("data/updated", time.Now().UTC().Format("Mon Jan _2 15:04:05 2006"))
}

// refreshMeminfo keeps data/meminfo_free current.
func refreshMeminfo(c *xenstore.Client) {
	for range time.Tick(meminfoEvery) {
		publishMeminfo(c)
	}
}
