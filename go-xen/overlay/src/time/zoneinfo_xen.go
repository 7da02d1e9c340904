// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Time zones on xen. A domain has no /etc/localtime: Local is UTC unless the
// environment (env.TZ=... on the kernel command line) names a zone, which is then
// looked up like any LoadLocation: in zoneinfo files of the file system, if the
// image carries them, else in the tz database every xen program embeds (time/embed.go
// is built for xen, so time imports time/tzdata: go-xen/edits/std_tags.py).

package time

import "syscall"

var platformZoneSources = []string{
	"/usr/share/zoneinfo/",
}

func initLocal() {
	tz, _ := syscall.Getenv("TZ")
	if len(tz) > 0 && tz[0] == ':' {
		tz = tz[1:]
	}
	if tz != "" && tz != "UTC" {
		sources := platformZoneSources
		if tz[0] == '/' {
			sources = []string{""}
		}
		if z, err := loadLocation(tz, sources); err == nil {
			localLoc = *z
			localLoc.name = tz
			return
		}
	}
	localLoc.name = "UTC"
}
